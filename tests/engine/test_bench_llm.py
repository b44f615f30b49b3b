"""Streaming LLM benchmark against an exact-timing double: each reported problem class of LLM clients."""

import pandas as pd
import pytest

from modelgate.bench.llm import run_llm_benchmark
from modelgate.bench.loads import LlmLoad
from modelgate.bench.runner import run_blocking
from modelgate.errors import BenchmarkError, InvalidInputError
from tests.doubles.sse_server import StreamConfig, StreamingDouble

# The double writes the first token 30 ms after a request arrives, then one chunk every 10 ms.
TTFT_MS = 30
ITL_MS = 10


def bench(url, **load):
    settings = {"num_requests": 12, "concurrency": 4, "warmup_requests": 1, "output_tokens": 8, "timeout_s": 10, **load}
    return run_blocking(run_llm_benchmark(url, "test-model", LlmLoad(**settings)))


def serve(**config):
    return StreamingDouble(StreamConfig(ttft_s=TTFT_MS / 1000, itl_s=ITL_MS / 1000, **config))


def test_role_chunk_not_first_token():
    with serve(role_chunk=True) as server:
        summary = bench(server.base_url).summary
    assert summary["median_ttft_ms"] >= TTFT_MS


def test_sse_comment_not_first_token():
    with serve(comment_first=True) as server:
        summary = bench(server.base_url).summary
    assert summary["median_ttft_ms"] >= TTFT_MS


def test_completions_ttft():
    with serve() as server:
        summary = bench(server.base_url, api="completions").summary
    assert summary["median_ttft_ms"] >= TTFT_MS
    assert server.config.requests[-1]["path"] == "/v1/completions"


def test_reasoning_counts_for_ttft():
    # Content starts 4 tokens (40 ms) after the reasoning does.
    with serve(reasoning_tokens=4) as server:
        summary = bench(server.base_url).summary
    assert summary["median_ttft_ms"] < summary["median_ttfct_ms"] - 20


def test_content_after_reasoning_ttfct():
    with serve(reasoning_tokens=4) as server:
        summary = bench(server.base_url).summary
    assert summary["median_ttfct_ms"] >= TTFT_MS + 4 * ITL_MS


def test_several_tokens_per_chunk_counts():
    with serve(tokens_per_chunk=4) as server:
        result = bench(server.base_url, output_tokens=16)
    assert result.summary["total_output_tokens"] == 12 * 16
    assert (result.requests["chunks"] == 4).all()


def test_several_tokens_per_chunk_itl():
    with serve(tokens_per_chunk=4) as server:
        summary = bench(server.base_url, output_tokens=16).summary
    assert summary["median_chunk_itl_ms"] == pytest.approx(ITL_MS, abs=5)
    assert summary["median_itl_ms"] == pytest.approx(summary["median_chunk_itl_ms"] / 4)


def test_tpot_from_tokens_not_chunks():
    with serve(tokens_per_chunk=4) as server:
        result = bench(server.base_url, output_tokens=16)
    frame = result.requests
    expected = (frame["e2el_ms"] - frame["ttft_ms"]) / 15
    assert (frame["tpot_ms"] - expected).abs().max() < 0.01
    # Counting chunks would give (3 gaps) / 3 = one chunk gap; counting tokens gives a fifth of it.
    assert result.summary["median_tpot_ms"] < result.summary["median_chunk_itl_ms"] / 2


def test_usage_per_chunk_is_source():
    with serve() as server:
        summary = bench(server.base_url).summary
    assert summary["output_token_source"] == {"usage_per_chunk": 12}


def test_final_usage_only_is_source():
    with serve(usage="final") as server:
        summary = bench(server.base_url).summary
    assert summary["output_token_source"] == {"usage": 12}


def test_missing_usage_uses_tokenize():
    with serve(usage="none", tokens_per_chunk=2) as server:
        summary = bench(server.base_url, output_tokens=8).summary
    assert summary["output_token_source"] == {"tokenize": 12}
    assert summary["total_output_tokens"] == 12 * 8


def test_missing_usage_prompt_tokenized():
    with serve(usage="none") as server:
        summary = bench(server.base_url, input_tokens=10).summary
    assert summary["total_input_tokens"] == 12 * 10


def test_missing_usage_no_tokenizer_counts_chunks():
    with serve(usage="none", tokenize=False, tokens_per_chunk=2) as server:
        summary = bench(server.base_url, output_tokens=8).summary
    assert summary["output_token_source"] == {"chunks": 12}
    assert summary["total_output_tokens"] == 12 * 4


def test_error_event_after_200_fails():
    with serve(error_after_tokens=3) as server:
        summary = bench(server.base_url, warmup_requests=0).summary
    assert summary["failed_by_reason"] == {"stream_error": 12}
    assert summary["total_output_tokens"] == 0


def test_error_event_leaves_no_latency():
    with serve(error_after_tokens=3) as server:
        summary = bench(server.base_url, warmup_requests=0).summary
    assert summary["mean_e2el_ms"] is None
    assert summary["mean_itl_ms"] is None


def test_stream_without_done_is_truncated():
    with serve(no_done=True) as server:
        summary = bench(server.base_url, warmup_requests=0).summary
    assert summary["failed_by_reason"] == {"truncated": 12}


def test_connection_cut_midstream_fails():
    with serve(truncate_after_tokens=3) as server:
        summary = bench(server.base_url, warmup_requests=0).summary
    assert summary["failed_by_reason"] == {"connection_closed": 12}


def test_stalled_stream_times_out():
    with serve(stall_after_tokens=2) as server:
        summary = bench(server.base_url, warmup_requests=0, num_requests=4, timeout_s=0.3).summary
    assert summary["failed_by_reason"] == {"timeout": 4}


