"""`modelgate bench` end to end: a real subprocess against doubles over real HTTP."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from modelgate.cli.bench import build_load
from modelgate.cli.main import build_parser
from tests.doubles.sse_server import StreamConfig, StreamingDouble


def modelgate(*args):
    command = [sys.executable, "-m", "modelgate.cli.main", "bench", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def llm_server():
    with StreamingDouble(StreamConfig(ttft_s=0.02, itl_s=0.005)) as server:
        yield server


def test_llm_json_detects_type(llm_server):
    done = modelgate(llm_server.base_url, "--json", "--num-requests", "6", "--output-tokens", "4", "--warmup-requests", "1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["model_type"] == "llm"


def test_llm_json_counts_tokens(llm_server):
    done = modelgate(llm_server.base_url, "--json", "--num-requests", "6", "--output-tokens", "4", "--model-type", "llm")
    summary = json.loads(done.stdout)
    assert summary["completed"] == 6
    assert summary["total_output_tokens"] == 24


def test_completions_api_used(llm_server):
    modelgate(llm_server.base_url, "--json", "--num-requests", "2", "--api", "completions", "--model-type", "llm", "--warmup-requests", "0")
    assert {request["path"] for request in llm_server.config.requests} == {"/v1/completions"}


def test_open_loop_json(llm_server):
    done = modelgate(llm_server.base_url, "--json", "--num-requests", "10", "--request-rate", "50", "--output-tokens", "4", "--model-type", "llm")
    summary = json.loads(done.stdout)
    assert summary["request_rate"] == 50
    assert summary["concurrency"] is None


def test_embedding_json_detects_type(embedding_server):
    done = modelgate(embedding_server.base_url, "--json", "--num-requests", "5", "--batch-size", "2")
    summary = json.loads(done.stdout)
    assert summary["model_type"] == "embedding"
    assert summary["total_input_sequences"] == 10


def test_requests_out_parquet(llm_server, tmp_path):
    target = tmp_path / "requests.parquet"
    modelgate(llm_server.base_url, "--json", "--num-requests", "4", "--output-tokens", "2", "--model-type", "llm", "--requests-out", str(target))
    assert len(pd.read_parquet(target)) == 4


def test_bad_requests_out_fails_first(llm_server, tmp_path):
    done = modelgate(llm_server.base_url, "--model-type", "llm", "--requests-out", str(tmp_path / "missing" / "r.parquet"))
    assert done.returncode == 2
    assert llm_server.config.requests == []


def test_text_output_lists_ttft(llm_server):
    done = modelgate(llm_server.base_url, "--num-requests", "3", "--output-tokens", "2", "--model-type", "llm")
    assert "median_ttft_ms" in done.stdout


def test_all_failed_exits_one():
    with StreamingDouble(StreamConfig(ttft_s=0.01, itl_s=0.001, error_after_tokens=1)) as server:
        done = modelgate(server.base_url, "--json", "--num-requests", "3", "--model-type", "llm", "--warmup-requests", "0")
    assert done.returncode == 1
    assert "stream_error" in done.stderr


def test_bad_slo_exits_two(llm_server):
    done = modelgate(llm_server.base_url, "--slo", "ttft=200", "--model-type", "llm")
    assert done.returncode == 2
    assert "METRIC:MS" in done.stderr


def test_unknown_model_exits_two(llm_server):
    done = modelgate(llm_server.base_url, "--model", "nope")
    assert done.returncode == 2
    assert "'nope' is not served" in done.stderr


def parse(*args):
    return build_parser().parse_args(["bench", "http://127.0.0.1:1", *args])


def test_duration_only_bounds_by_time():
    load = build_load(parse("--duration", "30"), "llm")
    assert load.num_requests == 1_000_000
    assert load.max_duration_s == 30


def test_rate_has_no_default_cap():
    assert build_load(parse("--request-rate", "5"), "llm").concurrency is None


def test_closed_loop_default_concurrency():
    assert build_load(parse(), "embedding").concurrency == 8


def test_slo_parsed():
    assert build_load(parse("--slo", "ttft:200", "--slo", "e2el:900"), "llm").slo_ms == {"ttft": 200.0, "e2el": 900.0}
