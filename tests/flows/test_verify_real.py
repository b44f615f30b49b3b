"""deploy-model against real vLLM (CPU) serving all-MiniLM-L6-v2: a real verdict and real artifacts."""

import json
import os
from pathlib import Path

import pytest

from flows.deploy_model import deploy_model
from flows.params import BenchmarkLoad
from modelgate.verify import LatencyTargets

ENGINE_PYTHON = Path(os.environ.get("MODELGATE_ENGINE_PYTHON", "/work/main/.venv-engine/bin/python"))

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not ENGINE_PYTHON.exists(), reason=f"needs the vLLM environment at {ENGINE_PYTHON}; set MODELGATE_ENGINE_PYTHON"),
]


@pytest.mark.timeout(900)
def test_real_minilm_verdict_and_artifacts(monkeypatch, tmp_path, read_run_artifacts):
    monkeypatch.setenv("MODELGATE_ENGINE_PYTHON", str(ENGINE_PYTHON))
    monkeypatch.setenv("MODELGATE_WORK_DIR", str(tmp_path / "work"))
    targets = LatencyTargets(target_e2e_latency_ms={"value": 0.01, "statistic": "median"}, max_failure_rate=0)
    load = BenchmarkLoad(concurrency=4, num_requests=100, warmup_requests=4)

    state = deploy_model(model="all-MiniLM-L6-v2", load=load, targets=targets, return_state=True)
    result = state.result(raise_on_failure=False)
    artifacts = read_run_artifacts(state.state_details.flow_run_id)

    assert state.is_failed(), state.message
    assert state.message.startswith("all-MiniLM-L6-v2 failed 1 of 2 performance checks: median_e2el_ms = ")
    assert result.summary["completed"] == 100
    assert [row["status"] for row in json.loads(artifacts["bench-all-minilm-l6-v2-verdict"].data)] == ["fail", "pass"]
    assert "](data:image/png;base64," in artifacts["bench-all-minilm-l6-v2"].data
