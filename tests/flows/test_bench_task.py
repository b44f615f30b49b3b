"""The flow's benchmark task on a real Prefect test server: LLM and embedding branches, progress artifact."""

import pytest
from prefect import flow
from prefect.artifacts import Artifact

from flows.bench_tasks import run_benchmark
from flows.params import BenchmarkLoad
from modelgate.errors import BenchmarkError
from tests.doubles.sse_server import StreamConfig, StreamingDouble


@flow
def bench_flow(url: str, model_type: str, load: BenchmarkLoad):
    return run_benchmark(url, "test-model", model_type, load)


def test_llm_branch_streams():
    load = BenchmarkLoad(num_requests=6, concurrency=2, output_tokens=4, warmup_requests=1)
    with StreamingDouble(StreamConfig(ttft_s=0.01, itl_s=0.002)) as server:
        result = bench_flow(server.base_url, "llm", load)
    assert result.summary["completed"] == 6
    assert result.summary["total_output_tokens"] == 24


def test_llm_branch_uses_api():
    load = BenchmarkLoad(num_requests=2, concurrency=1, output_tokens=2, warmup_requests=0, api="completions")
    with StreamingDouble(StreamConfig(ttft_s=0.01, itl_s=0.002)) as server:
        bench_flow(server.base_url, "llm", load)
    assert server.config.requests[0]["path"] == "/v1/completions"


def test_embedding_branch_runs(embedding_server):
    result = bench_flow(embedding_server.base_url, "embedding", BenchmarkLoad(num_requests=5, warmup_requests=0))
    assert result.summary["completed"] == 5


def test_progress_artifact_complete(embedding_server):
    bench_flow(embedding_server.base_url, "embedding", BenchmarkLoad(num_requests=5, warmup_requests=0))
    assert Artifact.get("bench-test-model-progress").data == 100.0


def test_unknown_type_rejected(embedding_server):
    with pytest.raises(BenchmarkError, match="reranker"):
        bench_flow(embedding_server.base_url, "reranker", BenchmarkLoad(num_requests=1))
