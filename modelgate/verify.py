"""Check a benchmark summary against performance targets and produce a per-metric verdict.

Every target that is set is checked. A target that is not set shows "not set", and a target that
does not apply to the model type shows "not applicable". A metric that could not be measured (all
requests failed, no output tokens) fails with that reason. Missing, None and NaN figures never raise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, field_validator

from modelgate.errors import InvalidInputError

Statistic = Literal["mean", "median", "p90", "p99"]
MODEL_TYPES = ("embedding", "llm", "reranker", "classifier")


class MetricTarget(BaseModel):
    """One target value and the statistic of the per-request distribution it applies to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: PositiveFloat = Field(description="Target in the metric's unit: ms for latencies, output tokens/s for throughput.")
    statistic: Statistic = Field(
        default="mean",
        description=(
            "Statistic compared with the target. For latencies p90/p99 is the value 90/99 % of requests stay under; "
            "for throughput per user it is the value 90/99 % of requests reach (the 10th/1st percentile)."
        ),
    )


class LatencyTargets(BaseModel):
    """Latency, throughput and failure-rate targets of one model; a bare number means a target on the mean."""

    model_config = ConfigDict(extra="forbid")

    target_e2e_latency_ms: MetricTarget | PositiveFloat | None = Field(
        default=None, description="End-to-end request latency target in ms (every model type)."
    )
    target_ttft_ms: MetricTarget | PositiveFloat | None = Field(default=None, description="Time to first token target in ms (LLMs).")
    target_tpot_ms: MetricTarget | PositiveFloat | None = Field(default=None, description="Time per output token target in ms (LLMs).")
    target_itl_ms: MetricTarget | PositiveFloat | None = Field(default=None, description="Inter-token latency target in ms (LLMs).")
    target_throughput_per_user: MetricTarget | PositiveFloat | None = Field(
        default=None, description="Minimum output tokens per second of one request (LLMs)."
    )
    max_failure_rate: float | None = Field(
        default=0.01,
        ge=0,
        le=1,
        description="Largest share of failed requests that passes (0.01 = 1 %); error_threshold does not loosen it. None: not checked.",
    )
    error_threshold: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description="Allowed relative excess: a latency passes at measured <= target * (1 + t), a throughput at measured >= target * (1 - t).",
    )

    @field_validator("target_e2e_latency_ms", "target_ttft_ms", "target_tpot_ms", "target_itl_ms", "target_throughput_per_user")
    @classmethod
    def _number_means_mean(cls, value: MetricTarget | float | None) -> MetricTarget | None:
        if isinstance(value, (int, float)):
            return MetricTarget(value=value)
        return value

    def target(self, field_name: str) -> MetricTarget | None:
        """Return the target stored in `field_name`, always as a MetricTarget or None."""
        value = getattr(self, field_name)
        return MetricTarget(value=value) if isinstance(value, (int, float)) else value


@dataclass(frozen=True)
class MetricSpec:
    """A checkable metric: its vLLM name, target field, unit, direction and the model types it applies to."""

    name: str
    field_name: str
    unit: str
    direction: Literal["max", "min"]
    model_types: tuple[str, ...]
    needs_tokens: bool = False


METRICS = (
    MetricSpec("e2el", "target_e2e_latency_ms", "ms", "max", MODEL_TYPES),
    MetricSpec("ttft", "target_ttft_ms", "ms", "max", ("llm",), needs_tokens=True),
    MetricSpec("tpot", "target_tpot_ms", "ms", "max", ("llm",), needs_tokens=True),
    MetricSpec("itl", "target_itl_ms", "ms", "max", ("llm",), needs_tokens=True),
    MetricSpec("output_throughput_per_user", "target_throughput_per_user", "tok/s", "min", ("llm",), needs_tokens=True),
)


