import json
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from blocks.targets import PerformanceTargets
from flows.deploy_model import deploy_model
from flows.params import BenchmarkLoad
from modelgate.verify import LatencyTargets

NAME = "Verify_Test"
KEYS = {
    "bench-verify-test",
    "bench-verify-test-summary",
    "bench-verify-test-verdict",
    "bench-verify-test-requests",
    "bench-verify-test-records",
    "bench-verify-test-progress",
}
LOAD = BenchmarkLoad(concurrency=2, num_requests=12, warmup_requests=1)


def run_flow(model_dir, targets, load=LOAD, **options):
    state = deploy_model(model=str(model_dir), served_model_name=NAME, load=load, targets=targets, return_state=True, **options)
    return state, state.result(raise_on_failure=False)


def test_passing_run_completes(fake_engine, model_dir, read_run_artifacts):
    state, result = run_flow(model_dir, LatencyTargets(target_e2e_latency_ms=5000))
    assert state.is_completed()
    assert result.verdict["passed"] is True
    assert set(read_run_artifacts(state.state_details.flow_run_id)) == KEYS


def test_progress_artifact_reaches_full(fake_engine, model_dir, read_run_artifacts):
    state, _ = run_flow(model_dir, LatencyTargets())
    progress = read_run_artifacts(state.state_details.flow_run_id)["bench-verify-test-progress"]
    assert progress.data == 100
    assert "12 of 12 requests done" in progress.description


def test_latency_miss_fails_run(fake_engine, model_dir, read_run_artifacts):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.02")
    state, result = run_flow(model_dir, LatencyTargets(target_e2e_latency_ms={"value": 1, "statistic": "p99"}))
    assert state.is_failed()
    assert state.message.startswith("Verify_Test failed 1 of 2 performance checks: p99_e2el_ms = ")
    assert "misses target 1 ms (allowed <= 1.50 with error_threshold 0.5)" in state.message
    assert result.summary["completed"] == 12
    assert set(read_run_artifacts(state.state_details.flow_run_id)) == KEYS


def test_failed_run_report_shows_fail(fake_engine, model_dir, read_run_artifacts):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.02")
    state, _ = run_flow(model_dir, LatencyTargets(target_e2e_latency_ms=1))
    artifacts = read_run_artifacts(state.state_details.flow_run_id)
    verdict_rows = json.loads(artifacts["bench-verify-test-verdict"].data)
    assert [row["status"] for row in verdict_rows] == ["fail", "pass"]
    assert "Verdict: **FAIL**: 1 check(s) failed." in artifacts["bench-verify-test"].data
    assert "](data:image/png;base64," in artifacts["bench-verify-test"].data


def test_all_requests_failed_run(fake_engine, model_dir, read_run_artifacts):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.5")
    load = BenchmarkLoad(concurrency=2, num_requests=4, warmup_requests=0, timeout_s=0.05)
    state, result = run_flow(model_dir, LatencyTargets(target_e2e_latency_ms=100), load=load)
    assert state.is_failed()
    assert "mean_e2el_ms could not be measured: all 4 requests failed (timeout: 4)" in state.message
    assert "failure_rate = 100.00% (4 of 4 requests) exceeds the limit of 1.00%" in state.message
    assert result.summary["failed"] == 4
    assert "No plot" in read_run_artifacts(state.state_details.flow_run_id)["bench-verify-test"].data


def test_threshold_parameter_overrides_targets(fake_engine, model_dir):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.02")
    state, result = run_flow(model_dir, LatencyTargets(target_e2e_latency_ms=10, error_threshold=0), error_threshold=10)
    assert state.is_completed()
    assert result.verdict["checks"][0]["allowed"] == pytest.approx(110)


def test_records_link_holds_every_request(fake_engine, model_dir, read_run_artifacts):
    state, _ = run_flow(model_dir, LatencyTargets())
    link = read_run_artifacts(state.state_details.flow_run_id)["bench-verify-test-records"].data
    path = Path(urlparse(link.split("](", 1)[1].rstrip(")")).path)
    assert len(pd.read_parquet(path)) == 12


def test_targets_from_block_name(fake_engine, model_dir):
    PerformanceTargets(target_e2e_latency_ms={"value": 0.001, "statistic": "median"}).save("verify-test-strict", overwrite=True)
    state, _ = run_flow(model_dir, "verify-test-strict")
    assert state.is_failed()
    assert "median_e2el_ms = " in state.message


def test_unknown_block_fails_first(fake_engine, model_dir, tmp_path):
    state, _ = run_flow(model_dir, "no-such-targets")
    assert state.is_failed()
    assert "performance targets block 'no-such-targets' was not found" in state.message
    assert not (tmp_path / "work").exists()
