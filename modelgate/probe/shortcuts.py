"""Short entry points for callers that need only the endpoint results or a type from flags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelgate.probe.classify import classify
from modelgate.probe.runner import EndpointResult, probe_server


async def probe_endpoints(
    url: str, model: str | None, api_key: str | None = None, timeout_s: float = 30.0
) -> dict[str, EndpointResult]:
    """Probe with the default deadline and attempt limit; return the endpoint results keyed by path.

    Raises:
        CredentialsRejectedError: the server returned 401 or 403.
        ProbeError: the server is unreachable, lists no usable model, or an endpoint reached no verdict.
    """
    report = await probe_server(url, model, api_key=api_key, timeout_s=timeout_s)
    return report.endpoints


def classify_model(supported: Mapping[str, bool]) -> str:
    """Return the model type from `path -> supported` flags alone.

    NOTE: flags carry no "inconclusive" verdict, so an endpoint that failed oddly counts as
    unsupported here; `classify` on full results is stricter.
    """
    results = {path: EndpointResult.from_dict(path, {"supported": flag}) for path, flag in supported.items()}
    return classify(results).model_type


def results_as_dicts(results: Mapping[str, EndpointResult]) -> dict[str, dict[str, Any]]:
    """Return plain dictionaries keyed by path, for JSON output and Prefect results."""
    return {path: result.as_dict() for path, result in results.items()}