@dataclass(frozen=True)
class MetricCheck:
    """One row of the verdict table; `status` is "pass", "fail", "not set" or "not applicable"."""

    metric: str
    statistic: str
    unit: str
    measured: float | None
    target: float | None
    allowed: float | None
    status: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    """All checks of one run; `passed` is False when any check failed."""

    passed: bool
    checks: list[MetricCheck]

    @property
    def failed_checks(self) -> list[MetricCheck]:
        """Return the checks whose status is "fail"."""
        return [check for check in self.checks if check.status == "fail"]

    def failure_message(self) -> str:
        """Return the reasons of the failed checks joined by "; ", for the flow's final state."""
        return "; ".join(check.reason for check in self.failed_checks)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {"passed": self.passed, "checks": [asdict(check) for check in self.checks]}

    def rows(self) -> list[dict[str, Any]]:
        """Return the verdict table with JSON-native values: metric, statistic, measured, target, allowed, status."""
        return [
            {
                "metric": check.metric,
                "statistic": check.statistic,
                "measured": _rounded(check.measured),
                "target": _rounded(check.target),
                "allowed": _rounded(check.allowed),
                "unit": check.unit,
                "status": check.status,
                "reason": check.reason,
            }
            for check in self.checks
        ]


def summary_key(metric: MetricSpec, statistic: str) -> str:
    """Return the summary key that contains `statistic` of `metric`, in vLLM's naming (`p99_ttft_ms`).

    A throughput percentile reads the low tail, so p90 of throughput per user is
    `p10_output_throughput_per_user`: the value 90 % of requests reach.
    """
    if metric.unit == "ms":
        return f"{statistic}_{metric.name}_ms"
    if statistic.startswith("p"):
        return f"p{100 - int(statistic[1:])}_{metric.name}"
    return f"{statistic}_{metric.name}"


def verify_latency(
    summary: dict[str, Any] | None,
    targets: LatencyTargets,
    model_type: str,
    error_threshold: float | None = None,
    requests: pd.DataFrame | None = None,
) -> Verdict:
    """Check every target against the benchmark summary and return the verdict.

    Args:
        summary: benchmark summary with vLLM's metric names; None counts as an empty summary.
        targets: the targets; every metric gets a row, set or not.
        model_type: embedding, llm, reranker or classifier; decides which targets apply.
        error_threshold: overrides `targets.error_threshold` when given.
        requests: per-request records; a statistic missing from the summary is computed from them.

    Raises:
        InvalidInputError: the model type is unknown or error_threshold is negative.
    """
    if model_type not in MODEL_TYPES:
        raise InvalidInputError(f"model_type={model_type!r} is invalid; use one of {', '.join(MODEL_TYPES)}")
    threshold = targets.error_threshold if error_threshold is None else error_threshold
    if threshold < 0:
        raise InvalidInputError(f"error_threshold={threshold} is invalid; it must be 0 or more")

    summary = summary or {}
    checks = []
    for metric in METRICS:
        target = targets.target(metric.field_name)
        if target is None and model_type not in metric.model_types:
            continue  # an unset target of another model type would only add noise rows
        checks.append(_check_target(metric, target, summary, requests, model_type, threshold))
    checks.append(check_failure_rate(summary, targets.max_failure_rate))
    return Verdict(passed=all(check.status != "fail" for check in checks), checks=checks)


def check_metric(
    metric: MetricSpec, target: MetricTarget, measured: float | None, error_threshold: float, missing_reason: str = ""
) -> MetricCheck:
    """Check one measured statistic: a latency passes at measured <= allowed, a throughput at measured >= allowed."""
    key = summary_key(metric, target.statistic)
    if metric.direction == "max":
        allowed, relation = target.value * (1 + error_threshold), "<="
    else:
        allowed, relation = target.value * (1 - error_threshold), ">="

    if measured is None:
        reason = f"{key} could not be measured: {missing_reason or 'no value'}"
        return MetricCheck(key, target.statistic, metric.unit, None, target.value, allowed, "fail", reason)

    passed = measured <= allowed if metric.direction == "max" else measured >= allowed
    outcome = "meets" if passed else "misses"
    reason = (
        f"{key} = {measured:.2f} {metric.unit} {outcome} target {target.value:g} {metric.unit} "
        f"(allowed {relation} {allowed:.2f} with error_threshold {error_threshold:g})"
    )
    return MetricCheck(key, target.statistic, metric.unit, measured, target.value, allowed, "pass" if passed else "fail", reason)


