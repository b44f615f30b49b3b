"""Tasks that probe the served endpoints and decide the model type."""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from modelgate.errors import ProbeError
from modelgate.probe import UNKNOWN_TYPE, EndpointResult, classify, probe_server
from modelgate.settings import get_settings


# No Prefect retries: the engine retries 429, 502, 503, 504, timeouts and connection errors inside
# its own deadline, and a rejected key or an unknown model does not change on a retry.
@task(task_run_name="probe-endpoints-{served_model_name}", cache_policy=NO_CACHE)
def probe_endpoints(base_url: str, served_model_name: str, timeout_s: float) -> dict[str, dict[str, Any]]:
    """POST a minimal request to each endpoint with the served model id; return details keyed by path.

    Each details dict has `supported`, `verdict`, `status_code`, `error`, `latency_ms`, `capability`,
    `attempts` and `url`.
    """
    logger = get_run_logger()
    settings = get_settings()
    logger.info("probing %s at %s", served_model_name, base_url)

    report = asyncio.run(
        probe_server(
            base_url,
            served_model_name,
            timeout_s=timeout_s,
            deadline_s=settings.probe_deadline_s,
            max_attempts=settings.probe_max_attempts,
        )
    )
    if report.model != served_model_name:
        logger.warning("%s is served as %s; the probe used the served id", served_model_name, report.model)

    for path, result in report.endpoints.items():
        logger.info(
            "%s %s: %s (HTTP %s, %.1f ms) %s",
            served_model_name, path, result.verdict, result.status_code, result.latency_ms or 0.0, result.error or "",
        )
    return report.details()


@task(task_run_name="classify-model-{served_model_name}", cache_policy=NO_CACHE)
def classify_model(served_model_name: str, endpoint_details: dict[str, dict[str, Any]]) -> str:
    """Return the model type; fail listing every endpoint tried when it is unknown."""
    results = {path: EndpointResult.from_dict(path, details) for path, details in endpoint_details.items()}
    classification = classify(results)

    if classification.model_type == UNKNOWN_TYPE:
        tried = "; ".join(
            f"{path}: {result.verdict}, HTTP {result.status_code}, {result.error or 'no error text'}"
            for path, result in results.items()
        )
        raise ProbeError(
            f"cannot decide the type of {served_model_name}: {classification.reason}. Endpoints tried: {tried}"
        )

    capabilities = ", ".join(classification.capabilities)
    get_run_logger().info(
        "%s is classified as %s (capabilities: %s)", served_model_name, classification.model_type, capabilities
    )
    return classification.model_type


def capabilities_of(endpoint_details: dict[str, dict[str, Any]]) -> list[str]:
    """Return the working capabilities, such as `["chat", "completions", "embeddings"]`."""
    results = {path: EndpointResult.from_dict(path, details) for path, details in endpoint_details.items()}
    return list(classify(results).capabilities)
