"""List-then-watch of one resource collection, reopened when the server ends the watch."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.watch import Watch

from modelgate.kube.client import failure_hint, request_json
from modelgate.kube.errors import KubeApiError

logger = logging.getLogger(__name__)

# Consecutive broken watch connections tolerated before the watcher gives up.
MAX_BROKEN_WATCHES = 5

Handler = Callable[[str, dict[str, Any]], None]


async def follow(
    list_call: Callable[..., Awaitable[Any]],
    action: str,
    handle: Handler,
    window_s: int,
    request_timeout_s: float,
    log: logging.Logger | logging.LoggerAdapter = logger,
    **list_options: Any,
) -> None:
    """List the collection, then watch it from the list's resourceVersion, until cancelled.

    `handle(type, object)` receives `RESET` with an empty object before every list, `LISTED` for
    each object of the list, then `ADDED`,
    `MODIFIED` and `DELETED` from the watch. A watch the server closes after `window_s` is reopened
    from the last resourceVersion seen. An expired resourceVersion (410 Gone) or a broken connection
    leads to a new list.

    Raises:
        KubeApiError: the API rejected the list or watch, or the connection broke too often in a row.
    """
    broken = 0
    while True:
        listing = await request_json(list_call, action, request_timeout_s, **list_options)
        handle("RESET", {})
        for item in listing.get("items") or []:
            handle("LISTED", item)
        version = listing.get("metadata", {}).get("resourceVersion")

        while True:
            watch = Watch(return_type="object")
            try:
                async with watch:
                    stream = watch.stream(
                        list_call,
                        resource_version=version,
                        timeout_seconds=window_s,
                        allow_watch_bookmarks=True,
                        _request_timeout=window_s + request_timeout_s,
                        **list_options,
                    )
                    async for event in stream:
                        broken = 0
                        if event["type"] != "BOOKMARK":
                            handle(event["type"], event["raw_object"])
                    version = watch.resource_version or version
            except ApiException as error:
                if error.status == 410:
                    log.info("%s: resourceVersion %s expired; listing again", action, version)
                    break
                raise KubeApiError(f"cannot {action}: HTTP {error.status}: {error.reason}; {failure_hint(error.status or 0, action)}", error.status or 0) from error
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                broken += 1
                if broken >= MAX_BROKEN_WATCHES:
                    raise KubeApiError(f"cannot {action}: the watch broke {broken} times in a row ({type(error).__name__}: {error})") from error
                log.warning("%s: watch broke (%s: %s); listing again", action, type(error).__name__, error)
                await asyncio.sleep(min(2**broken, 10))
                break
