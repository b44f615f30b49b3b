"""Tasks that resolve the performance targets and check the benchmark against them."""

from __future__ import annotations

from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from blocks.targets import load_targets
from modelgate.verify import LatencyTargets, Verdict
from modelgate.verify import verify_latency as check_targets


@task(task_run_name="load-targets-{served_model_name}", cache_policy=NO_CACHE)
def resolve_targets(served_model_name: str, targets: LatencyTargets | str) -> LatencyTargets:
    """Return inline targets as they are, or load the PerformanceTargets block that `targets` names."""
    resolved = load_targets(targets)
    source = f"block {targets!r}" if isinstance(targets, str) else "inline targets"
    get_run_logger().info("%s: targets from %s: %s", served_model_name, source, resolved.model_dump(exclude_none=True))
    return resolved


@task(task_run_name="verify-latency-{served_model_name}", cache_policy=NO_CACHE)
def verify_latency(
    served_model_name: str,
    model_type: str,
    summary: dict[str, Any],
    targets: LatencyTargets,
    error_threshold: float | None = None,
    requests: pd.DataFrame | None = None,
) -> Verdict:
    """Check every target against the summary and log one line per check; the verdict table is saved with the report."""
    logger = get_run_logger()
    verdict = check_targets(summary, targets, model_type, error_threshold, requests)
    for check in verdict.checks:
        logger.info("%s %s: %s", served_model_name, check.status, check.reason)
    logger.info("%s verdict: %s", served_model_name, "pass" if verdict.passed else f"fail ({len(verdict.failed_checks)} checks)")
    return verdict


def failed_checks_message(served_model_name: str, verdict: Verdict) -> str:
    """Return the message of a Failed flow state: how many checks failed and each reason."""
    failed = verdict.failed_checks
    return f"{served_model_name} failed {len(failed)} of {len(verdict.checks)} performance checks: {verdict.failure_message()}"
