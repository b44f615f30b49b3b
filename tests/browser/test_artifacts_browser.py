"""The run's artifacts as the Prefect UI shows them, checked in headless Chromium against a real server."""

import importlib.util
import shutil
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_artifacts_in_browser.py"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium: apt-get install -y chromium"),
]


def load_script():
    spec = importlib.util.spec_from_file_location("check_artifacts_in_browser", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(600)
def test_artifacts_render_in_browser(tmp_path, capsys):
    code = load_script().main(["--out", str(tmp_path)])
    output = capsys.readouterr().out
    assert code == 0, output
    assert (tmp_path / "report.png").stat().st_size > 10_000
