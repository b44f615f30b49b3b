import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from modelgate.errors import InvalidInputError
from modelgate.verify import LatencyTargets, MetricTarget, verify_latency


def run_summary(completed=100, failed=0, **figures):
    return {"sent": completed + failed, "completed": completed, "failed": failed, **figures}


def check(verdict, metric):
    matches = [row for row in verdict.checks if row.metric == metric]
    assert len(matches) == 1, f"expected one {metric} row in {[row.metric for row in verdict.checks]}"
    return matches[0]


# (case, model type, summary, targets, metric, expected status, text in the reason)
CASES = [
    ("targets missing", "embedding", run_summary(mean_e2el_ms=900.0), {}, "mean_e2el_ms", "not set", "no target set"),
    (
        "all requests failed",
        "embedding",
        {**run_summary(completed=0, failed=20, mean_e2el_ms=None), "failed_by_reason": {"timeout": 20}},
        {"target_e2e_latency_ms": 100},
        "mean_e2el_ms",
        "fail",
        "could not be measured: all 20 requests failed (timeout: 20)",
    ),
    ("latency at boundary", "embedding", run_summary(mean_e2el_ms=150.0), {"target_e2e_latency_ms": 100}, "mean_e2el_ms", "pass", "meets"),
    ("latency past boundary", "embedding", run_summary(mean_e2el_ms=150.001), {"target_e2e_latency_ms": 100}, "mean_e2el_ms", "fail", "misses"),
    (
        "throughput at boundary",
        "llm",
        run_summary(mean_output_throughput_per_user=10.0),
        {"target_throughput_per_user": 20},
        "mean_output_throughput_per_user",
        "pass",
        "allowed >= 10.00",
    ),
    (
        "throughput below boundary",
        "llm",
        run_summary(mean_output_throughput_per_user=9.99),
        {"target_throughput_per_user": 20},
        "mean_output_throughput_per_user",
        "fail",
        "misses",
    ),
    (
        "throughput above target",
        "llm",
        run_summary(mean_output_throughput_per_user=500.0),
        {"target_throughput_per_user": 20},
        "mean_output_throughput_per_user",
        "pass",
        "meets",
    ),
    (
        "llm ttft on p99",
        "llm",
        run_summary(mean_ttft_ms=10.0, p99_ttft_ms=80.0),
        {"target_ttft_ms": {"value": 50, "statistic": "p99"}},
        "p99_ttft_ms",
        "fail",
        "p99_ttft_ms = 80.00 ms misses",
    ),
    ("llm tpot on median", "llm", run_summary(median_tpot_ms=12.0), {"target_tpot_ms": {"value": 10, "statistic": "median"}}, "median_tpot_ms", "pass", "meets"),
    ("llm itl on p90", "llm", run_summary(p90_itl_ms=30.0), {"target_itl_ms": {"value": 10, "statistic": "p90"}}, "p90_itl_ms", "fail", "misses"),
    (
        "llm without output tokens",
        "llm",
        run_summary(mean_tpot_ms=None),
        {"target_tpot_ms": 10},
        "mean_tpot_ms",
        "fail",
        "the 100 successful requests produced no output tokens",
    ),
    ("embedding gets no ttft", "embedding", run_summary(mean_e2el_ms=5.0), {"target_ttft_ms": 10}, "mean_ttft_ms", "not applicable", "does not apply to embedding"),
    ("failure rate over limit", "embedding", run_summary(completed=98, failed=2), {}, "failure_rate", "fail", "2.00% (2 of 100 requests) exceeds"),
    ("failure rate at limit", "embedding", run_summary(completed=99, failed=1), {}, "failure_rate", "pass", "meets the limit of 1.00%"),
    ("failure rate unset", "embedding", run_summary(completed=50, failed=50), {"max_failure_rate": None}, "failure_rate", "not set", "no limit set"),
    ("no request sent", "embedding", run_summary(completed=0, failed=0), {"target_e2e_latency_ms": 5}, "mean_e2el_ms", "fail", "no request was sent"),
]


