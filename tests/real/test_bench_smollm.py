"""SmolLM2-135M-Instruct on real local vLLM CPU: `modelgate bench --json` and the deploy-model flow.

The engine interpreter is MODELGATE_ENGINE_PYTHON, else `.venv-engine/bin/python` (see `make engine`);
a missing engine fails these tests rather than skipping them.
The model is prepared once by scripts/prepare_smollm2.py (about 40 s the first time). Each vLLM start
takes 25-60 s on 2 cores; the module runs two starts and takes about 5 minutes.
"""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelgate.health import poll_health
from modelgate.models import resolve_model
from modelgate.runtime.local import LocalVllmRuntime
from modelgate.settings import ModelgateSettings

pytestmark = pytest.mark.real

ROOT = Path(__file__).resolve().parents[2]
SERVED_NAME = "SmolLM2-135M-Instruct"
ENGINE_ARGS = ["--dtype", "bfloat16", "--max-model-len", "2048"]


@pytest.fixture(scope="module")
def smollm_dir(engine_python, tmp_path_factory):
    python = engine_python
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "prepare_smollm2.py"), "--engine-python", str(python)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def smollm_server(smollm_dir, engine_python, tmp_path_factory):
    settings = ModelgateSettings(engine_python=engine_python, work_dir=tmp_path_factory.mktemp("engine"), health_timeout_s=300)
    runtime = LocalVllmRuntime(settings)
    model = resolve_model(smollm_dir, settings.resolve_engine_python())
    server = runtime.start(model, SERVED_NAME, ENGINE_ARGS)
    try:
        asyncio.run(poll_health(server.base_url, SERVED_NAME, window_s=300, poll_interval_s=1, check_alive=lambda: runtime.check_alive(server)))
        yield server
    finally:
        runtime.stop(server)


def bench(url, *args):
    command = [sys.executable, "-m", "modelgate.cli.main", "bench", url, "--json", "--warmup-requests", "1", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_probe_says_llm(smollm_server):
    command = [sys.executable, "-m", "modelgate.cli.main", "probe", smollm_server.base_url, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["model_type"] == "llm"


def test_chat_bench_on_smollm(smollm_server):
    summary = bench(smollm_server.base_url, "--num-requests", "8", "--concurrency", "2", "--output-tokens", "16")
    assert summary["model_type"] == "llm"
    assert summary["completed"] == 8
    assert summary["total_output_tokens"] == 8 * 16
    assert summary["output_token_source"] == {"usage_per_chunk": 8}
    assert 0 < summary["median_ttft_ms"] < summary["median_e2el_ms"]
    assert summary["median_tpot_ms"] > 0


def test_completions_bench_on_smollm(smollm_server, tmp_path):
    records = tmp_path / "requests.parquet"
    summary = bench(
        smollm_server.base_url, "--api", "completions", "--num-requests", "4", "--concurrency", "2",
        "--output-tokens", "8", "--input-tokens", "32", "--requests-out", str(records),
    )
    assert summary["completed"] == 4
    assert summary["total_output_tokens"] == 4 * 8
    assert summary["inputs_fit_to_tokenizer"] is True
    assert abs(summary["total_input_tokens"] / 4 - 32) <= 3
    assert records.exists()


def test_open_loop_bench_on_smollm(smollm_server):
    summary = bench(smollm_server.base_url, "--request-rate", "2", "--num-requests", "6", "--output-tokens", "8", "--slo", "e2el:60000")
    assert summary["completed"] == 6
    assert summary["slo_attainment"] == 1.0


def test_deploy_flow_on_smollm(smollm_dir, engine_python, monkeypatch):
    from flows.deploy_model import deploy_model
    from flows.params import BenchmarkLoad

    monkeypatch.setenv("MODELGATE_ENGINE_PYTHON", str(engine_python))
    state = deploy_model(
        model=smollm_dir,
        served_model_name=SERVED_NAME,
        engine_args=ENGINE_ARGS,
        load=BenchmarkLoad(num_requests=6, concurrency=2, output_tokens=8, warmup_requests=1),
        return_state=True,
    )
    result = state.result(raise_on_failure=False)
    assert result.model_type == "llm"
    assert result.summary["completed"] == 6
