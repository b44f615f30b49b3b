"""Steps every benchmark run shares: the connection pool, warm-up, the measured run and its records."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from modelgate.bench.http import ConnectionPool, RequestFailed
from modelgate.bench.scheduler import RunTiming, Scheduler
from modelgate.endpoints import ServerAddress
from modelgate.errors import BenchmarkError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Warm-up inputs use indexes far above any measured request, so no measured prompt hits a cache warmed here.
WARMUP_INDEX_BASE = 1_000_000_000


@dataclass
class Target:
    """The request destination: the pool for the server's origin and the paths under it."""

    pool: ConnectionPool
    api_path: str
    root_path: str
    url: str

    @classmethod
    def open(cls, url: str, api_key: str | None) -> Target:
        """Parse `url` (with or without /v1) and open a pool that sends `api_key` as a bearer token."""
        address = ServerAddress.parse(url)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        pool = ConnectionPool(address.root, headers)
        return cls(pool, urlsplit(address.api).path, urlsplit(address.root).path, address.api)


WarmupSend = Callable[[int], Awaitable[str | None]]
"""Send warm-up request k and return its failure reason, or None on success."""


async def warm_up(send: WarmupSend, count: int, concurrency: int | None, endpoint: str, one_succeeded: bool = False) -> None:
    """Send `count` uncounted requests, `concurrency` at a time, so connections and server caches are warm.

    Raises:
        BenchmarkError: every warm-up request failed (and `one_succeeded` is False), so the server
            cannot be measured.
    """
    if count == 0:
        return
    gate = asyncio.Semaphore(max(1, min(count, concurrency or count)))

    async def one(k: int) -> str | None:
        async with gate:
            return await send(k)

    reasons = await asyncio.gather(*(one(k) for k in range(count)))
    failures = [reason for reason in reasons if reason is not None]
    if failures:
        logger.warning("%d of %d warm-up requests to %s failed, first: %s", len(failures), count, endpoint, failures[0])
    if len(failures) == count and not one_succeeded:
        raise BenchmarkError(f"all {count} warm-up requests to {endpoint} failed: {failures[0]}; check the server log and the model name")


async def open_connections(target: Target, concurrency: int | None, num_requests: int) -> None:
    """Open one keep-alive connection per request slot before the measured run.

    Without this, the first wave of a high-concurrency run pays for connection set-up inside its
    TTFT. An open loop with no concurrency cap opens connections as it goes. A failure here is only
    logged: the measured requests then fail and are counted with their reason.
    """
    if not concurrency:
        return
    try:
        await target.pool.open_idle(min(concurrency, num_requests))
    except RequestFailed as failure:
        logger.warning("could not open connections to %s before the run: %s", target.url, failure)


async def measure(scheduler: Scheduler) -> RunTiming:
    """Run the measured load with the objects of the set-up frozen out of garbage collection.

    Frozen objects are never scanned, and the higher young-generation threshold makes collections
    rare, so a collection pause seldom lands inside a timed request.
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        timing = await scheduler.run()
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    return timing


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion on a new event loop: uvloop's when installed, else asyncio's.

    uvloop about halves the client's cost per socket event (measured in benchmarks/client_transports.py).
    """
    try:
        import uvloop
    except ImportError:
        factory = None
    else:
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coroutine)
