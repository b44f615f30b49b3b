import pytest

from modelgate.verify import LatencyTargets, verify_latency


def verdict(summary, model_type="embedding", threshold=0.5, **targets):
    return verify_latency(summary, LatencyTargets(**targets), model_type, threshold)


def test_embedding_within_target_passes():
    assert verdict({"mean_e2el_ms": 100.0}, target_e2e_latency_ms=100).passed


def test_exactly_at_allowed_passes():
    assert verdict({"mean_e2el_ms": 150.0}, target_e2e_latency_ms=100).passed


def test_above_allowed_fails():
    assert not verdict({"mean_e2el_ms": 150.01}, target_e2e_latency_ms=100).passed


def test_failure_message_names_values():
    message = verdict({"mean_e2el_ms": 200.0}, target_e2e_latency_ms=100).failure_message()
    assert "mean_e2el_ms = 200.00 misses target 100 (allowed <= 150.00" in message


def test_unset_target_is_reported():
    result = verdict({"mean_e2el_ms": 200.0})
    assert result.checks[0].status == "not set"


def test_unmeasured_metric_fails():
    result = verdict({"mean_e2el_ms": None}, target_e2e_latency_ms=100)
    assert "could not be measured" in result.failure_message()


def test_embedding_ignores_ttft_target():
    result = verdict({"mean_e2el_ms": 10.0}, target_e2e_latency_ms=100, target_ttft_ms=1)
    assert [check.metric for check in result.checks] == ["mean_e2el_ms"]


def test_llm_throughput_is_a_minimum():
    summary = {"mean_output_throughput_per_user": 5.0}
    assert not verdict(summary, model_type="llm", target_throughput_per_user=20).passed


def test_llm_throughput_at_allowed_passes():
    summary = {"mean_output_throughput_per_user": 10.0}
    assert verdict(summary, model_type="llm", target_throughput_per_user=20).passed


def test_negative_threshold_rejected():
    with pytest.raises(ValueError, match="error_threshold=-1"):
        verdict({}, threshold=-1)


def test_unknown_target_field_rejected():
    with pytest.raises(ValueError, match="target_latency"):
        LatencyTargets(target_latency=5)
