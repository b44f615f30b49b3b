"""Embedding benchmark over /v1/embeddings: B inputs per request, latency to the last byte of the body.

A request succeeds on a 2xx response with exactly one vector per input, all of one dimension, and that
dimension equal to the one the first successful response had.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson

from modelgate.bench.http import BodyExchange, RequestFailed
from modelgate.bench.llm import error_text
from modelgate.bench.loads import EmbeddingLoad
from modelgate.bench.records import RequestRecords
from modelgate.bench.runner import WARMUP_INDEX_BASE, Target, measure, open_connections, warm_up
from modelgate.bench.scheduler import Progress, RunTiming, Scheduler
from modelgate.bench.summary import BenchmarkResult, client_check_fields, count_fields, latency_fields, load_fields, slo_fields
from modelgate.bench.tokens import calibrate_inputs
from modelgate.bench.workload import Inputs
from modelgate.settings import get_settings

__all__ = ["BenchmarkResult", "EmbeddingLoad", "check_embedding_body", "run_embedding_benchmark"]

logger = logging.getLogger(__name__)

perf_counter = time.perf_counter


def check_embedding_body(body: Any, expected: int) -> tuple[str | None, int | None, int | None]:
    """Check an embeddings response body that should contain `expected` vectors.

    Returns:
        (failure reason or None, prompt tokens from usage or None, vector dimension or None).
    """
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return "invalid_body", None, None
    data = body["data"]
    if len(data) != expected:
        return "wrong_count", None, None

    dimensions = set()
    for item in data:
        vector = item.get("embedding") if isinstance(item, dict) else None
        if not isinstance(vector, list) or not vector:
            return "invalid_body", None, None
        dimensions.add(len(vector))
    if len(dimensions) != 1:
        return "mixed_dimensions", None, None

    usage = body.get("usage")
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return None, tokens if isinstance(tokens, int) else None, dimensions.pop()


class EmbeddingRun:
    """One embeddings benchmark: builds batches, checks responses, fills the records."""

    def __init__(self, target: Target, model: str, load: EmbeddingLoad) -> None:
        self.target = target
        self.model = model
        self.load = load
        self.inputs = Inputs(load.input_tokens, load.seed, load.dataset, load.dataset_column)
        self.path = target.api_path + "/embeddings"
        self.records = RequestRecords(capacity=min(load.num_requests, 65536))
        self.dimension: int | None = None
        self.calibrated = False
        self.scheduler: Scheduler | None = None
        self.loop = asyncio.get_running_loop()

    def batch(self, index: int) -> list[str]:
        """Return the inputs of request `index`."""
        first = index * self.load.batch_size
        return [self.inputs.text(first + offset) for offset in range(self.load.batch_size)]

    async def exchange(self, index: int) -> tuple[BodyExchange, int]:
        """Send request `index`; return the finished exchange and the number of inputs sent."""
        batch = self.batch(index)
        body = orjson.dumps({"model": self.model, "input": batch})
        request = self.target.pool.build_request(self.path, body)
        exchange = await self.target.pool.send(request, lambda: BodyExchange(self.loop.create_future()), self.load.timeout_s)
        return exchange, len(batch)

    def check(self, exchange: BodyExchange, expected: int) -> tuple[str | None, str | None, int | None]:
        """Return (reason, detail, prompt tokens) for a finished exchange."""
        if not 200 <= exchange.status < 300:
            return f"http_{exchange.status}", error_text(exchange.body), None
        try:
            body = orjson.loads(exchange.body)
        except orjson.JSONDecodeError:
            return "invalid_body", "the response body is not JSON", None
        reason, tokens, dimension = check_embedding_body(body, expected)
        if reason is not None:
            return reason, f"expected {expected} vectors of one dimension", None
        if self.dimension is None:
            self.dimension = dimension
        elif dimension != self.dimension:
            return "mixed_dimensions", f"dimension {dimension}, earlier responses had {self.dimension}", None
        return None, None, tokens

    async def warm_up_once(self, k: int) -> str | None:
        """Send warm-up request k; return its failure reason or None."""
        try:
            exchange, expected = await self.exchange(WARMUP_INDEX_BASE + k)
        except RequestFailed as failure:
            return f"{failure.reason}: {failure.detail}"
        reason, detail, _ = self.check(exchange, expected)
        return None if reason is None else f"{reason} (status {exchange.status}): {detail}"

    async def send(self, index: int) -> None:
        """Send measured request `index` and record its outcome."""
        columns = self.records.columns
        start = perf_counter()
        started_at = self.scheduler.started_at  # type: ignore[union-attr]
        columns["start_s"][index] = start - started_at
        columns["send_delay_ms"][index] = (start - started_at - columns["scheduled_s"][index]) * 1000
        try:
            exchange, expected = await self.exchange(index)
        except RequestFailed as failure:
            columns["e2el_ms"][index] = (perf_counter() - start) * 1000
            self.records.fail(index, failure.reason, failure.detail)
            return

        columns["e2el_ms"][index] = (exchange.finished_at - start) * 1000
        columns["status_code"][index] = exchange.status
        reason, detail, tokens = self.check(exchange, expected)
        if reason is not None:
            self.records.fail(index, reason, detail)
            return
        columns["success"][index] = True
        if tokens is not None:
            columns["prompt_tokens"][index] = tokens


async def run_embedding_benchmark(
    url: str, model: str, load: EmbeddingLoad, api_key: str | None = None, progress: Progress | None = None
) -> BenchmarkResult:
    """Run the embedding benchmark and return its summary and per-request records.

    Failed requests stay in the table and in `failed`; latency statistics cover successful requests.

    Raises:
        InvalidInputError: the load has a value out of range or the dataset is unusable.
        BenchmarkError: every warm-up request failed, so the server cannot be measured.
    """
    load.check()
    target = Target.open(url, api_key)
    run = EmbeddingRun(target, model, load)
    try:
        run.calibrated = await calibrate_inputs(target.pool, target.root_path + "/tokenize", model, run.inputs, load.timeout_s)
        await warm_up(run.warm_up_once, load.warmup_requests, load.concurrency, f"{target.url}/embeddings")
        logger.info("benchmark %s: embeddings, %s", model, load)
        await open_connections(target, load.concurrency, load.num_requests)
        run.scheduler = Scheduler(load.shape(), run.records, run.send, progress)
        timing = await measure(run.scheduler)
    finally:
        target.pool.close()
    return BenchmarkResult(summary=summarize_embeddings(run, timing), requests=run.records.to_frame())


def summarize_embeddings(run: EmbeddingRun, timing: RunTiming) -> dict[str, Any]:
    """Return the summary of an embeddings run with vLLM's metric names."""
    records = run.records
    success = records.column("success")
    completed = int(success.sum())
    tokens = records.column("prompt_tokens")[success]
    known = tokens[tokens >= 0]
    duration = timing.duration_s

    summary: dict[str, Any] = {"model_type": "embedding", "batch_size": run.load.batch_size}
    summary.update(load_fields(run.load))
    summary.update(count_fields(records, timing))
    summary.update(
        {
            "total_input_sequences": completed * run.load.batch_size,
            "input_throughput": completed * run.load.batch_size / duration if duration > 0 else None,
            "total_input_tokens": int(known.sum()) if known.size else None,
            "input_token_throughput": int(known.sum()) / duration if known.size and duration > 0 else None,
            "embedding_dimension": run.dimension,
            "inputs_fit_to_tokenizer": run.calibrated,
        }
    )
    summary.update(latency_fields(records, ("e2el",)))
    summary.update(slo_fields(records, {k: v for k, v in run.load.slo_ms.items() if k == "e2el"}, duration))
    summary.update(client_check_fields(records, timing, get_settings().bench_client_lag_limit_ms))
    return summary
