"""The load generator: closed loop (N workers) or open loop (arrivals on an absolute schedule).

Open-loop arrival times are computed once from the run's start, and the scheduler sleeps until each
absolute time, so a late wake-up never shifts the requests after it. The time a request waited to be
sent (late scheduler, concurrency cap) is recorded per request as `send_delay_ms`, apart from its latency.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from modelgate.bench.records import FloatBuffer, RequestRecords
from modelgate.errors import InvalidInputError

logger = logging.getLogger(__name__)

perf_counter = time.perf_counter

# The loop-lag probe wakes this often; its lateness is the event-loop lag the client self-check reports.
LAG_PROBE_INTERVAL_S = 0.01
PROGRESS_INTERVAL_S = 0.5

Progress = Callable[[int, int], object]
"""Called with (finished requests, expected requests) about every 0.5 s and at the end, in a worker thread."""


@dataclass(frozen=True)
class LoadShape:
    """The shape of a load: how many requests are issued, and when.

    Attributes:
        concurrency: closed loop: workers sending back to back. Open loop: cap on requests in flight
            (None: no cap).
        num_requests: measured requests to send at most.
        max_duration_s: no request is started after this many seconds; requests in flight finish.
        request_rate: requests per second for an open loop; None for a closed loop.
        arrival: gaps between open-loop arrivals: `poisson` (exponential gaps) or `constant`.
        seed: seed of the Poisson arrivals and of synthetic inputs.
    """

    concurrency: int | None = 8
    num_requests: int = 200
    max_duration_s: float = 600.0
    request_rate: float | None = None
    arrival: Literal["poisson", "constant"] = "poisson"
    seed: int = 0

    def check(self) -> None:
        """Raise InvalidInputError naming the first value out of range."""
        if self.concurrency is not None and self.concurrency < 1:
            raise InvalidInputError(f"concurrency={self.concurrency} is invalid; it must be at least 1")
        if self.request_rate is None and self.concurrency is None:
            raise InvalidInputError("a closed loop needs a concurrency; pass concurrency or a request_rate")
        if self.num_requests < 1:
            raise InvalidInputError(f"num_requests={self.num_requests} is invalid; it must be at least 1")
        if not self.max_duration_s > 0:
            raise InvalidInputError(f"max_duration_s={self.max_duration_s} is invalid; it must be above 0")
        if self.request_rate is not None and not self.request_rate > 0:
            raise InvalidInputError(f"request_rate={self.request_rate} is invalid; it must be above 0 requests per second")
        if self.arrival not in ("poisson", "constant"):
            raise InvalidInputError(f"arrival={self.arrival!r} is invalid; use poisson or constant")


def arrival_offsets(count: int, rate: float, arrival: str, seed: int) -> np.ndarray:
    """Return `count` arrival times in seconds from the start: request 0 at 0, then gaps of mean 1/rate."""
    if arrival == "constant":
        return np.arange(count, dtype=np.float64) / rate
    gaps = np.random.default_rng(seed).exponential(1.0 / rate, size=count)
    gaps[0] = 0.0
    return np.cumsum(gaps)


@dataclass
class RunTiming:
    """Timing of the run and of the scheduler itself."""

    started_at: float
    duration_s: float
    loop_lag_ms: np.ndarray
    schedule_lateness_ms: np.ndarray


class Scheduler:
    """Issue requests with `send(index)` in the shape of `load` and record when each was due."""

    def __init__(self, load: LoadShape, records: RequestRecords, send: Callable[[int], Awaitable[None]], progress: Progress | None = None) -> None:
        self.load = load
        self.records = records
        self.send = send
        self.progress = progress
        self.finished = 0
        self.started_at = 0.0
        self.lateness = FloatBuffer()
        self._running = True

    async def run(self) -> RunTiming:
        """Run the load to the end and return the timing; every request in flight has finished then."""
        self.started_at = perf_counter()
        lag = FloatBuffer()
        monitors = [asyncio.create_task(self._probe_loop_lag(lag))]
        if self.progress is not None:
            monitors.append(asyncio.create_task(self._report_progress()))
        try:
            if self.load.request_rate is None:
                await asyncio.gather(*(self._worker() for _ in range(self.load.concurrency or 1)))
            else:
                await self._open_loop()
        finally:
            duration_s = perf_counter() - self.started_at
            self._running = False
            for monitor in monitors:
                monitor.cancel()
            await asyncio.gather(*monitors, return_exceptions=True)
        if self.progress is not None:
            try:
                await asyncio.to_thread(self.progress, self.finished, self.records.size)
            except Exception as error:
                logger.warning("progress callback failed: %s: %s", type(error).__name__, error)
        return RunTiming(self.started_at, duration_s, lag.values().copy(), self.lateness.values().copy())

    async def _worker(self) -> None:
        deadline = self.started_at + self.load.max_duration_s
        records = self.records
        while records.size < self.load.num_requests:
            now = perf_counter()
            if now >= deadline:
                return
            index = records.add_row()
            records.columns["scheduled_s"][index] = now - self.started_at
            await self._send_counted(index)

    async def _open_loop(self) -> None:
        offsets = arrival_offsets(self.load.num_requests, self.load.request_rate, self.load.arrival, self.load.seed)  # type: ignore[arg-type]
        cap = asyncio.Semaphore(self.load.concurrency) if self.load.concurrency else None
        in_flight: set[asyncio.Task] = set()
        lateness: list[float] = []
        for offset in offsets.tolist():
            if offset >= self.load.max_duration_s:
                break
            due = self.started_at + offset
            delay = due - perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            lateness.append((perf_counter() - due) * 1000)
            if len(lateness) >= 1000:
                self.lateness.extend(lateness)
                lateness.clear()
            index = self.records.add_row()
            self.records.columns["scheduled_s"][index] = offset
            task = asyncio.create_task(self._send_capped(index, cap))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        self.lateness.extend(lateness)
        if in_flight:
            await asyncio.gather(*in_flight)

    async def _send_capped(self, index: int, cap: asyncio.Semaphore | None) -> None:
        if cap is None:
            await self._send_counted(index)
            return
        async with cap:
            await self._send_counted(index)

    async def _send_counted(self, index: int) -> None:
        try:
            await self.send(index)
        finally:
            self.finished += 1

    async def _probe_loop_lag(self, lag: FloatBuffer) -> None:
        pending: list[float] = []
        try:
            while self._running:
                due = perf_counter() + LAG_PROBE_INTERVAL_S
                await asyncio.sleep(LAG_PROBE_INTERVAL_S)
                pending.append((perf_counter() - due) * 1000)
                if len(pending) >= 100:
                    lag.extend(pending)
                    pending.clear()
        finally:
            lag.extend(pending)

    def expected_total(self) -> int:
        """Return the number of requests the run is expected to send in all.

        That is the request limit, or fewer when the time limit comes first at the rate seen so far.
        """
        elapsed = perf_counter() - self.started_at
        planned = self.load.num_requests
        if elapsed < 1.0 or self.records.size == 0:
            return planned
        by_time = int(self.records.size / elapsed * self.load.max_duration_s)
        return max(self.finished, min(planned, by_time))

    async def _report_progress(self) -> None:
        while self._running:
            await asyncio.sleep(PROGRESS_INTERVAL_S)
            try:
                await asyncio.to_thread(self.progress, self.finished, self.expected_total())  # type: ignore[arg-type]
            except Exception as error:  # a broken progress display must not stop the benchmark
                logger.warning("progress callback failed: %s: %s", type(error).__name__, error)
                return