@pytest.mark.parametrize(("model_type", "summary", "targets", "metric", "status", "reason"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_verdict_case_table(model_type, summary, targets, metric, status, reason):
    row = check(verify_latency(summary, LatencyTargets(**targets), model_type), metric)
    assert row.status == status
    assert reason in row.reason


def test_failed_check_fails_verdict():
    verdict = verify_latency(run_summary(mean_e2el_ms=200.0), LatencyTargets(target_e2e_latency_ms=100), "embedding")
    assert not verdict.passed


def test_unset_targets_pass_verdict():
    verdict = verify_latency(run_summary(mean_e2el_ms=200.0), LatencyTargets(), "embedding")
    assert verdict.passed


def test_failure_message_lists_each_failure():
    summary = {**run_summary(completed=0, failed=4), "failed_by_reason": {"http_500": 4}}
    message = verify_latency(summary, LatencyTargets(target_e2e_latency_ms=100), "embedding").failure_message()
    assert message.split("; ") == [
        "mean_e2el_ms could not be measured: all 4 requests failed (http_500: 4)",
        "failure_rate = 100.00% (4 of 4 requests) exceeds the limit of 1.00%",
    ]


def test_llm_target_set_has_every_row():
    targets = LatencyTargets(target_e2e_latency_ms=1000, target_ttft_ms=100, target_tpot_ms=20, target_itl_ms=20, target_throughput_per_user=10)
    summary = run_summary(mean_e2el_ms=900.0, mean_ttft_ms=90.0, mean_tpot_ms=15.0, mean_itl_ms=15.0, mean_output_throughput_per_user=60.0)
    verdict = verify_latency(summary, targets, "llm")
    assert [(row.metric, row.status) for row in verdict.checks] == [
        ("mean_e2el_ms", "pass"),
        ("mean_ttft_ms", "pass"),
        ("mean_tpot_ms", "pass"),
        ("mean_itl_ms", "pass"),
        ("mean_output_throughput_per_user", "pass"),
        ("failure_rate", "pass"),
    ]


def test_embedding_rows_skip_unset_llm_targets():
    verdict = verify_latency(run_summary(mean_e2el_ms=5.0), LatencyTargets(target_e2e_latency_ms=10), "embedding")
    assert [row.metric for row in verdict.checks] == ["mean_e2el_ms", "failure_rate"]


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, "fast", True])
def test_unusable_figure_never_raises(bad):
    verdict = verify_latency(run_summary(mean_e2el_ms=bad), LatencyTargets(target_e2e_latency_ms=10), "embedding")
    assert check(verdict, "mean_e2el_ms").status == "fail"


def test_none_summary_fails_checks():
    verdict = verify_latency(None, LatencyTargets(target_e2e_latency_ms=10), "embedding")
    assert [row.status for row in verdict.checks] == ["fail", "fail"]


def test_numpy_figures_are_accepted():
    verdict = verify_latency(run_summary(mean_e2el_ms=np.float32(5.0)), LatencyTargets(target_e2e_latency_ms=10), "embedding")
    assert check(verdict, "mean_e2el_ms").measured == 5.0


def test_zero_threshold_is_exact():
    verdict = verify_latency(run_summary(mean_e2el_ms=100.5), LatencyTargets(target_e2e_latency_ms=100, error_threshold=0), "embedding")
    assert check(verdict, "mean_e2el_ms").status == "fail"


def test_threshold_argument_overrides_targets():
    targets = LatencyTargets(target_e2e_latency_ms=100, error_threshold=0)
    verdict = verify_latency(run_summary(mean_e2el_ms=190.0), targets, "embedding", error_threshold=1.0)
    assert check(verdict, "mean_e2el_ms").allowed == 200.0


def test_missing_statistic_taken_from_requests():
    requests = pd.DataFrame({"success": [True] * 100 + [False], "e2el_ms": list(range(1, 101)) + [10_000.0]})
    targets = LatencyTargets(target_e2e_latency_ms={"value": 100, "statistic": "p90"})
    row = check(verify_latency(run_summary(completed=100, failed=1, mean_e2el_ms=50.5), targets, "embedding", requests=requests), "p90_e2el_ms")
    assert row.measured == pytest.approx(np.percentile(np.arange(1, 101), 90))


def test_throughput_percentile_reads_low_tail():
    requests = pd.DataFrame({"success": [True] * 100, "output_tokens": [100] * 100, "e2el_ms": np.linspace(1000, 10_000, 100)})
    targets = LatencyTargets(target_throughput_per_user={"value": 20, "statistic": "p90"})
    row = check(verify_latency(run_summary(), targets, "llm", requests=requests), "p10_output_throughput_per_user")
    assert row.measured == pytest.approx(np.percentile(100 / np.linspace(1, 10, 100), 10))


def test_number_target_means_mean():
    assert LatencyTargets(target_ttft_ms=50).target_ttft_ms == MetricTarget(value=50, statistic="mean")


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"target_latency": 5}, "target_latency"),
        ({"target_ttft_ms": -5}, "target_ttft_ms"),
        ({"target_ttft_ms": {"value": 5, "statistic": "p95"}}, "statistic"),
        ({"max_failure_rate": 1.5}, "max_failure_rate"),
        ({"error_threshold": -0.1}, "error_threshold"),
    ],
)
def test_bad_target_rejected(fields, named):
    with pytest.raises(ValidationError, match=named):
        LatencyTargets(**fields)


def test_unknown_model_type_rejected():
    with pytest.raises(InvalidInputError, match="model_type='unknown'"):
        verify_latency({}, LatencyTargets(), "unknown")


def test_negative_threshold_rejected():
    with pytest.raises(InvalidInputError, match="error_threshold=-1"):
        verify_latency({}, LatencyTargets(), "embedding", error_threshold=-1)


def test_verdict_rows_are_json_native():
    import json

    rows = verify_latency(run_summary(mean_e2el_ms=np.float64(1.23456789)), LatencyTargets(target_e2e_latency_ms=10), "embedding").rows()
    assert json.loads(json.dumps(rows))[0]["measured"] == 1.2346
