"""deploy_model called with the original system's request, and the original's result fields."""

from flows.deploy_model import deploy_model
from flows.params import BenchmarkLoad
from flows.request import DeployRequest
from modelgate.runtime.local import _STARTED

SMALL_LOAD = BenchmarkLoad(num_requests=10, warmup_requests=1)


def run_request(model_dir, **fields):
    request = DeployRequest(model=str(model_dir), **fields)
    return deploy_model(load=SMALL_LOAD, request=request, return_state=True)


def test_request_run_completes(fake_engine, model_dir):
    state = run_request(model_dir, endpoint_name="orig-pass", concurrency=2, target_e2e_latency=10_000)

    assert state.is_completed()


def test_request_sets_served_name(fake_engine, model_dir):
    result = run_request(model_dir, endpoint_name="orig-name", concurrency=2).result()

    assert result.served_model_name == "orig-name"


def test_request_sets_concurrency(fake_engine, model_dir):
    result = run_request(model_dir, endpoint_name="orig-load", concurrency=3).result()

    assert result.summary["concurrency"] == 3


def test_result_has_original_fields(fake_engine, model_dir):
    result = run_request(model_dir, endpoint_name="orig-fields", concurrency=2, target_e2e_latency=10_000).result()

    assert "/v1/embeddings" in result.supported_endpoints
    assert result.supported_endpoints == [path for path, supported in result.endpoints.items() if supported]
    assert result.deployment_url == result.base_url
    assert result.model_type == "embedding"
    assert result.benchmark_status is True
    assert result.performance_status is True


def test_missed_target_performance_false(fake_engine, model_dir):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.05")
    state = run_request(model_dir, endpoint_name="orig-slow", concurrency=2, target_e2e_latency=1)
    result = state.result(raise_on_failure=False)

    assert state.is_failed()
    assert result.benchmark_status is True
    assert result.performance_status is False


def test_cluster_id_uses_cluster_block(fake_engine, model_dir):
    # cluster_id selects the Kubernetes runtime; no block of that name is saved, so the run fails
    # naming it before any local engine starts.
    started_before = len(_STARTED)
    state = run_request(model_dir, endpoint_name="orig-cluster", cluster_id="gpu-cluster")

    assert state.is_failed()
    assert "gpu-cluster" in state.message
    assert len(_STARTED) == started_before
