import asyncio
import pytest

from modelgate.errors import EngineNotInstalledError, EngineStartError, InvalidInputError
from modelgate.health import poll_health
from modelgate.models import resolve_model
from modelgate.runtime.local import LocalVllmRuntime, group_exists
from modelgate.settings import ModelgateSettings


@pytest.fixture
def runtime(fake_engine):
    return LocalVllmRuntime(ModelgateSettings(health_timeout_s=30, stop_timeout_s=5))


def start(runtime, model_dir, name="tiny", engine_args=()):
    resolved = resolve_model(str(model_dir), runtime.engine_python)
    return runtime.start(resolved, name, list(engine_args))


def test_started_engine_becomes_healthy(runtime, model_dir):
    server = start(runtime, model_dir)
    try:
        asyncio.run(poll_health(server.base_url, "tiny", window_s=10, poll_interval_s=0.1))
    finally:
        runtime.stop(server)


def test_engine_binds_loopback(runtime, model_dir):
    server = start(runtime, model_dir)
    runtime.stop(server)
    assert server.base_url.startswith("http://127.0.0.1:")


def test_stop_ends_process_group(runtime, model_dir):
    server = start(runtime, model_dir)
    runtime.stop(server)
    assert not group_exists(server.pid)


def test_crash_quotes_log_tail(runtime, model_dir, fake_engine):
    fake_engine.setenv("FAKE_ENGINE_CRASH", "1")
    with pytest.raises(EngineStartError, match="fake engine failed to load"):
        start(runtime, model_dir)


def test_crash_names_exit_code(runtime, model_dir, fake_engine):
    fake_engine.setenv("FAKE_ENGINE_CRASH", "1")
    with pytest.raises(EngineStartError, match="exited with code 1"):
        start(runtime, model_dir)


def test_reserved_flag_rejected(runtime, model_dir):
    with pytest.raises(InvalidInputError, match="--port=9000"):
        start(runtime, model_dir, engine_args=["--port=9000"])


def test_missing_engine_says_make_engine(monkeypatch, tmp_path):
    monkeypatch.setenv("MODELGATE_ENGINE_PYTHON", str(tmp_path / "no-python"))
    with pytest.raises(EngineNotInstalledError, match="make engine"):
        LocalVllmRuntime(ModelgateSettings()).check_installed()


def test_two_engines_get_distinct_ports(runtime, model_dir):
    first = start(runtime, model_dir, name="first")
    second = start(runtime, model_dir, name="second")
    runtime.stop(first)
    runtime.stop(second)
    assert first.port != second.port


def test_engine_binds_port_zero(runtime, model_dir):
    resolved = resolve_model(str(model_dir), runtime.engine_python)
    command = runtime.build_command(resolved, "tiny", 0, [])
    assert command[command.index("--port") + 1] == "0"
