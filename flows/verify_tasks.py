"""Task that checks the benchmark against the latency targets."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.params import artifact_slug
from modelgate.verify import LatencyTargets, Verdict
from modelgate.verify import verify_latency as check_targets


@task(task_run_name="verify-latency-{served_model_name}", cache_policy=NO_CACHE)
def verify_latency(
    served_model_name: str, model_type: str, summary: dict[str, Any], targets: LatencyTargets, error_threshold: float
) -> Verdict:
    """Check each target that applies to the model type, save the verdict table and log each check."""
    logger = get_run_logger()
    verdict = check_targets(summary, targets, model_type, error_threshold)
    for check in verdict.checks:
        logger.info("%s %s: %s", served_model_name, check.status, check.reason)

    create_table_artifact(
        table=[
            {
                "metric": check.metric,
                "measured": check.measured,
                "target": check.target,
                "allowed": check.allowed,
                "status": check.status,
            }
            for check in verdict.checks
        ],
        key=f"bench-verdict-{artifact_slug(served_model_name)}",
        description=f"Latency verdict of {served_model_name}: {'pass' if verdict.passed else 'fail'}",
    )
    return verdict
