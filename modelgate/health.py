"""Health check of a model server: GET /health, then the served model listed in GET /v1/models."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx

from modelgate.endpoints import ServerAddress, error_message, make_client
from modelgate.errors import CredentialsRejectedError, InvalidInputError, NotReadyError

logger = logging.getLogger(__name__)


async def list_models(client: httpx.AsyncClient, address: ServerAddress) -> list[str]:
    """Return the model ids of GET /v1/models.

    Raises:
        CredentialsRejectedError: the server returned 401 or 403.
        NotReadyError: any other failure; the server may still be loading.
    """
    try:
        response = await client.get(f"{address.api}/models")
    except httpx.HTTPError as error:
        raise NotReadyError(f"GET {address.api}/models failed: {type(error).__name__}: {error}") from error

    if response.status_code in (401, 403):
        raise CredentialsRejectedError(
            f"GET {address.api}/models: credentials rejected ({response.status_code}); "
            "pass the server's key with --api-key or MODELGATE_API_KEY"
        )
    if response.status_code != 200:
        raise NotReadyError(f"GET {address.api}/models returned {response.status_code}: {error_message(response)}")

    try:
        entries = response.json()["data"]
        return [str(entry["id"]) for entry in entries]
    except (ValueError, KeyError, TypeError) as error:
        raise NotReadyError(f"GET {address.api}/models returned no model list: {response.text[:200]}") from error


async def check_health(client: httpx.AsyncClient, address: ServerAddress, served_name: str) -> None:
    """Pass when the server is healthy and lists `served_name`.

    A 404 on /health is not a failure, since some servers (llama.cpp's Python server) have no such route.

    Raises:
        NotReadyError: not healthy yet.
        InvalidInputError: the server is up but serves other models; retrying will not help.
    """
    try:
        health = await client.get(f"{address.root}/health")
    except httpx.HTTPError as error:
        raise NotReadyError(f"GET {address.root}/health failed: {type(error).__name__}: {error}") from error
    if health.status_code not in (200, 404):
        raise NotReadyError(f"GET {address.root}/health returned {health.status_code}")

    models = await list_models(client, address)
    if served_name not in models:
        if models:
            raise InvalidInputError(
                f"served model {served_name!r} is not listed by {address.api}/models; the server lists {models}"
            )
        raise NotReadyError(f"{address.api}/models lists no model yet")


async def poll_health(
    url: str,
    served_name: str,
    window_s: float,
    poll_interval_s: float,
    api_key: str | None = None,
    check_alive: Callable[[], None] | None = None,
) -> float:
    """Poll the health check for at most `window_s` seconds; return the seconds it took to pass.

    Args:
        url: the server's base URL, with or without `/v1`.
        served_name: the model id the server must list.
        window_s: how long this attempt polls before it raises NotReadyError.
        poll_interval_s: pause between two checks.
        api_key: bearer token for servers that require one.
        check_alive: called before each check; raises when the server process has died.
    """
    address = ServerAddress.parse(url)
    started = time.monotonic()
    deadline = started + window_s
    last_reason = "no check ran"

    async with make_client(api_key, timeout_s=min(10.0, window_s)) as client:
        while True:
            if check_alive is not None:
                check_alive()
            try:
                await check_health(client, address, served_name)
                return time.monotonic() - started
            except NotReadyError as error:
                last_reason = str(error)

            if time.monotonic() + poll_interval_s > deadline:
                break
            await asyncio.sleep(poll_interval_s)

    raise NotReadyError(f"{served_name} at {address.root} not healthy after {window_s:.0f} s: {last_reason}")
