"""A real `prefect server start` on SQLite, modelgate's work pools and deployments, and a process worker.

Everything binds to 127.0.0.1 and lives in a temporary PREFECT_HOME. The worker's flow runs
use the fake engine, so deploy-model takes its real local-runtime path against the vLLM double.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import FAKE_ENGINE
from tests.e2e.processes import BackgroundProcess, free_port, run_command, tail, wait_for

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROCESS_POOL = "e2e-process"
KUBERNETES_POOL = "e2e-gpu"

# Cold start with migrations took 13.6 s on a 2-core machine; a busy CI machine needs more.
SERVER_START_TIMEOUT_S = 120
WORKER_START_TIMEOUT_S = 60


@dataclass
class PrefectStack:
    """The running server and worker, and the environment that points commands at them."""

    api_url: str
    env: dict[str, str]
    server: BackgroundProcess
    worker: BackgroundProcess
    model_dir: Path

    def api(self) -> httpx.Client:
        """Return an HTTP client for the server's REST API."""
        return httpx.Client(base_url=self.api_url, timeout=30)

    def logs(self) -> str:
        """Return the tails of the worker and server logs, for failure messages."""
        return f"--- worker log ---\n{tail(self.worker.log_path)}\n--- server log ---\n{tail(self.server.log_path, 15)}"


def prefect_env(home: Path, api_url: str, port: int) -> dict[str, str]:
    """Return this process's environment pointed at the test server, with telemetry and UI off."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "MODELGATE_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_API_HOST="127.0.0.1",
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_WORKER_HEARTBEAT_SECONDS="5",
    )
    return env


def worker_online(api: httpx.Client) -> bool:
    """Return True once a worker of the process pool reports ONLINE."""
    response = api.post(f"/work_pools/{PROCESS_POOL}/workers/filter", json={})
    return response.is_success and any(worker["status"] == "ONLINE" for worker in response.json())


@pytest.fixture(scope="module")
def prefect_stack(tmp_path_factory):
    """Start the server, create the pools, deploy both deployments and start a worker."""
    root = tmp_path_factory.mktemp("prefect-e2e")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = prefect_env(root / "home", api_url, port)

    server = BackgroundProcess("prefect server", [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, root, root / "server.log")
    worker = None
    try:
        with httpx.Client(base_url=api_url, timeout=5) as api:

            def healthy() -> bool:
                server.check_running()
                try:
                    return api.get("/health").is_success
                except httpx.TransportError:
                    return False

            wait_for(healthy, SERVER_START_TIMEOUT_S, f"prefect server on {api_url} answering /api/health", lambda: tail(server.log_path))

        run_command(
            [sys.executable, "deployments/work_pools.py", "--process-pool", PROCESS_POOL, "--kubernetes-pool", KUBERNETES_POOL, "--project-dir", str(PROJECT_DIR)],
            env,
            PROJECT_DIR,
        )
        for name in ("deploy-model", "run-benchmark-local"):
            run_command([str(BIN / "prefect"), "--no-prompt", "deploy", "--name", name, "--pool", PROCESS_POOL], env, PROJECT_DIR)

        worker_env = {
            **env,
            "MODELGATE_ENGINE_PYTHON": FAKE_ENGINE,
            "FAKE_ENGINE_REAL_PYTHON": sys.executable,
            "MODELGATE_WORK_DIR": str(root / "work"),
            "MODELGATE_HEALTH_TIMEOUT_S": "60",
            "MODELGATE_BENCHMARK_TIMEOUT_S": "120",
        }
        worker = BackgroundProcess(
            "prefect worker",
            [str(BIN / "prefect"), "worker", "start", "--pool", PROCESS_POOL, "--name", "e2e-worker", "--type", "process"],
            worker_env,
            root,
            root / "worker.log",
        )
        with httpx.Client(base_url=api_url, timeout=5) as api:

            def online() -> bool:
                worker.check_running()
                return worker_online(api)

            wait_for(online, WORKER_START_TIMEOUT_S, f"a worker of pool {PROCESS_POOL} reporting ONLINE", lambda: tail(worker.log_path))

        model_dir = root / "tiny-embedder"
        model_dir.mkdir()
        (model_dir / "config.json").write_text("{}")
        yield PrefectStack(api_url=api_url, env=env, server=server, worker=worker, model_dir=model_dir)
    finally:
        if worker is not None:
            worker.stop(terms=2)
        server.stop()
