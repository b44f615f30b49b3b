"""Run the probe: read the served model, try every endpoint in parallel, classify."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, fields
from typing import Any

import httpx

from modelgate.endpoints import ServerAddress, make_client
from modelgate.errors import InvalidInputError, ProbeError
from modelgate.probe.catalog import CAPABILITY_BY_PATH, PROBES, EndpointProbe
from modelgate.probe.classify import Classification, classify
from modelgate.probe.retries import RetryPolicy, send
from modelgate.probe.served_model import ServedModel, find_served_model
from modelgate.probe.verdicts import Verdict, judge

logger = logging.getLogger(__name__)


@dataclass
class EndpointResult:
    """The outcome of probing one endpoint.

    Attributes:
        path: the endpoint, such as `/v1/embeddings`; the key of every result mapping.
        capability: what the endpoint offers (`chat`, `embeddings`, `rerank`, ...).
        supported: True only for a 2xx response whose body has the endpoint's shape.
        verdict: `supported`, `unsupported`, or `inconclusive` when the response was neither.
        status_code: HTTP status of the final response.
        latency_ms: time of the final request in milliseconds.
        error: why the endpoint is not supported, in the server's words where it gave any.
        attempts: requests sent, retries included.
        url: the URL the probe sent to.
    """

    path: str
    capability: str
    supported: bool
    verdict: str
    status_code: int | None
    latency_ms: float | None
    error: str | None = None
    attempts: int = 1
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return a plain dictionary, for JSON output and Prefect results."""
        return asdict(self)

    @classmethod
    def from_dict(cls, path: str, details: dict[str, Any]) -> EndpointResult:
        """Rebuild a result from `as_dict` output; unknown keys are ignored.

        Details that carry only the basic keys (`supported`, `status_code`, `error`, `latency_ms`)
        get the capability of their path and the verdict `supported` or `unsupported`.
        """
        known = {field.name for field in fields(cls)}
        values = {key: value for key, value in details.items() if key in known}
        values["path"] = path
        values["supported"] = bool(values.get("supported"))
        values.setdefault("capability", CAPABILITY_BY_PATH.get(path, "unknown"))
        values.setdefault("verdict", Verdict.SUPPORTED.value if values["supported"] else Verdict.UNSUPPORTED.value)
        values.setdefault("status_code", None)
        values.setdefault("latency_ms", None)
        return cls(**values)


@dataclass
class ProbeReport:
    """Everything one probe found."""

    base_url: str
    model: str
    listed_models: tuple[str, ...]
    endpoints: dict[str, EndpointResult]
    classification: Classification

    @property
    def model_type(self) -> str:
        """Return the decided model type."""
        return self.classification.model_type

    @property
    def capabilities(self) -> list[str]:
        """Return the working capabilities."""
        return list(self.classification.capabilities)

    def details(self) -> dict[str, dict[str, Any]]:
        """Return the endpoint results as plain dictionaries keyed by path."""
        return {path: result.as_dict() for path, result in self.endpoints.items()}

    def as_dict(self) -> dict[str, Any]:
        """Return the report as one JSON-ready object."""
        return {
            "model": self.model,
            "model_type": self.model_type,
            "capabilities": self.capabilities,
            "reason": self.classification.reason,
            "endpoints": {path: result.supported for path, result in self.endpoints.items()},
            "details": self.details(),
            "listed_models": list(self.listed_models),
        }


async def probe_endpoint(
    client: httpx.AsyncClient, served: ServedModel, root: str, probe: EndpointProbe, policy: RetryPolicy
) -> EndpointResult:
    """POST the endpoint's minimal body with the served model id and judge the response.

    Raises:
        CredentialsRejectedError: the endpoint returned 401 or 403.
        ProbeError: no usable response before the deadline or the attempt limit.
    """
    url = probe.url(served.api_base, root)
    final = await send(client, "POST", url, policy, f"POST {probe.path}", json_body=probe.build_body(served.model_id))
    judgement = judge(final.response, probe.has_valid_shape)
    return EndpointResult(
        path=probe.path,
        capability=probe.capability,
        supported=judgement.verdict == Verdict.SUPPORTED,
        verdict=judgement.verdict.value,
        status_code=final.response.status_code,
        latency_ms=round(final.latency_ms, 3),
        error=judgement.error,
        attempts=final.attempts,
        url=url,
    )


async def _probe_all(
    client: httpx.AsyncClient, served: ServedModel, root: str, policy: RetryPolicy
) -> dict[str, EndpointResult]:
    """Probe every endpoint in parallel; a credentials failure cancels the rest at once."""
    tasks = {probe.path: asyncio.create_task(probe_endpoint(client, served, root, probe, policy)) for probe in PROBES}
    try:
        for finished in asyncio.as_completed(tasks.values()):
            try:
                await finished
            except ProbeError:
                continue
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)

    failures = [f"{task.exception()}" for task in tasks.values() if task.exception() is not None]
    if failures:
        raise ProbeError(f"{len(failures)} endpoints reached no verdict: {'; '.join(failures)}")
    return {path: task.result() for path, task in tasks.items()}


async def probe_server(
    url: str,
    model: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 30.0,
    deadline_s: float = 120.0,
    max_attempts: int = 8,
) -> ProbeReport:
    """Probe which endpoints a server serves for one model, and decide the model type.

    Args:
        url: the server's base URL, with or without a trailing `/v1`.
        model: the served model name to probe; None probes the only model the server lists.
        api_key: bearer token for servers that require one; never logged.
        timeout_s: timeout of one request in seconds.
        deadline_s: overall seconds for the whole probe, retries included.
        max_attempts: maximum requests per endpoint, retries included.

    Raises:
        InvalidInputError: the URL, timeout, deadline or attempt limit is invalid.
        CredentialsRejectedError: the server returned 401 or 403.
        ProbeError: the server is unreachable, lists no usable model, or an endpoint reached no
            verdict before the deadline.
    """
    address = ServerAddress.parse(url)
    for name, value in (("timeout_s", timeout_s), ("deadline_s", deadline_s)):
        if not value > 0:
            raise InvalidInputError(f"{name} is {value}; pass a number of seconds above 0")
    if max_attempts < 1:
        raise InvalidInputError(f"max_attempts is {max_attempts}; pass 1 or more")

    policy = RetryPolicy.starting_now(timeout_s, deadline_s, max_attempts, has_api_key=bool(api_key))
    async with make_client(api_key, timeout_s=timeout_s) as client:
        served = await find_served_model(client, address, model, policy)
        logger.info("probing %s at %s (model ids from %s)", served.model_id, address.root, served.source)
        results = await _probe_all(client, served, address.root, policy)

    for result in results.values():
        logger.info(
            "probe %s %s: %s (HTTP %s, %s attempts) %s",
            served.model_id, result.path, result.verdict, result.status_code, result.attempts, result.error or "",
        )
    classification = classify(results)
    logger.info("probe %s: model type %s (%s)", served.model_id, classification.model_type, classification.reason)
    return ProbeReport(address.root, served.model_id, served.listed, results, classification)

