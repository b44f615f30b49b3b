import base64
import json

import numpy as np
import pandas as pd
import pytest

from modelgate.report.markdown import render_report
from modelgate.report.plot import latency_plot_png
from modelgate.report.records import read_records, records_to_parquet
from modelgate.report.tables import frame_to_rows, sample_requests, summary_rows
from modelgate.verify import LatencyTargets, verify_latency

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def requests_frame(count=200, failed_every=0):
    rng = np.random.default_rng(7)
    success = np.ones(count, dtype=bool)
    if failed_every:
        success[::failed_every] = False
    latencies = np.where(success, rng.gamma(4, 5, count), np.nan)
    return pd.DataFrame(
        {
            "request": np.arange(count),
            "e2el_ms": latencies,
            "success": success,
            "prompt_tokens": pd.array([34] * count, dtype="Int64"),
            "error": [None if ok else "http_500" for ok in success],
        }
    )


SUMMARY = {"model_type": "embedding", "sent": 200, "completed": 200, "failed": 0, "failed_by_reason": {}, "mean_e2el_ms": 20.0, "p99_e2el_ms": 45.0}


def test_plot_is_png():
    assert latency_plot_png(requests_frame(), "m").startswith(PNG_SIGNATURE)


def test_plot_draws_llm_rows_taller():
    frame = requests_frame().assign(ttft_ms=5.0, tpot_ms=2.0)
    embedding_png, llm_png = latency_plot_png(requests_frame(), "m"), latency_plot_png(frame, "m")
    height = lambda png: int.from_bytes(png[20:24], "big")  # noqa: E731 - PNG IHDR height
    assert height(llm_png) == 3 * height(embedding_png)


def test_plot_none_without_successes():
    frame = requests_frame().assign(success=False)
    assert latency_plot_png(frame, "m") is None


def test_report_embeds_plot_as_data_uri():
    png = latency_plot_png(requests_frame(), "m")
    markdown = render_report("m", "embedding", {"/v1/embeddings": True}, SUMMARY, plot_png=png)
    encoded = markdown.split("(data:image/png;base64,", 1)[1].split(")", 1)[0]
    assert base64.b64decode(encoded) == png


def test_report_lists_failed_checks():
    verdict = verify_latency(SUMMARY, LatencyTargets(target_e2e_latency_ms=10), "embedding")
    markdown = render_report("m", "embedding", {}, SUMMARY, verdict=verdict)
    assert "Verdict: **FAIL**: 1 check(s) failed." in markdown
    assert "- mean_e2el_ms = 20.00 ms misses target 10 ms" in markdown


def test_report_survives_empty_summary():
    markdown = render_report("m", None, {}, {})
    assert "No latency figures in the summary." in markdown
    assert "No plot" in markdown


def test_report_shows_load_and_records():
    markdown = render_report("m", "embedding", {}, SUMMARY, load={"concurrency": 8}, records_location="file:///tmp/r.parquet")
    assert "concurrency **8**" in markdown
    assert "`file:///tmp/r.parquet`" in markdown


def test_parquet_keeps_nulls(tmp_path):
    frame = requests_frame(failed_every=3)
    frame.loc[1, "prompt_tokens"] = pd.NA
    path = tmp_path / "records.parquet"
    path.write_bytes(records_to_parquet(frame))
    restored = read_records(str(path))
    assert restored["prompt_tokens"].isna().sum() == 1
    assert restored["e2el_ms"].isna().sum() == frame["e2el_ms"].isna().sum()
    assert len(restored) == len(frame)


def test_sample_capped_and_spread():
    sample = sample_requests(requests_frame(count=10_000), 100)
    assert len(sample) == 100
    assert sample["request"].iloc[0] == 0
    assert sample["request"].iloc[-1] == 9_999


def test_sample_keeps_failures():
    sample = sample_requests(requests_frame(count=10_000, failed_every=1000), 100)
    assert (~sample["success"]).sum() == 10


def test_sample_small_frame_unchanged():
    assert len(sample_requests(requests_frame(count=30), 100)) == 30


def test_rows_are_json_native():
    rows = frame_to_rows(requests_frame(count=3, failed_every=2))
    assert json.loads(json.dumps(rows))[0]["e2el_ms"] is None


@pytest.mark.parametrize(("value", "shown"), [(np.int64(3), 3), (np.float64(np.nan), None), ({"timeout": 2}, '{"timeout": 2}'), (None, None)])
def test_summary_rows_json_native(value, shown):
    assert summary_rows({"figure": value}) == [{"metric": "figure", "value": shown}]
