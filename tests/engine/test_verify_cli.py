import json

import pytest

from modelgate.cli.main import main

SUMMARY = {"model_type": "embedding", "sent": 100, "completed": 100, "failed": 0, "mean_e2el_ms": 40.0, "p99_e2el_ms": 90.0}


@pytest.fixture
def summary_file(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(SUMMARY))
    return path


def write_targets(tmp_path, targets, name="targets.json"):
    path = tmp_path / name
    path.write_text(json.dumps(targets) if name.endswith(".json") else targets)
    return path


def test_verify_pass_exits_zero(tmp_path, summary_file, capsys):
    code = main(["verify", str(summary_file), "--targets", str(write_targets(tmp_path, {"target_e2e_latency_ms": 50}))])
    assert code == 0
    assert "verdict: pass" in capsys.readouterr().out


def test_verify_fail_exits_one(tmp_path, summary_file, capsys):
    targets = write_targets(tmp_path, {"target_e2e_latency_ms": {"value": 50, "statistic": "p99"}})
    code = main(["verify", str(summary_file), "--targets", str(targets)])
    assert code == 1
    assert "p99_e2el_ms = 90.00 ms misses target 50 ms" in capsys.readouterr().out


def test_verify_json_output(tmp_path, summary_file, capsys):
    main(["verify", str(summary_file), "--targets", str(write_targets(tmp_path, {})), "--json"])
    assert json.loads(capsys.readouterr().out)["passed"] is True


def test_verify_reads_yaml(tmp_path, summary_file):
    targets = write_targets(tmp_path, "target_e2e_latency_ms:\n  value: 10\n  statistic: median\n", name="targets.yaml")
    assert main(["verify", str(summary_file), "--targets", str(targets)]) == 1


def test_verify_threshold_option(tmp_path, summary_file):
    targets = write_targets(tmp_path, {"target_e2e_latency_ms": 30})
    assert main(["verify", str(summary_file), "--targets", str(targets), "--error-threshold", "0"]) == 1


def test_verify_unknown_field_named(tmp_path, summary_file, capsys):
    code = main(["verify", str(summary_file), "--targets", str(write_targets(tmp_path, {"target_ttft": 5}))])
    assert code == 2
    assert "target_ttft: Extra inputs are not permitted" in capsys.readouterr().err


def test_verify_missing_summary(tmp_path, capsys):
    code = main(["verify", str(tmp_path / "none.json"), "--targets", str(write_targets(tmp_path, {}))])
    assert code == 2
    assert "cannot be read" in capsys.readouterr().err


def test_verify_needs_model_type(tmp_path, capsys):
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"completed": 1, "failed": 0}))
    code = main(["verify", str(summary), "--targets", str(write_targets(tmp_path, {}))])
    assert code == 2
    assert "pass --model-type" in capsys.readouterr().err


def test_verify_requests_fill_missing_statistic(tmp_path, summary_file, capsys):
    import pandas as pd

    records = tmp_path / "requests.parquet"
    pd.DataFrame({"success": [True, True], "e2el_ms": [10.0, 20.0]}).to_parquet(records)
    targets = write_targets(tmp_path, {"target_e2e_latency_ms": {"value": 100, "statistic": "median"}})
    assert main(["verify", str(summary_file), "--targets", str(targets), "--requests", str(records)]) == 0
    assert "median_e2el_ms = 15.00 ms" in capsys.readouterr().out


BENCH_ARGS = ["--num-requests", "20", "--concurrency", "2", "--warmup-requests", "1"]


def test_bench_targets_fail_exits_one(tmp_path, embedding_server, capsys):
    embedding_server.config.latency_s = 0.01
    targets = write_targets(tmp_path, {"target_e2e_latency_ms": 1, "error_threshold": 0})
    code = main(["bench", embedding_server.base_url, *BENCH_ARGS, "--targets", str(targets), "--json"])
    assert code == 1
    assert json.loads(capsys.readouterr().out)["verdict"]["passed"] is False


def test_bench_targets_pass_exits_zero(tmp_path, embedding_server, capsys):
    code = main(["bench", embedding_server.base_url, *BENCH_ARGS, "--targets", str(write_targets(tmp_path, {"target_e2e_latency_ms": 5000}))])
    assert code == 0
    assert "verdict: pass" in capsys.readouterr().out


def test_bench_bad_targets_before_load(tmp_path, embedding_server):
    code = main(["bench", embedding_server.base_url, *BENCH_ARGS, "--targets", str(write_targets(tmp_path, {"target": 1}))])
    assert code == 2
    assert embedding_server.config.requests == []
