"""deploy_model end to end on a real vLLM CPU server with all-MiniLM-L6-v2 from its PyPI package."""

import pytest
from prefect.artifacts import Artifact

from flows.deploy_model import deploy_model
from flows.params import BenchmarkLoad
from modelgate.runtime.local import group_exists
from modelgate.verify import LatencyTargets

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def minilm_run(engine_python, prefect_harness, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("MODELGATE_ENGINE_PYTHON", str(engine_python))
    monkeypatch_module.setenv("MODELGATE_WORK_DIR", str(tmp_path_factory.mktemp("work")))
    # A generous target: this checks that a verdict is reached on real numbers, not the machine's speed.
    return deploy_model(
        model="all-MiniLM-L6-v2",
        load=BenchmarkLoad(concurrency=4, num_requests=60, batch_size=2),
        targets=LatencyTargets(target_e2e_latency_ms=5_000),
        return_state=True,
    )


def test_real_run_completes(minilm_run):
    assert minilm_run.is_completed(), minilm_run.message


def test_real_model_is_embedding(minilm_run):
    assert minilm_run.result().model_type == "embedding"


def test_real_chat_is_unsupported(minilm_run):
    assert minilm_run.result().endpoints["/v1/chat/completions"] is False


def test_real_requests_all_complete(minilm_run):
    assert minilm_run.result().summary["completed"] == 60


def test_real_input_tokens_from_usage(minilm_run):
    assert minilm_run.result().summary["total_input_tokens"] > 60 * 2 * 32


def test_real_verdict_passes(minilm_run):
    assert minilm_run.result().verdict["passed"] is True


def test_real_summary_artifact_saved(minilm_run):
    assert Artifact.get("bench-all-minilm-l6-v2-summary") is not None


def test_real_engine_stopped(minilm_run):
    assert not group_exists(minilm_run.result().engine_pid)
