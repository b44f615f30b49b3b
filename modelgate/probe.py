"""Probe which OpenAI-compatible endpoints a server really serves, and decide the model type.

Supported means a 2xx answer whose body has the right shape; a route that exists is not enough,
because some servers answer 500 or an error body for a feature the loaded model lacks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from modelgate.endpoints import ServerAddress, error_message, make_client
from modelgate.errors import CredentialsRejectedError, ProbeError

logger = logging.getLogger(__name__)

EMBEDDINGS = "/v1/embeddings"
CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"


@dataclass(frozen=True)
class EndpointProbe:
    """One endpoint to try: its path under the server root, a minimal body and a shape check."""

    path: str
    build_body: Callable[[str], dict[str, Any]]
    has_valid_shape: Callable[[Any], bool]


@dataclass
class EndpointResult:
    """The outcome of probing one endpoint."""

    path: str
    supported: bool
    status_code: int | None
    latency_ms: float
    error: str | None = None


def _is_embedding_body(body: Any) -> bool:
    try:
        vector = body["data"][0]["embedding"]
    except (KeyError, IndexError, TypeError):
        return False
    return isinstance(vector, list) and len(vector) > 0 and all(isinstance(value, (int, float)) for value in vector)


def _is_chat_body(body: Any) -> bool:
    try:
        return isinstance(body["choices"][0]["message"], dict)
    except (KeyError, IndexError, TypeError):
        return False


def _is_completion_body(body: Any) -> bool:
    try:
        return isinstance(body["choices"][0]["text"], str)
    except (KeyError, IndexError, TypeError):
        return False


PROBES = (
    EndpointProbe(EMBEDDINGS, lambda model: {"model": model, "input": "probe"}, _is_embedding_body),
    EndpointProbe(
        CHAT,
        lambda model: {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1},
        _is_chat_body,
    ),
)

# Statuses that say "this server does not serve that API", as opposed to "try again later".
UNSUPPORTED_STATUSES = {400, 404, 405, 422, 500, 501}


async def probe_endpoint(client: httpx.AsyncClient, address: ServerAddress, model: str, probe: EndpointProbe) -> EndpointResult:
    """POST one minimal request and classify the answer.

    Raises:
        CredentialsRejectedError: 401 or 403, which says nothing about the endpoint.
    """
    url = f"{address.root}{probe.path}"
    started = time.perf_counter()
    try:
        response = await client.post(url, json=probe.build_body(model))
    except httpx.HTTPError as error:
        latency_ms = (time.perf_counter() - started) * 1000
        return EndpointResult(probe.path, False, None, latency_ms, f"{type(error).__name__}: {error}")
    latency_ms = (time.perf_counter() - started) * 1000

    if response.status_code in (401, 403):
        raise CredentialsRejectedError(
            f"POST {url}: credentials rejected ({response.status_code}); pass the server's key with --api-key"
        )

    if 200 <= response.status_code < 300:
        try:
            body = response.json()
        except ValueError:
            return EndpointResult(probe.path, False, response.status_code, latency_ms, "2xx answer is not JSON")
        if probe.has_valid_shape(body):
            return EndpointResult(probe.path, True, response.status_code, latency_ms)
        return EndpointResult(probe.path, False, response.status_code, latency_ms, f"2xx answer of the wrong shape: {response.text[:200]}")

    return EndpointResult(probe.path, False, response.status_code, latency_ms, error_message(response))


async def probe_endpoints(url: str, model: str, api_key: str | None = None, timeout_s: float = 30.0) -> dict[str, EndpointResult]:
    """Probe every known endpoint in parallel; return results keyed by path.

    Raises:
        CredentialsRejectedError: the server rejected the credentials.
        ProbeError: no endpoint answered at all (every request failed to connect or timed out).
    """
    address = ServerAddress.parse(url)
    async with make_client(api_key, timeout_s=timeout_s) as client:
        results = await asyncio.gather(*(probe_endpoint(client, address, model, probe) for probe in PROBES))

    by_path = {result.path: result for result in results}
    for result in results:
        logger.info("probe %s %s: supported=%s status=%s %s", model, result.path, result.supported, result.status_code, result.error or "")

    if all(result.status_code is None for result in results):
        details = "; ".join(f"{result.path}: {result.error}" for result in results)
        raise ProbeError(f"no endpoint of {address.root} answered: {details}")
    return by_path


def classify_model(supported: dict[str, bool]) -> str:
    """Return `llm` when generation works, else `embedding` when embeddings work, else `unknown`."""
    if supported.get(CHAT) or supported.get(COMPLETIONS):
        return "llm"
    if supported.get(EMBEDDINGS):
        return "embedding"
    return "unknown"


def results_as_dicts(results: dict[str, EndpointResult]) -> dict[str, dict[str, Any]]:
    """Return plain dictionaries, for JSON output and Prefect results."""
    return {path: asdict(result) for path, result in results.items()}