def check_failure_rate(summary: dict[str, Any], max_failure_rate: float | None) -> MetricCheck:
    """Check the share of failed requests against `max_failure_rate` with no error_threshold."""
    measured = failure_rate(summary)
    if max_failure_rate is None:
        return MetricCheck("failure_rate", "share", "ratio", measured, None, None, "not set", "failure_rate: no limit set")
    if measured is None:
        reason = "failure_rate could not be measured: the summary has no sent, completed or failed count"
        return MetricCheck("failure_rate", "share", "ratio", None, max_failure_rate, max_failure_rate, "fail", reason)

    passed = measured <= max_failure_rate
    failed = _number(summary.get("failed"))
    count = f" ({failed:.0f} of {_sent(summary):.0f} requests)" if failed is not None and _sent(summary) else ""
    reason = f"failure_rate = {measured:.2%}{count} {'meets' if passed else 'exceeds'} the limit of {max_failure_rate:.2%}"
    return MetricCheck("failure_rate", "share", "ratio", measured, max_failure_rate, max_failure_rate, "pass" if passed else "fail", reason)


def failure_rate(summary: dict[str, Any]) -> float | None:
    """Return failed / sent from the summary, or None when no request was sent or the counts are missing."""
    rate = _number(summary.get("failure_rate"))
    if rate is not None:
        return rate
    failed = _number(summary.get("failed"))
    sent = _sent(summary)
    if failed is None or not sent:
        return None
    return failed / sent


def _check_target(
    metric: MetricSpec,
    target: MetricTarget | None,
    summary: dict[str, Any],
    requests: pd.DataFrame | None,
    model_type: str,
    threshold: float,
) -> MetricCheck:
    statistic = target.statistic if target else "mean"
    key = summary_key(metric, statistic)
    if target is None:
        measured = _number(summary.get(key))
        return MetricCheck(key, statistic, metric.unit, measured, None, None, "not set", f"{key}: no target set")
    if model_type not in metric.model_types:
        reason = f"{key}: a {metric.name} target does not apply to {model_type} models"
        return MetricCheck(key, statistic, metric.unit, None, target.value, None, "not applicable", reason)

    measured = _number(summary.get(key))
    if measured is None and requests is not None:
        measured = statistic_from_requests(requests, metric, statistic)
    return check_metric(metric, target, measured, threshold, _why_unmeasured(summary, metric, key))


def statistic_from_requests(requests: pd.DataFrame, metric: MetricSpec, statistic: str) -> float | None:
    """Compute `statistic` of `metric` over the successful requests, or None when the records lack it.

    Throughput per user is `output_tokens / e2el` per request when the records have no such column.
    """
    frame = requests[requests["success"].astype(bool)] if "success" in requests.columns else requests
    if metric.unit == "ms":
        column = f"{metric.name}_ms"
        if column not in frame.columns:
            return None
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    elif metric.name in frame.columns:
        values = pd.to_numeric(frame[metric.name], errors="coerce").to_numpy(dtype=float)
    elif {"output_tokens", "e2el_ms"} <= set(frame.columns):
        tokens = pd.to_numeric(frame["output_tokens"], errors="coerce").to_numpy(dtype=float)
        seconds = pd.to_numeric(frame["e2el_ms"], errors="coerce").to_numpy(dtype=float) / 1000
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(seconds > 0, tokens / seconds, np.nan)
    else:
        return None

    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    if statistic == "mean":
        return float(np.mean(values))
    if statistic == "median":
        return float(np.median(values))
    percentile = int(statistic[1:])
    return float(np.percentile(values, percentile if metric.direction == "max" else 100 - percentile))


def _why_unmeasured(summary: dict[str, Any], metric: MetricSpec, key: str) -> str:
    sent = _sent(summary)
    completed = _number(summary.get("completed"))
    if sent == 0:
        return "no request was sent"
    if completed == 0 and sent:
        reasons = summary.get("failed_by_reason")
        detail = f" ({', '.join(f'{name}: {count}' for name, count in reasons.items())})" if isinstance(reasons, dict) and reasons else ""
        return f"all {sent:.0f} requests failed{detail}"
    if metric.needs_tokens and completed:
        return f"the {completed:.0f} successful requests produced no output tokens to measure it"
    return f"the summary has no {key}"


def _sent(summary: dict[str, Any]) -> float | None:
    sent = _number(summary.get("sent"))
    if sent is not None:
        return sent
    completed, failed = _number(summary.get("completed")), _number(summary.get("failed"))
    if completed is None or failed is None:
        return None
    return completed + failed


def _number(value: Any) -> float | None:
    """Return `value` as a finite float, or None for None, NaN, infinity, booleans and non-numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
