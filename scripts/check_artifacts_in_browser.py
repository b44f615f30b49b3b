"""Open a deploy-model run's artifacts in headless Chromium against a real Prefect server, and check them.

The script starts `prefect server start` with SQLite in a temporary PREFECT_HOME, on 127.0.0.1, with
analytics off and the UI on. It runs the deploy-model flow against the vLLM test double
(tests/doubles/fake_engine_python) with one target that fails. Then it opens the flow run and its
report, verdict and summary artifacts in Debian's chromium, saves a full-page screenshot of each, and
checks that the tables and the latency plot rendered.
Every process it starts is stopped by its PID; every wait is bounded.

Usage: `python scripts/check_artifacts_in_browser.py --out DIR` (exit 0 when every check passed).
Needs `chromium` on PATH (`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=1400,1000",
]

# Runs in the page: how many tables and rows rendered, and whether each image decoded.
PAGE_STATE_JS = """JSON.stringify({
  url: location.href,
  tables: Array.from(document.querySelectorAll('table')).map(t => ({
    headers: Array.from(t.querySelectorAll('th')).map(th => th.innerText.trim().toLowerCase()),
    rows: t.querySelectorAll('tbody tr').length,
  })),
  images: Array.from(document.querySelectorAll('img')).map(img => ({
    data_uri: img.src.startsWith('data:image/png'), complete: img.complete, width: img.naturalWidth,
  })),
  text: document.body.innerText.slice(0, 20000),
})"""

FLOW_SCRIPT = """
import json, sys
from flows.deploy_model import deploy_model
from flows.params import BenchmarkLoad
from modelgate.verify import LatencyTargets

targets = LatencyTargets(target_e2e_latency_ms={"value": 5, "statistic": "p99"}, error_threshold=0)
state = deploy_model(model=sys.argv[1], served_model_name="browser-check", load=BenchmarkLoad(concurrency=4, num_requests=300, warmup_requests=2),
                     targets=targets, return_state=True)
print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "state": state.name, "message": state.message}))
"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(event: str, check, timeout_s: float, interval_s: float = 0.5) -> Any:
    """Poll `check()` until it returns a truthy value; raise TimeoutError naming `event` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval_s)
    raise TimeoutError(f"{event} did not happen within {timeout_s:.0f} s")


@contextmanager
def started(command: list[str], log_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """Start `command` in its own process group and stop that group (by the child's PID) on exit."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def prefect_environment(home: Path, port: int) -> dict[str, str]:
    """Return the environment of the server and the flow: temporary home, loopback, no telemetry."""
    api_url = f"http://127.0.0.1:{port}/api"
    return {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_API_URL": api_url,
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),
        "DO_NOT_TRACK": "1",
    }


def run_flow(env: dict[str, str], work: Path) -> dict[str, Any]:
    """Run deploy-model against the test double and return its flow run id, state name and message."""
    model = work / "tiny-embedder"
    model.mkdir(exist_ok=True)
    (model / "config.json").write_text("{}")
    flow_env = {
        **env,
        "MODELGATE_ENGINE_PYTHON": str(ROOT / "tests" / "doubles" / "fake_engine_python"),
        "FAKE_ENGINE_REAL_PYTHON": sys.executable,
        "FAKE_ENGINE_LATENCY_S": "0.01",
        "MODELGATE_WORK_DIR": str(work / "modelgate"),
    }
    completed = subprocess.run(
        [sys.executable, "-c", FLOW_SCRIPT, str(model)], cwd=ROOT, env=flow_env, capture_output=True, text=True, timeout=300, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the flow process exited {completed.returncode}:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def read_artifacts(api_url: str, flow_run_id: str) -> dict[str, dict[str, Any]]:
    """Return the flow run's artifacts by key, from the REST API."""
    body = {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}}
    response = httpx.post(f"{api_url}/artifacts/filter", json=body, timeout=30)
    response.raise_for_status()
    return {artifact["key"]: artifact for artifact in response.json()}


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, websocket_url: str) -> None:
        self.socket = connect(websocket_url, max_size=64 * 1024 * 1024, open_timeout=30)
        self.next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result, skipping the events that arrive meanwhile."""
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message["result"]

    def page_state(self) -> dict[str, Any]:
        """Return the tables, images and text the page shows now."""
        result = self.call("Runtime.evaluate", expression=PAGE_STATE_JS, returnByValue=True)
        if "exceptionDetails" in result or "value" not in result["result"]:
            return {"url": "", "tables": [], "images": [], "text": ""}  # the page is still loading (no document body yet)
        return json.loads(result["result"]["value"])

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the whole page, beyond the viewport."""
        # The UI scrolls an inner container, not the document, so the tallest scroll height is the page length.
        expression = "Math.max(...Array.from(document.querySelectorAll('*')).map(e => e.scrollHeight))"
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"]
        height = int(min(result.get("value") or 1000, 12000))
        self.call("Emulation.setDeviceMetricsOverride", width=1400, height=max(height, 1000), deviceScaleFactor=1, mobile=False)
        time.sleep(0.5)
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        self.call("Emulation.clearDeviceMetricsOverride")


