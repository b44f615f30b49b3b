"""Per-request metric rules and SSE parsing, on hand-made chunk times and byte streams."""

import asyncio

import numpy as np
import pytest

from modelgate.bench.metrics import per_token_gaps, stream_metrics
from modelgate.bench.records import RequestRecords
from modelgate.bench.stats import summarize
from modelgate.bench.stream import StreamExchange


def exchange():
    loop = asyncio.new_event_loop()
    stream = StreamExchange(loop.create_future())
    stream.on_status(200, 0.0)
    return stream


def test_gap_split_over_chunk_tokens():
    assert per_token_gaps([0.0, 0.03], [1, 3], 4) == pytest.approx([10.0, 10.0, 10.0])


def test_zero_token_chunk_gap_carried():
    assert per_token_gaps([0.0, 0.01, 0.03], [1, 0, 2], 3) == pytest.approx([15.0, 15.0])


def test_unknown_counts_spread_evenly():
    assert per_token_gaps([0.0, 0.02, 0.04], None, 6) == pytest.approx([10.0, 10.0])


def test_one_chunk_has_no_gap():
    assert per_token_gaps([0.5], [4], 4) == []


def test_tpot_formula():
    metrics = stream_metrics(0.0, 1.0, [0.1, 0.5, 1.0], [1, 1, 1], 0.1, 10)
    assert metrics.tpot_ms == pytest.approx(100.0)


def test_single_token_has_no_tpot():
    metrics = stream_metrics(0.0, 0.2, [0.1], [1], 0.1, 1)
    assert metrics.tpot_ms is None


def test_ttfct_none_without_content():
    metrics = stream_metrics(0.0, 0.2, [0.1], [1], None, 1)
    assert metrics.ttfct_ms is None


def test_events_split_across_reads():
    stream = exchange()
    stream.parse(b'data: {"choices":[{"delta":{"con', 1.0)
    stream.parse(b'tent":"hi"}}]}\n\ndata: [DONE]\n\n', 2.0)
    assert stream.token_times == [2.0]
    assert stream.saw_done


def test_crlf_events_parsed():
    stream = exchange()
    stream.parse(b'data: {"choices":[{"text":"a","finish_reason":"length"}]}\r\n\r\n', 1.0)
    assert stream.finish_reason == "length"


def test_multiline_data_joined():
    stream = exchange()
    stream.parse(b'event: message\ndata: {"choices":\ndata: [{"text":"a"}]}\n\n', 1.0)
    assert stream.token_times == [1.0]


def test_role_chunk_not_token():
    stream = exchange()
    stream.parse(b'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n', 1.0)
    assert stream.token_times == []


def test_tool_call_chunk_is_token():
    stream = exchange()
    stream.parse(b'data: {"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}\n\n', 1.0)
    assert stream.token_times == [1.0]


def test_usage_rise_counts_empty_text():
    stream = exchange()
    stream.parse(b'data: {"choices":[{"text":""}],"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n', 1.0)
    assert stream.token_counts == [1]


def test_error_event_recorded():
    stream = exchange()
    stream.parse(b'data: {"error":{"message":"boom","code":500}}\n\n', 1.0)
    assert stream.error == "boom"


def test_last_event_without_blank_line():
    stream = exchange()
    stream.parse(b"data: [DONE]", 1.0)
    stream.on_complete(1.0)
    assert stream.saw_done


def test_summary_ignores_nan():
    assert summarize("x", np.array([1.0, np.nan, 3.0]))["mean_x_ms"] == 2.0


def test_summary_empty_is_none():
    assert summarize("x", np.array([]))["p99_x_ms"] is None


def test_records_failure_counts():
    records = RequestRecords(capacity=2)
    for _ in range(3):
        records.add_row()
    records.fail(0, "timeout")
    records.fail(2, "timeout")
    assert records.failure_counts() == {"timeout": 2}


def test_records_frame_has_error_column():
    records = RequestRecords(capacity=2)
    records.add_row()
    records.fail(0, "http_500")
    assert records.to_frame()["error"].tolist() == ["http_500"]


def test_records_frame_without_failures():
    records = RequestRecords(capacity=2)
    records.add_row()
    assert records.to_frame()["error"].isna().all()
