"""Closed-loop embedding benchmark: N concurrent workers until M requests or a time limit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pandas as pd

from modelgate.bench.stats import summarize
from modelgate.bench.workload import synthetic_texts
from modelgate.endpoints import ServerAddress, make_client
from modelgate.errors import BenchmarkError, InvalidInputError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddingLoad:
    """The load of one embedding benchmark run."""

    concurrency: int = 8
    num_requests: int = 200
    batch_size: int = 1
    input_tokens: int = 32
    warmup_requests: int = 4
    timeout_s: float = 60.0
    max_duration_s: float = 600.0
    seed: int = 0

    def check(self) -> None:
        """Raise InvalidInputError naming the first value out of range."""
        for name in ("concurrency", "num_requests", "batch_size", "input_tokens"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name}={getattr(self, name)} is invalid; it must be at least 1")
        if self.warmup_requests < 0:
            raise InvalidInputError(f"warmup_requests={self.warmup_requests} is invalid; it must be 0 or more")
        for name in ("timeout_s", "max_duration_s"):
            if getattr(self, name) <= 0:
                raise InvalidInputError(f"{name}={getattr(self, name)} is invalid; it must be above 0")


@dataclass
class RequestRecords:
    """Per-request measurements in preallocated columns, filled by index while the load runs."""

    size: int
    start_s: np.ndarray = field(init=False)
    e2el_ms: np.ndarray = field(init=False)
    success: np.ndarray = field(init=False)
    prompt_tokens: np.ndarray = field(init=False)
    status_code: np.ndarray = field(init=False)
    error: list[str | None] = field(init=False)

    def __post_init__(self) -> None:
        self.start_s = np.full(self.size, np.nan)
        self.e2el_ms = np.full(self.size, np.nan)
        self.success = np.zeros(self.size, dtype=bool)
        self.prompt_tokens = np.full(self.size, -1, dtype=np.int64)
        self.status_code = np.zeros(self.size, dtype=np.int32)
        self.error = [None] * self.size

    def to_frame(self, count: int) -> pd.DataFrame:
        """Return the first `count` records as a DataFrame; missing token counts become <NA>."""
        tokens = pd.array(self.prompt_tokens[:count], dtype="Int64")
        tokens[self.prompt_tokens[:count] < 0] = pd.NA
        return pd.DataFrame(
            {
                "request": np.arange(count),
                "start_s": self.start_s[:count],
                "e2el_ms": self.e2el_ms[:count],
                "success": self.success[:count],
                "status_code": self.status_code[:count],
                "prompt_tokens": tokens,
                "error": self.error[:count],
            }
        )


@dataclass
class BenchmarkResult:
    """Summary metrics and the per-request table of one run."""

    summary: dict[str, Any]
    requests: pd.DataFrame


def check_embedding_body(body: Any, expected: int) -> tuple[str | None, int | None]:
    """Return (error reason or None, prompt tokens or None) for an embeddings answer with `expected` vectors."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return "invalid_body", None
    data = body["data"]
    if len(data) != expected:
        return "wrong_count", None

    dimensions = set()
    for item in data:
        vector = item.get("embedding") if isinstance(item, dict) else None
        if not isinstance(vector, list) or not vector:
            return "invalid_body", None
        dimensions.add(len(vector))
    if len(dimensions) != 1:
        return "mixed_dimensions", None

    usage = body.get("usage")
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return None, tokens if isinstance(tokens, int) else None


async def send_embedding_request(client: httpx.AsyncClient, url: str, payload: dict[str, Any], expected: int) -> tuple[float, int, str | None, int | None]:
    """Send one request and read the whole body; return (latency ms, status, error reason, prompt tokens)."""
    started = time.perf_counter()
    try:
        response = await client.post(url, json=payload)
        content = await response.aread()
    except httpx.TimeoutException:
        return (time.perf_counter() - started) * 1000, 0, "timeout", None
    except httpx.HTTPError as error:
        return (time.perf_counter() - started) * 1000, 0, f"connection_error:{type(error).__name__}", None
    latency_ms = (time.perf_counter() - started) * 1000

    if not 200 <= response.status_code < 300:
        return latency_ms, response.status_code, f"http_{response.status_code}", None
    try:
        body = response.json() if content else None
    except ValueError:
        return latency_ms, response.status_code, "invalid_body", None

    reason, tokens = check_embedding_body(body, expected)
    return latency_ms, response.status_code, reason, tokens


