"""Tasks that probe the served endpoints and decide the model type."""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from modelgate.errors import ProbeError
from modelgate.probe import classify_model as classify_endpoints
from modelgate.probe import probe_endpoints as probe_server
from modelgate.probe import results_as_dicts


@task(task_run_name="probe-endpoints-{served_model_name}", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 5])
def probe_endpoints(base_url: str, served_model_name: str, timeout_s: float) -> dict[str, dict[str, Any]]:
    """POST a minimal request to each endpoint with the served model id; return details keyed by path."""
    logger = get_run_logger()
    results = asyncio.run(probe_server(base_url, served_model_name, timeout_s=timeout_s))
    for path, result in results.items():
        logger.info("%s %s: supported=%s (status %s)", served_model_name, path, result.supported, result.status_code)
    return results_as_dicts(results)


@task(task_run_name="classify-model-{served_model_name}", cache_policy=NO_CACHE)
def classify_model(served_model_name: str, endpoint_details: dict[str, dict[str, Any]]) -> str:
    """Return the model type; fail listing every endpoint tried when none of them works."""
    supported = {path: bool(details["supported"]) for path, details in endpoint_details.items()}
    model_type = classify_endpoints(supported)
    if model_type == "unknown":
        tried = "; ".join(
            f"{path}: status {details['status_code']}, {details['error']}" for path, details in endpoint_details.items()
        )
        raise ProbeError(f"{served_model_name} serves none of the probed endpoints ({tried})")

    get_run_logger().info("%s is a %s model", served_model_name, model_type)
    return model_type
