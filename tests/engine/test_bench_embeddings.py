import asyncio
import json

import pytest

from modelgate.bench.embeddings import EmbeddingLoad, EmbeddingRun, run_embedding_benchmark
from modelgate.bench.http import BodyExchange
from modelgate.bench.runner import Target
from modelgate.errors import BenchmarkError, InvalidInputError
from tests.doubles.vllm_like import RunningDouble, VllmLikeConfig


def bench(url, **load):
    settings = {"num_requests": 20, "concurrency": 4, "warmup_requests": 1, "timeout_s": 5, **load}
    return asyncio.run(run_embedding_benchmark(url, "test-model", EmbeddingLoad(**settings)))


def test_all_requests_complete(embedding_server):
    result = bench(embedding_server.base_url)
    assert result.summary["completed"] == 20


def test_warmup_is_not_counted(embedding_server):
    bench(embedding_server.base_url, warmup_requests=3)
    assert len(embedding_server.config.requests) == 23


def test_batch_sends_inputs(embedding_server):
    bench(embedding_server.base_url, batch_size=4, num_requests=2)
    assert all(len(request["body"]["input"]) == 4 for request in embedding_server.config.requests)


def test_latency_includes_server_time():
    with RunningDouble(VllmLikeConfig(latency_s=0.05)) as server:
        result = bench(server.base_url, num_requests=8)
    assert result.summary["median_e2el_ms"] >= 50


def test_failures_are_counted_by_reason():
    with RunningDouble(VllmLikeConfig(fail_every=4)) as server:
        result = bench(server.base_url, warmup_requests=0)
    assert result.summary["failed_by_reason"] == {"http_500": 5}


def test_failures_stay_in_table():
    with RunningDouble(VllmLikeConfig(fail_every=4)) as server:
        result = bench(server.base_url, warmup_requests=0)
    assert (~result.requests["success"]).sum() == 5


def test_wrong_vector_count_fails_request():
    with RunningDouble(VllmLikeConfig(wrong_count=True)) as server:
        result = bench(server.base_url, batch_size=2, warmup_requests=0)
    assert result.summary["failed_by_reason"] == {"wrong_count": 20}


def test_all_failed_has_no_latency():
    with RunningDouble(VllmLikeConfig(wrong_count=True)) as server:
        result = bench(server.base_url, warmup_requests=0)
    assert result.summary["mean_e2el_ms"] is None


def test_failed_warmup_raises():
    with RunningDouble(VllmLikeConfig(wrong_count=True)) as server:
        with pytest.raises(BenchmarkError, match="warm-up"):
            bench(server.base_url, warmup_requests=2)


def test_unreachable_counts_connection_errors(unused_port_url):
    result = bench(unused_port_url, warmup_requests=0, num_requests=3)
    assert result.summary["failed"] == 3


def test_prompt_tokens_from_usage(embedding_server):
    result = bench(embedding_server.base_url, input_tokens=10, num_requests=2)
    assert result.summary["total_input_tokens"] == 24


def test_duration_limit_stops_run():
    with RunningDouble(VllmLikeConfig(latency_s=0.2)) as server:
        result = bench(server.base_url, num_requests=1000, concurrency=1, max_duration_s=0.5, warmup_requests=0)
    assert result.summary["sent"] < 10


@pytest.mark.parametrize("field", ["concurrency", "num_requests", "batch_size", "input_tokens"])
def test_zero_load_value_rejected(field):
    with pytest.raises(InvalidInputError, match=f"{field}=0"):
        EmbeddingLoad(**{field: 0}).check()


def test_csv_dataset_inputs_sent(embedding_server, tmp_path):
    dataset = tmp_path / "inputs.csv"
    dataset.write_text("id,text\n1,alpha beta\n2,gamma delta\n")
    bench(embedding_server.base_url, num_requests=1, batch_size=2, warmup_requests=0, dataset=str(dataset))
    assert embedding_server.config.requests[0]["body"]["input"] == ["alpha beta", "gamma delta"]


def test_dataset_without_text_column(embedding_server, tmp_path):
    dataset = tmp_path / "inputs.csv"
    dataset.write_text("id,body\n1,alpha\n")
    with pytest.raises(InvalidInputError, match="no column"):
        bench(embedding_server.base_url, dataset=str(dataset))


def test_missing_dataset_rejected(embedding_server, tmp_path):
    with pytest.raises(InvalidInputError, match="not found"):
        bench(embedding_server.base_url, dataset=str(tmp_path / "absent.jsonl"))


def test_open_loop_embeddings(embedding_server):
    result = bench(embedding_server.base_url, request_rate=200, arrival="constant", concurrency=None, num_requests=10)
    assert result.summary["completed"] == 10
    assert result.summary["request_rate"] == 200


def test_dimension_reported(embedding_server):
    result = bench(embedding_server.base_url, num_requests=2)
    assert result.summary["embedding_dimension"] == 8


def test_inputs_per_second_counts_batch(embedding_server):
    summary = bench(embedding_server.base_url, num_requests=4, batch_size=3).summary
    assert summary["input_throughput"] == pytest.approx(3 * summary["request_throughput"])


def response_with_dimension(dimension):
    exchange = BodyExchange(asyncio.get_running_loop().create_future())
    exchange.status = 200
    exchange.parts = [json.dumps({"data": [{"embedding": [0.5] * dimension}]}).encode()]
    return exchange


def test_mixed_dimension_fails_request():
    async def check_two():
        run = EmbeddingRun(Target.open("http://127.0.0.1:9", None), "test-model", EmbeddingLoad())
        first = run.check(response_with_dimension(8), 1)[0]
        second = run.check(response_with_dimension(4), 1)[0]
        return first, second

    assert asyncio.run(check_two()) == (None, "mixed_dimensions")
