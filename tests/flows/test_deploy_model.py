"""deploy_model on the local runtime, with the fake engine serving the vLLM double over real HTTP."""

import pytest
from prefect.artifacts import Artifact

from flows.deploy_model import deploy_model
from flows.params import BenchmarkLoad
from modelgate.runtime.local import _STARTED, group_exists
from modelgate.verify import LatencyTargets

SMALL_LOAD = BenchmarkLoad(concurrency=2, num_requests=10, warmup_requests=1)


def run(model_dir, served_model_name, **parameters):
    parameters.setdefault("load", SMALL_LOAD)
    return deploy_model(model=str(model_dir), served_model_name=served_model_name, return_state=True, **parameters)


def test_embedding_run_completes(fake_engine, model_dir):
    state = run(model_dir, "emb-pass", targets=LatencyTargets(target_e2e_latency_ms=10_000))
    assert state.is_completed()


def test_result_has_model_type(fake_engine, model_dir):
    result = run(model_dir, "emb-type").result()
    assert result.model_type == "embedding"


def test_result_has_endpoint_map(fake_engine, model_dir):
    result = run(model_dir, "emb-map").result()
    assert result.endpoints["/v1/embeddings"] is True
    assert result.endpoints["/v1/chat/completions"] is False


def test_result_counts_requests(fake_engine, model_dir):
    result = run(model_dir, "emb-count").result()
    assert result.summary["completed"] == 10


def test_artifacts_are_saved(fake_engine, model_dir):
    run(model_dir, "emb-artifacts")
    for key in ("bench-emb-artifacts-summary", "bench-emb-artifacts-requests", "bench-emb-artifacts"):
        assert Artifact.get(key) is not None, key


def test_missed_target_fails_run(fake_engine, model_dir):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.05")
    state = run(model_dir, "emb-slow", targets=LatencyTargets(target_e2e_latency_ms=1))
    assert state.is_failed()


def test_missed_target_message_names_metric(fake_engine, model_dir):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.05")
    state = run(model_dir, "emb-slow-message", targets=LatencyTargets(target_e2e_latency_ms=1))
    assert "mean_e2el_ms" in state.message
    assert "misses target 1 ms (allowed <= 1.50" in state.message


def test_missed_target_keeps_figures(fake_engine, model_dir):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.05")
    state = run(model_dir, "emb-slow-figures", targets=LatencyTargets(target_e2e_latency_ms=1))
    result = state.result(raise_on_failure=False)
    assert result.summary["mean_e2el_ms"] >= 50


def test_missed_target_still_saves_artifacts(fake_engine, model_dir):
    fake_engine.setenv("FAKE_ENGINE_LATENCY_S", "0.05")
    run(model_dir, "emb-slow-artifacts", targets=LatencyTargets(target_e2e_latency_ms=1))
    assert Artifact.get("bench-emb-slow-artifacts-summary") is not None


def test_engine_stopped_after_run(fake_engine, model_dir):
    result = run(model_dir, "emb-stopped").result()
    assert not group_exists(result.engine_pid)


def test_engine_stopped_after_failure(fake_engine, model_dir):
    fake_engine.setenv("FAKE_ENGINE_KIND", "chat")
    run(model_dir, "chat-stopped")
    running = [pid for pid, process in _STARTED.items() if process.poll() is None]
    assert running == []


def test_missing_model_path_fails_before_start(fake_engine, tmp_path):
    missing = tmp_path / "absent-model"
    state = run(missing, "absent")
    assert str(missing) in state.message


def test_engine_crash_reports_log_tail(fake_engine, model_dir):
    fake_engine.setenv("FAKE_ENGINE_CRASH", "1")
    state = run(model_dir, "crashing")
    assert "fake engine failed to load the model" in state.message


def test_chat_model_is_llm(fake_engine, model_dir):
    fake_engine.setenv("FAKE_ENGINE_KIND", "chat")
    state = run(model_dir, "chat-model")
    assert "llm model" in state.message


@pytest.mark.parametrize("bad", [{"concurrency": 0}, {"num_requests": -1}, {"unknown": 1}])
def test_bad_load_rejected(fake_engine, model_dir, bad):
    with pytest.raises(Exception, match="load"):
        deploy_model(model=str(model_dir), load=bad)
