"""Real-tier tests start a real vLLM CPU server; they need the engine environment (`make engine`)."""

import subprocess

import pytest

from modelgate.settings import ModelgateSettings


@pytest.fixture(scope="session")
def engine_python():
    """The engine interpreter; the test fails (not skips) when vLLM is missing, so CI cannot pass silently."""
    python = ModelgateSettings().resolve_engine_python()
    check = subprocess.run([str(python), "-c", "import vllm"], capture_output=True, timeout=120, check=False)
    if check.returncode != 0:
        pytest.fail(f"vLLM is not importable by {python}; run `make engine` or set MODELGATE_ENGINE_PYTHON")
    return python


@pytest.fixture(autouse=True)
def _real_uses_harness(prefect_harness):
    yield
