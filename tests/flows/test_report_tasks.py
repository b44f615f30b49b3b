import time

import pandas as pd
from prefect import flow

from flows.report_tasks import ArtifactKeys, BenchmarkProgress, plot_limits, save_results
from modelgate.bench.embeddings import BenchmarkResult
from modelgate.verify import LatencyTargets, verify_latency


def read_latest(key):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    return max(artifacts, key=lambda artifact: artifact.created)


def test_progress_updates_while_running():
    seen = {}

    @flow
    def fake_benchmark():
        with BenchmarkProgress("progress-test", total=10, interval_s=0.1) as progress:
            progress(5, 10)
            time.sleep(1.0)
            seen["middle"] = read_latest("bench-progress-test-progress").data
            progress(10, 10)

    fake_benchmark()
    assert seen["middle"] == 50
    assert read_latest("bench-progress-test-progress").data == 100


def test_keys_lowercase_dashes():
    keys = ArtifactKeys.for_name("Org/My_Model.v2")
    assert keys.report == "bench-org-my-model-v2"
    assert keys.verdict == "bench-org-my-model-v2-verdict"


def test_records_failure_keeps_report(monkeypatch):
    import flows.report_tasks as report_tasks

    def broken_storage(name, parquet):
        raise OSError("disk full")

    monkeypatch.setattr(report_tasks, "write_records", broken_storage)
    frame = pd.DataFrame({"request": [0, 1], "e2el_ms": [5.0, 6.0], "success": [True, True]})
    result = BenchmarkResult(summary={"sent": 2, "completed": 2, "failed": 0, "mean_e2el_ms": 5.5}, requests=frame)

    @flow
    def save():
        return save_results("records-broken", "embedding", {}, {}, result, None)

    keys = save()
    report = read_latest(keys.report).data
    assert "The per-request records were not written: disk full" in report
    assert "](data:image/png;base64," in report


def test_plot_limits_from_latency_checks():
    summary = {"sent": 1, "completed": 1, "failed": 0, "p99_e2el_ms": 5.0}
    verdict = verify_latency(summary, LatencyTargets(target_e2e_latency_ms={"value": 10, "statistic": "p99"}), "embedding")
    assert plot_limits(verdict) == {"e2el_ms": 15.0}
