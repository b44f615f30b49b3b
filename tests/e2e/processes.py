"""Background processes for end-to-end tests: started with a log file, stopped by PID, waited on with bounds."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    """Return the last lines of a log file, or a note that it is missing."""
    if not path.exists():
        return f"(no log at {path})"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_for(condition: Callable[[], T | None], timeout_s: float, awaited: str, details: Callable[[], str] = lambda: "", interval_s: float = 0.5) -> T:
    """Poll `condition` until it returns a truthy value, and fail naming what did not happen in time.

    Args:
        condition: returns the awaited value, or None/False while it is not there yet.
        timeout_s: upper bound of the wait in seconds.
        awaited: the awaited event, phrased to complete "... did not happen within N s".
        details: returns text for the failure message, such as a log tail.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{awaited} did not happen within {timeout_s:.0f} s\n{details()}")
        time.sleep(interval_s)


class BackgroundProcess:
    """A command running in its own session, its output in a log file, stopped only by its PID."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.process.pid

    def check_running(self) -> None:
        """Fail with the log tail when the process has exited."""
        code = self.process.poll()
        if code is not None:
            raise AssertionError(f"{self.name} (pid {self.pid}) exited with {code}\n{tail(self.log_path)}")

    def stop(self, terms: int = 1, grace_s: float = 2.0, timeout_s: float = 20.0) -> None:
        """Send SIGTERM `terms` times, `grace_s` apart, then SIGKILL if it is still alive after `timeout_s`.

        A Prefect worker turns its first SIGTERM into a graceful shutdown that can take minutes;
        the second one makes it kill itself, so workers are stopped with terms=2.
        """
        for attempt in range(terms):
            if self.process.poll() is not None:
                break
            os.kill(self.pid, signal.SIGTERM)
            if attempt + 1 < terms:
                self._wait(grace_s)
        if not self._wait(timeout_s):
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log.close()

    def _wait(self, seconds: float) -> bool:
        try:
            self.process.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False


def run_command(argv: list[str], env: dict[str, str], cwd: Path, timeout_s: float = 90.0) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; fail with its output when it exits non-zero or runs too long."""
    try:
        completed = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"{' '.join(argv)} did not finish within {timeout_s:.0f} s\n{error.stdout}\n{error.stderr}") from None
    if completed.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {completed.returncode}\n{completed.stdout}\n{completed.stderr}")
    return completed

