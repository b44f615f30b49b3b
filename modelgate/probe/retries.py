"""Send one probe request, retrying "try again later" responses inside a deadline.

429, 502, 503, 504, timeouts and connection errors say nothing about whether an endpoint exists, so
they are retried with exponential backoff. When the deadline or the attempt limit is reached first,
the probe fails and names the endpoint and the last error instead of guessing a verdict. 401 and 403
fail at once, because they concern the credentials, not the endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from modelgate.errors import CredentialsRejectedError, ProbeError
from modelgate.probe.verdicts import error_text, one_line, parse_body

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
CREDENTIAL_STATUSES = frozenset({401, 403})
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 5.0
# A server's Retry-After is honoured up to this many seconds; the deadline still applies.
MAX_RETRY_AFTER_S = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """Limits shared by every request of one probe.

    Attributes:
        timeout_s: timeout of one request in seconds.
        deadline: `time.monotonic()` value after which no request starts and no retry is scheduled.
        max_attempts: maximum requests per endpoint, retries included.
        has_api_key: whether the client sends a key, so the 401 message names the right fix.
    """

    timeout_s: float
    deadline: float
    max_attempts: int
    has_api_key: bool = False

    @classmethod
    def starting_now(cls, timeout_s: float, deadline_s: float, max_attempts: int, has_api_key: bool) -> RetryPolicy:
        """Return a policy whose deadline is `deadline_s` seconds from now."""
        return cls(timeout_s, time.monotonic() + deadline_s, max_attempts, has_api_key)

    def remaining_s(self) -> float:
        """Return the seconds left before the deadline (negative once it passed)."""
        return self.deadline - time.monotonic()


@dataclass(frozen=True)
class FinalResponse:
    """The last response to one request, after retries."""

    response: httpx.Response
    latency_ms: float
    attempts: int


def backoff_s(attempt: int, retry_after: float | None) -> float:
    """Return the pause after failed attempt number `attempt` (1-based)."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_RETRY_AFTER_S)
    return min(FIRST_BACKOFF_S * 2 ** (attempt - 1), MAX_BACKOFF_S)


def parse_retry_after(response: httpx.Response) -> float | None:
    """Return Retry-After in seconds when the server sent it as a number, else None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def describe_transport_error(error: httpx.HTTPError, timeout_s: float) -> str:
    """Return a one-line description of a request that got no HTTP response."""
    if isinstance(error, httpx.TimeoutException):
        return f"timed out after {timeout_s:.1f} s ({type(error).__name__})"
    detail = one_line(str(error))
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def credentials_message(method: str, url: str, status: int, has_api_key: bool) -> str:
    """Return the error for a 401 or 403; the key itself never appears in it."""
    if has_api_key:
        fix = "the API key sent was not accepted; pass the server's key with --api-key or MODELGATE_API_KEY"
    else:
        fix = "the server requires an API key; pass it with --api-key or MODELGATE_API_KEY"
    return f"{method} {url}: credentials rejected (HTTP {status}); {fix}"


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    policy: RetryPolicy,
    label: str,
    json_body: dict[str, Any] | None = None,
) -> FinalResponse:
    """Send a request until it gets a response that is not "try again later".

    Args:
        client: the HTTP client; it carries the API key.
        method: GET or POST.
        url: the full URL.
        policy: timeout, deadline and attempt limit.
        label: what the request is for, used in logs and errors (such as `POST /v1/embeddings`).
        json_body: the JSON body of a POST.

    Raises:
        CredentialsRejectedError: the server returned 401 or 403.
        ProbeError: the deadline or the attempt limit was reached with no usable response.
    """
    started_all = time.monotonic()
    attempt = 0
    last_error = "no request was sent"

    while True:
        remaining = policy.remaining_s()
        if remaining <= 0:
            raise ProbeError(
                f"{label}: no response before the probe deadline "
                f"({time.monotonic() - started_all:.1f} s, {attempt} attempts); last error: {last_error}"
            )

        attempt += 1
        timeout = min(policy.timeout_s, remaining)
        started = time.perf_counter()
        retry_after = None
        try:
            response = await client.request(method, url, json=json_body, timeout=timeout)
        except httpx.HTTPError as error:
            last_error = describe_transport_error(error, timeout)
        else:
            latency_ms = (time.perf_counter() - started) * 1000
            if response.status_code in CREDENTIAL_STATUSES:
                raise CredentialsRejectedError(credentials_message(method, url, response.status_code, policy.has_api_key))
            if response.status_code not in RETRYABLE_STATUSES:
                return FinalResponse(response, latency_ms, attempt)
            message = error_text(parse_body(response)) or one_line(response.text, 200) or "empty body"
            last_error = f"HTTP {response.status_code}: {message}"
            retry_after = parse_retry_after(response)

        pause = backoff_s(attempt, retry_after)
        if attempt >= policy.max_attempts or policy.remaining_s() < pause:
            raise ProbeError(
                f"{label}: no usable response after {attempt} attempts in "
                f"{time.monotonic() - started_all:.1f} s; last error: {last_error}"
            )
        logger.warning("%s: attempt %d failed (%s); retrying in %.1f s", label, attempt, last_error, pause)
        await asyncio.sleep(pause)