async def run_embedding_benchmark(
    url: str, model: str, load: EmbeddingLoad, api_key: str | None = None, progress: Callable[[int, int], None] | None = None
) -> BenchmarkResult:
    """Run the closed-loop embedding benchmark and return its metrics.

    Latency ends when the whole response body is read. Failed requests stay in the table and in
    `failed`; latency statistics cover successful requests only. `progress(done, total)` is called
    in the event loop after each measured request, so it must return at once.

    Raises:
        InvalidInputError: the load has a value out of range.
        BenchmarkError: every warm-up request failed, so the server cannot be measured.
    """
    load.check()
    endpoint = f"{ServerAddress.parse(url).api}/embeddings"
    texts = synthetic_texts(load.num_requests * load.batch_size + load.warmup_requests * load.batch_size, load.input_tokens, load.seed)
    records = RequestRecords(load.num_requests)

    async with make_client(api_key, timeout_s=load.timeout_s, max_connections=load.concurrency) as client:
        warmup_errors = []
        for index in range(load.warmup_requests):
            batch = texts[-(index + 1) * load.batch_size :][: load.batch_size]
            _, status, reason, _ = await send_embedding_request(client, endpoint, {"model": model, "input": batch}, len(batch))
            if reason is not None:
                warmup_errors.append(f"{reason} (status {status})")
        if load.warmup_requests and len(warmup_errors) == load.warmup_requests:
            raise BenchmarkError(f"all {load.warmup_requests} warm-up requests to {endpoint} failed: {warmup_errors[0]}")

        next_index = 0
        run_started = time.perf_counter()
        deadline = run_started + load.max_duration_s

        finished = 0

        async def worker() -> None:
            nonlocal next_index, finished
            while next_index < load.num_requests and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                batch = texts[index * load.batch_size : (index + 1) * load.batch_size]
                records.start_s[index] = time.perf_counter() - run_started
                latency_ms, status, reason, tokens = await send_embedding_request(
                    client, endpoint, {"model": model, "input": batch}, len(batch)
                )
                records.e2el_ms[index] = latency_ms
                records.status_code[index] = status
                records.success[index] = reason is None
                records.error[index] = reason
                records.prompt_tokens[index] = -1 if tokens is None else tokens
                finished += 1
                if progress is not None:
                    progress(finished, load.num_requests)

        logger.info("benchmark %s: %d requests, concurrency %d, batch %d", model, load.num_requests, load.concurrency, load.batch_size)
        await asyncio.gather(*(worker() for _ in range(load.concurrency)))
        duration_s = time.perf_counter() - run_started

    sent = next_index
    return BenchmarkResult(summary=summarize_run(records, sent, duration_s, load), requests=records.to_frame(sent))


def summarize_run(records: RequestRecords, sent: int, duration_s: float, load: EmbeddingLoad) -> dict[str, Any]:
    """Return the run's summary metrics with vLLM's names."""
    success = records.success[:sent]
    completed = int(success.sum())
    reasons = Counter(reason for reason in records.error[:sent] if reason is not None)
    tokens = records.prompt_tokens[:sent][success]

    summary: dict[str, Any] = {
        "model_type": "embedding",
        "concurrency": load.concurrency,
        "batch_size": load.batch_size,
        "num_requests": load.num_requests,
        "sent": sent,
        "completed": completed,
        "failed": sent - completed,
        "failed_by_reason": dict(reasons),
        "failure_rate": (sent - completed) / sent if sent else None,
        "duration_s": duration_s,
        "request_throughput": completed / duration_s if duration_s > 0 else None,
        "input_throughput": completed * load.batch_size / duration_s if duration_s > 0 else None,
        "total_input_tokens": int(tokens[tokens >= 0].sum()) if (tokens >= 0).any() else None,
    }
    summary.update(summarize("e2el", records.e2el_ms[:sent][success]))
    return summary