def test_overload_503_counted_not_dropped():
    with serve(max_in_flight=2) as server:
        result = bench(server.base_url, concurrency=6, num_requests=30)
    summary = result.summary
    assert summary["failed_by_reason"].get("http_503", 0) > 0
    assert summary["completed"] + summary["failed"] == 30
    assert len(result.requests) == 30


def test_slo_attainment_counts_failures():
    with serve(max_in_flight=2) as server:
        summary = bench(server.base_url, concurrency=6, num_requests=30, slo_ms={"e2el": 10_000}).summary
    assert summary["slo_attainment"] == pytest.approx(summary["completed"] / 30)


def test_slo_miss_on_slow_ttft():
    with serve() as server:
        summary = bench(server.base_url, slo_ms={"ttft": 5}).summary
    assert summary["slo_attainment"] == 0


def test_failure_detail_kept():
    with serve(max_in_flight=1) as server:
        summary = bench(server.base_url, concurrency=4, warmup_requests=0).summary
    assert "overloaded" in summary["errors"][0]


def test_concurrency_never_exceeded():
    with serve() as server:
        bench(server.base_url, concurrency=5, num_requests=40, warmup_requests=0)
    assert server.config.max_seen_in_flight == 5


def test_open_loop_cap_never_exceeded():
    with serve() as server:
        bench(server.base_url, request_rate=400, concurrency=3, num_requests=40, warmup_requests=0)
    assert server.config.max_seen_in_flight == 3


def test_open_loop_follows_schedule():
    with serve() as server:
        result = bench(server.base_url, request_rate=100, arrival="constant", concurrency=None, num_requests=40, warmup_requests=0)
    frame = result.requests
    assert frame["scheduled_s"].iloc[-1] == pytest.approx(0.39)
    assert (frame["start_s"] - frame["scheduled_s"]).median() < 0.02


def test_capped_open_loop_reports_wait():
    # 100 requests/s offered to one slot that takes at least 100 ms: the wait grows, latency does not.
    with serve() as server:
        summary = bench(server.base_url, request_rate=100, arrival="constant", concurrency=1, num_requests=10, warmup_requests=0).summary
    assert summary["p99_send_delay_ms"] > 500
    assert summary["p99_e2el_ms"] < 400


def test_warmup_not_counted():
    with serve() as server:
        result = bench(server.base_url, warmup_requests=3)
    assert len(server.config.requests) == 15
    assert len(result.requests) == 12


def test_prompt_fit_to_tokenizer():
    # The double's tokenizer makes 2 tokens of every word, so 20 tokens take 10 words.
    with serve(tokens_per_word=2) as server:
        summary = bench(server.base_url, num_requests=2, warmup_requests=0, input_tokens=20).summary
    prompt = server.config.requests[0]["body"]["messages"][0]["content"]
    assert summary["inputs_fit_to_tokenizer"] is True
    assert len(prompt.split()) == 10


def test_request_body_asks_for_usage():
    with serve() as server:
        bench(server.base_url, num_requests=1, warmup_requests=0)
    body = server.config.requests[0]["body"]
    assert body["stream_options"] == {"include_usage": True, "continuous_usage_stats": True}
    assert body["ignore_eos"] is True
    assert body["max_tokens"] == 8


def test_rejected_extensions_dropped():
    with serve(reject_fields=("ignore_eos",)) as server:
        summary = bench(server.base_url).summary
    assert summary["server_extensions"] is False
    assert summary["completed"] == 12


def test_failed_warmup_raises():
    with serve(error_after_tokens=1) as server:
        with pytest.raises(BenchmarkError, match="warm-up"):
            bench(server.base_url, warmup_requests=2)


def test_wrong_model_fails_warmup():
    with serve(served_name="other") as server:
        with pytest.raises(BenchmarkError, match="does not exist"):
            bench(server.base_url, warmup_requests=1)


def test_unreachable_counts_failures(unused_port_url):
    summary = bench(unused_port_url, warmup_requests=0, num_requests=3).summary
    assert summary["failed_by_reason"] == {"connection_error": 3}


def test_duration_limit_stops_run():
    with serve() as server:
        summary = bench(server.base_url, concurrency=1, num_requests=1000, max_duration_s=0.4, warmup_requests=0).summary
    assert summary["sent"] < 10


def test_records_export_parquet(tmp_path):
    with serve() as server:
        result = bench(server.base_url)
    path = result.write_requests(str(tmp_path / "requests.parquet"))
    assert len(pd.read_parquet(path)) == 12


def test_parquet_needs_suffix(tmp_path):
    with serve() as server:
        result = bench(server.base_url, num_requests=1)
    with pytest.raises(InvalidInputError, match=".parquet"):
        result.write_requests(str(tmp_path / "requests.csv"))


def test_dataset_prompts_sent(tmp_path):
    dataset = tmp_path / "prompts.jsonl"
    dataset.write_text('{"prompt": "first prompt"}\n{"prompt": "second prompt"}\n')
    with serve() as server:
        bench(server.base_url, num_requests=2, warmup_requests=0, dataset=str(dataset))
    contents = [request["body"]["messages"][0]["content"] for request in server.config.requests]
    assert sorted(contents) == ["first prompt", "second prompt"]


@pytest.mark.parametrize("field", ["num_requests", "output_tokens", "input_tokens"])
def test_zero_load_value_rejected(field):
    with pytest.raises(InvalidInputError, match=f"{field}=0"):
        LlmLoad(**{field: 0}).check()


def test_unknown_slo_metric_rejected():
    with pytest.raises(InvalidInputError, match="itl"):
        LlmLoad(slo_ms={"itl": 5}).check()
