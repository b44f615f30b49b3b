"""Shared fixtures: vLLM test doubles over real HTTP, and no telemetry from Prefect."""

import os

# Set before anything imports Prefect: otherwise its servers try to reach outside hosts.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import pytest

from tests.doubles.vllm_like import RunningDouble, VllmLikeConfig


@pytest.fixture
def embedding_server():
    """A vLLM double serving an embedding model named `test-model`."""
    with RunningDouble(VllmLikeConfig(kind="embedding")) as server:
        yield server


@pytest.fixture
def chat_server():
    """A vLLM double serving a chat model named `test-model`."""
    with RunningDouble(VllmLikeConfig(kind="chat")) as server:
        yield server


@pytest.fixture
def unused_port_url():
    """A URL on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


FAKE_ENGINE = os.path.join(os.path.dirname(__file__), "doubles", "fake_engine_python")


@pytest.fixture
def fake_engine(monkeypatch, tmp_path):
    """Point the local runtime at the fake engine interpreter, which serves the vLLM double."""
    import sys

    monkeypatch.setenv("MODELGATE_ENGINE_PYTHON", FAKE_ENGINE)
    monkeypatch.setenv("MODELGATE_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("FAKE_ENGINE_REAL_PYTHON", sys.executable)
    return monkeypatch


@pytest.fixture
def model_dir(tmp_path):
    """A folder that passes the model-folder check (it has a config.json)."""
    folder = tmp_path / "tiny-embedder"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One temporary Prefect server and result storage folder for the whole session (about 12 s to start).

    Yields the result storage folder.
    """
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    storage = tmp_path_factory.mktemp("prefect-storage")
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: storage}):
        with prefect_test_harness(server_startup_timeout=120):
            yield storage


@pytest.fixture(scope="module")
def monkeypatch_module():
    """A monkeypatch that lasts for one test module, for module-scoped fixtures."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture
def read_run_artifacts():
    """Return a function that reads a flow run's artifacts as {key: artifact}."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    def read(flow_run_id):
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        # Keyless artifacts, such as Prefect's record of a persisted flow result, cannot be looked up by key.
        return {artifact.key: artifact for artifact in artifacts if artifact.key}

    return read
