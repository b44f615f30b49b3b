"""The helm fetch script: a second run with the binaries in place downloads nothing."""

import subprocess
import sys

from tests.kube.conftest import REPO

TOOLS = REPO / ".modelgate" / "tools"


def fetch():
    completed = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "get_helm.py"), "--dest", str(TOOLS)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_second_fetch_reuses_binaries():
    fetch()
    before = (TOOLS / "helm").stat().st_mtime_ns
    fetch()
    assert (TOOLS / "helm").stat().st_mtime_ns == before


def test_fetch_prints_helm_path():
    assert fetch() == str(TOOLS / "helm")


def test_fetched_helm_runs():
    fetch()
    completed = subprocess.run([str(TOOLS / "helm"), "version", "--short"], capture_output=True, text=True, timeout=30, check=False)
    assert completed.stdout.startswith("v4.")
