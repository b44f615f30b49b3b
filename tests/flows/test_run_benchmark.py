"""The run-benchmark flow, and the checks deploy-model makes before it submits a benchmark deployment."""

import pytest
from prefect.artifacts import Artifact

from flows.deploy_model import deploy_model
from flows.params import BenchmarkLoad
from flows.run_benchmark import check_benchmark_deployment, run_benchmark_flow
from modelgate.errors import InvalidInputError
from modelgate.runtime.local import _STARTED, group_exists

SMALL_LOAD = BenchmarkLoad(concurrency=2, num_requests=6, warmup_requests=1)


def test_flow_returns_summary(embedding_server):
    result = run_benchmark_flow(embedding_server.base_url, "test-model", "embedding", SMALL_LOAD)

    assert result["summary"]["completed"] == 6


def test_flow_saves_artifacts(embedding_server):
    result = run_benchmark_flow(embedding_server.base_url, "test-model", "embedding", SMALL_LOAD)

    saved = [result["artifact_keys"][kind] for kind in ("report", "summary", "requests")]

    assert [key for key in saved if Artifact.get(key) is None] == []


def test_flow_rejects_bare_host():
    state = run_benchmark_flow("127.0.0.1:8000", "test-model", "embedding", SMALL_LOAD, return_state=True)

    assert state.is_failed()
    assert "base_url" in state.message


def test_missing_deployment_named():
    with pytest.raises(InvalidInputError, match="'run-benchmark/nowhere' not found"):
        check_benchmark_deployment("run-benchmark/nowhere", "http://127.0.0.1:8000")


def test_deployment_name_needs_flow():
    with pytest.raises(InvalidInputError, match="flow/deployment"):
        check_benchmark_deployment("run-benchmark", "http://127.0.0.1:8000")


def test_missing_deployment_fails_run(fake_engine, model_dir):
    state = deploy_model(
        model=str(model_dir), served_model_name="emb-remote", load=SMALL_LOAD, benchmark_deployment="run-benchmark/nowhere", return_state=True
    )

    assert state.is_failed()
    assert "'run-benchmark/nowhere' not found" in state.message


def test_missing_deployment_stops_engine(fake_engine, model_dir):
    deploy_model(
        model=str(model_dir), served_model_name="emb-remote-stop", load=SMALL_LOAD, benchmark_deployment="run-benchmark/nowhere", return_state=True
    )

    assert [pid for pid in _STARTED if group_exists(pid)] == []
