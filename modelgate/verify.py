"""Check measured metrics against latency targets and produce a per-metric verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LatencyTargets(BaseModel):
    """Latency and throughput targets; a target left unset is reported as "not set", never skipped silently."""

    model_config = ConfigDict(extra="forbid")

    target_e2e_latency_ms: float | None = Field(default=None, gt=0, description="Mean end-to-end latency target in ms (embeddings and LLMs).")
    target_ttft_ms: float | None = Field(default=None, gt=0, description="Mean time to first token target in ms (LLMs only).")
    target_tpot_ms: float | None = Field(default=None, gt=0, description="Mean time per output token target in ms (LLMs only).")
    target_throughput_per_user: float | None = Field(
        default=None, gt=0, description="Minimum output tokens per second for one request (LLMs only)."
    )


@dataclass(frozen=True)
class MetricCheck:
    """One row of the verdict table."""

    metric: str
    target: float | None
    allowed: float | None
    measured: float | None
    status: str  # "pass", "fail" or "not set"
    reason: str


@dataclass(frozen=True)
class Verdict:
    """All checks of one run; `passed` is False when any check failed."""

    passed: bool
    checks: list[MetricCheck]

    def failure_message(self) -> str:
        """Return one line per failed check, for the flow's final state."""
        return "; ".join(check.reason for check in self.checks if check.status == "fail")

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {"passed": self.passed, "checks": [asdict(check) for check in self.checks]}


# (metric in the summary, target field, direction) per model type.
TARGETS_BY_TYPE = {
    "embedding": [("mean_e2el_ms", "target_e2e_latency_ms", "max")],
    "llm": [
        ("mean_ttft_ms", "target_ttft_ms", "max"),
        ("mean_tpot_ms", "target_tpot_ms", "max"),
        ("mean_e2el_ms", "target_e2e_latency_ms", "max"),
        ("mean_output_throughput_per_user", "target_throughput_per_user", "min"),
    ],
}


def check_metric(metric: str, target: float | None, measured: float | None, direction: str, error_threshold: float) -> MetricCheck:
    """Check one metric: a latency passes at measured <= target * (1 + t), a throughput at measured >= target * (1 - t)."""
    if target is None:
        return MetricCheck(metric, None, None, measured, "not set", f"{metric}: no target set")

    allowed = target * (1 + error_threshold) if direction == "max" else target * (1 - error_threshold)
    if measured is None:
        return MetricCheck(metric, target, allowed, None, "fail", f"{metric} could not be measured (no successful request)")

    passed = measured <= allowed if direction == "max" else measured >= allowed
    relation = "<=" if direction == "max" else ">="
    outcome = "meets" if passed else "misses"
    reason = f"{metric} = {measured:.2f} {outcome} target {target:g} (allowed {relation} {allowed:.2f} with error_threshold {error_threshold:g})"
    return MetricCheck(metric, target, allowed, measured, "pass" if passed else "fail", reason)


def verify_latency(summary: dict[str, Any], targets: LatencyTargets, model_type: str, error_threshold: float) -> Verdict:
    """Check every target that applies to `model_type` against the benchmark summary."""
    if error_threshold < 0:
        raise ValueError(f"error_threshold={error_threshold} is invalid; it must be 0 or more")

    checks = [
        check_metric(metric, getattr(targets, field_name), summary.get(metric), direction, error_threshold)
        for metric, field_name, direction in TARGETS_BY_TYPE.get(model_type, [])
    ]
    passed = all(check.status != "fail" for check in checks)
    return Verdict(passed=passed, checks=checks)