def open_browser(stack: ExitStack, work: Path) -> DevTools:
    """Start headless chromium with a fresh profile and return a DevTools client on its first page."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise FileNotFoundError("chromium is not installed; install it with `apt-get install -y chromium`")
    profile = work / "chromium-profile"
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"]
    stack.enter_context(started(command, work / "chromium.log", dict(os.environ)))

    port_file = profile / "DevToolsActivePort"
    wait_for("chromium writing its DevTools port", port_file.exists, 60)
    port = int(wait_for("the DevTools port", lambda: port_file.read_text().split("\n")[0].strip(), 10))
    pages = wait_for("a chromium page", lambda: [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json() if t["type"] == "page"], 30)
    devtools = DevTools(pages[0]["webSocketDebuggerUrl"])
    stack.callback(devtools.socket.close)
    devtools.call("Page.enable")
    devtools.call("Runtime.enable")
    return devtools


CLICK_ARTIFACTS_TAB_JS = """(() => {
  const tab = Array.from(document.querySelectorAll('*')).find(e => e.children.length === 0 && e.textContent.trim() === 'Artifacts');
  if (tab) tab.click();
  return Boolean(tab);
})()"""


def visit(devtools: DevTools, url: str, ready, event: str, screenshot: Path, before=None) -> dict[str, Any]:
    """Open `url`, run `before()` if given, wait until `ready(page_state)` holds, save a screenshot, return the state."""
    devtools.call("Page.navigate", url=url)
    # Until the navigation commits, the evaluation runs in the previous page, so compare the URL.
    wait_for(f"navigation to {url}", lambda: devtools.page_state()["url"] == url, 60, interval_s=0.5)
    if before is not None:
        before()
    try:
        state = wait_for(event, lambda: (lambda s: s if ready(s) else None)(devtools.page_state()), 60, interval_s=1)
    finally:
        devtools.screenshot(screenshot)
    return state


def check_pages(base_url: str, devtools: DevTools, artifacts: dict[str, dict[str, Any]], flow_run_id: str, out: Path) -> list[str]:
    """Visit the flow run and its artifacts; return one line per check, prefixed with ok or FAIL."""
    results: list[str] = []

    def record(passed: bool, text: str) -> None:
        results.append(f"{'ok  ' if passed else 'FAIL'} {text}")

    report = artifacts["bench-browser-check"]
    state = visit(
        devtools,
        f"{base_url}/artifacts/artifact/{report['id']}",
        lambda s: any(image["data_uri"] and image["complete"] for image in s["images"]) and len(s["tables"]) >= 3,
        "the markdown report rendering its plot and tables",
        out / "report.png",
    )
    plots = [image for image in state["images"] if image["data_uri"]]
    record(bool(plots) and plots[0]["width"] > 0, f"report plot decoded as an image ({plots[0]['width'] if plots else 0} px wide)")
    record(len(state["tables"]) >= 4, f"report shows {len(state['tables'])} tables (endpoints, figures, latency, verdict)")
    record("Verdict: FAIL" in state["text"], "report headline shows the failed verdict")

    verdict = artifacts["bench-browser-check-verdict"]
    state = visit(
        devtools,
        f"{base_url}/artifacts/artifact/{verdict['id']}",
        lambda s: any(table["rows"] for table in s["tables"]),
        "the verdict table rendering",
        out / "verdict.png",
    )
    headers = state["tables"][0]["headers"]
    expected = ["metric", "statistic", "measured", "target", "allowed", "status"]
    record(all(name in headers for name in expected), f"verdict table headers {headers}")
    record(state["tables"][0]["rows"] == len(json.loads(verdict["data"])), f"verdict table shows {state['tables'][0]['rows']} rows")

    summary = artifacts["bench-browser-check-summary"]
    state = visit(
        devtools, f"{base_url}/artifacts/artifact/{summary['id']}", lambda s: any(t["rows"] for t in s["tables"]), "the summary table rendering", out / "summary.png"
    )
    record("mean_e2el_ms" in state["text"], "summary table lists mean_e2el_ms")

    def open_artifacts_tab() -> None:
        # The tab strip renders after the flow run loads; a ?tab= query given before that falls back to Logs.
        wait_for(
            "the flow run's Artifacts tab",
            lambda: devtools.call("Runtime.evaluate", expression=CLICK_ARTIFACTS_TAB_JS, returnByValue=True)["result"].get("value"),
            60,
            interval_s=1,
        )

    state = visit(
        devtools,
        f"{base_url}/runs/flow-run/{flow_run_id}",
        lambda s: "Latency verdict of browser-check" in s["text"],
        "the flow run's Artifacts tab listing the verdict",
        out / "flow-run-artifacts.png",
        before=open_artifacts_tab,
    )
    record("Benchmark report of browser-check" in state["text"], "flow run's Artifacts tab lists the report")
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the whole check; print one line per check and exit 0 when all passed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("browser-check"), help="folder for the screenshots and logs (default ./browser-check)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="modelgate-browser-") as temporary, ExitStack() as stack:
        work = Path(temporary)
        port = free_port()
        env = prefect_environment(work / "prefect-home", port)
        base_url = f"http://127.0.0.1:{port}"
        server_command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port), "--analytics-off"]
        stack.enter_context(started(server_command, args.out / "prefect-server.log", env))
        wait_for("the Prefect server answering /api/health", lambda: _healthy(base_url), 120)

        run = run_flow(env, work)
        print(f"flow run {run['flow_run_id']}: {run['state']}: {run['message']}")
        artifacts = read_artifacts(env["PREFECT_API_URL"], run["flow_run_id"])
        devtools = open_browser(stack, work)
        results = check_pages(base_url, devtools, artifacts, run["flow_run_id"], args.out)

    results.insert(0, f"{'ok  ' if run['state'] == 'Failed' else 'FAIL'} flow run ended {run['state']} with the failed check in its message")
    print("\n".join(results))
    print(f"screenshots in {args.out.resolve()}")
    return 0 if all(line.startswith("ok") for line in results) else 1


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/api/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())
