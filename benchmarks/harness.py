"""Shared steps of the client benchmarks: the exact-timing server process and the two clients.

The server runs as its own process on CPU 0 and the client under test on CPU 1 (`taskset`), so each
side has one core of the two, and the server records when it really wrote every chunk.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ENGINE_PYTHON = os.environ.get("MODELGATE_ENGINE_PYTHON", str(ROOT / ".venv-engine" / "bin" / "python"))
LAUNCHER = ROOT / "modelgate" / "runtime" / "vllm_launcher.py"
TOKENIZER = os.environ.get("BENCH_TOKENIZER", str(Path.home() / ".cache" / "modelgate" / "SmolLM2-135M-Instruct"))
SERVER_CPU = "0"
CLIENT_CPU = "1"
# BENCH_NICE=-10 raises the priority of the server and the client (root only), which cuts the noise
# that other work on a shared machine adds; both clients get the same priority.
NICE = ["nice", "-n", os.environ["BENCH_NICE"]] if os.environ.get("BENCH_NICE") else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def machine() -> str:
    """Return a one-line description of this machine for the results."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()} {model}, {os.cpu_count()} cores, Python {platform.python_version()}"


@contextmanager
def timed_server(ttft_ms: float, itl_ms: float, tokens: int):
    """Run the exact-timing double on CPU 0; yield (base_url, timing) where timing fills in on exit."""
    port = free_port()
    timing_file = Path(tempfile.mkstemp(suffix=".json")[1])
    command = [*NICE, "taskset", "-c", SERVER_CPU, PYTHON, "-m", "tests.doubles.sse_server", "--port", str(port),
               "--ttft-ms", str(ttft_ms), "--itl-ms", str(itl_ms), "--tokens", str(tokens), "--timing-out", str(timing_file)]
    process = subprocess.Popen(command, cwd=ROOT)
    timing: dict = {}
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the timed server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", timing
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        if timing_file.stat().st_size:
            timing.update(json.loads(timing_file.read_text()))
        timing_file.unlink()


def run_modelgate(url: str, api: str, concurrency: int, num_requests: int, output_tokens: int) -> dict:
    """Run `modelgate bench --json` on CPU 1 and return its summary."""
    command = [*NICE, "taskset", "-c", CLIENT_CPU, PYTHON, "-m", "modelgate.cli.main", "bench", url, "--json", "--model-type", "llm",
               "--api", api, "--concurrency", str(concurrency), "--num-requests", str(num_requests),
               "--output-tokens", str(output_tokens), "--input-tokens", "16", "--warmup-requests", "4", "--timeout", "120"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=True)
    return json.loads(done.stdout)


def run_vllm_bench(url: str, api: str, concurrency: int, num_requests: int, output_tokens: int) -> dict:
    """Run vLLM's `bench serve` client on CPU 1 and return its result JSON."""
    backend, endpoint = ("openai-chat", "/v1/chat/completions") if api == "chat" else ("openai", "/v1/completions")
    with tempfile.TemporaryDirectory() as folder:
        command = [*NICE, "taskset", "-c", CLIENT_CPU, ENGINE_PYTHON, str(LAUNCHER), "bench", "serve", "--backend", backend,
                   "--endpoint", endpoint, "--base-url", url, "--model", "test-model", "--tokenizer", TOKENIZER,
                   "--dataset-name", "random", "--random-input-len", "16", "--random-output-len", str(output_tokens),
                   "--ignore-eos", "--max-concurrency", str(concurrency), "--num-prompts", str(num_requests),
                   "--request-rate", "inf", "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,99",
                   "--disable-tqdm", "--save-result", "--result-dir", folder, "--result-filename", "result.json"]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
        subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=True, env=env)
        return json.loads((Path(folder) / "result.json").read_text())


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
