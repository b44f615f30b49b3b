"""A flow process stopped with SIGTERM (how a worker cancels a run) must not leave its engine behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from prefect.settings import PREFECT_API_URL

from modelgate.runtime.local import group_exists

REPO = Path(__file__).resolve().parents[2]

FLOW_SCRIPT = """
import sys
from flows.deploy_model import deploy_model
deploy_model(model=sys.argv[1], served_model_name="cancelled")
"""


def engine_pids(marker: str) -> list[int]:
    """Return the pids whose command line contains `marker` (the test's unique model folder)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in command and "serve_double" in command:
            pids.append(int(entry))
    return pids


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {seconds:.0f} s")


def test_sigterm_stops_engine(fake_engine, model_dir):
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), FAKE_ENGINE_READY_AFTER_S="120")
    flow_process = subprocess.Popen([sys.executable, "-c", FLOW_SCRIPT, str(model_dir)], cwd=REPO, env=env)
    try:
        engine_pid = wait_for(lambda: engine_pids(str(model_dir)), 60, "the engine start")[0]
        time.sleep(2)  # let the flow reach the health wait

        flow_process.send_signal(signal.SIGTERM)
        flow_process.wait(timeout=60)
    finally:
        if flow_process.poll() is None:
            flow_process.kill()

    wait_for(lambda: not group_exists(engine_pid), 30, "the engine's process group exit after SIGTERM to the flow")
    assert not group_exists(engine_pid)
