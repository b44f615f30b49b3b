"""Streaming LLM benchmark over /v1/chat/completions or /v1/completions.

A request succeeds on HTTP 200 with at least one token-bearing chunk, no error event, and a final
`[DONE]` or `finish_reason`. Anything else fails with a reason and stays in the records.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from modelgate.bench.http import RequestFailed
from modelgate.bench.loads import LlmLoad
from modelgate.bench.metrics import stream_metrics
from modelgate.bench.records import TOKEN_SOURCES, RequestRecords
from modelgate.bench.runner import WARMUP_INDEX_BASE, Target, measure, open_connections, warm_up
from modelgate.bench.scheduler import Progress, RunTiming, Scheduler
from modelgate.bench.stats import summarize
from modelgate.bench.stream import StreamExchange
from modelgate.bench.summary import BenchmarkResult, client_check_fields, count_fields, latency_fields, load_fields, slo_fields
from modelgate.bench.tokens import calibrate_inputs, count_with_server
from modelgate.bench.workload import Inputs
from modelgate.errors import BenchmarkError
from modelgate.settings import get_settings

logger = logging.getLogger(__name__)

perf_counter = time.perf_counter

PATHS = {"chat": "/chat/completions", "completions": "/completions"}
LLM_LATENCIES = ("ttft", "ttfct", "tpot", "e2el")


@dataclass
class _Pending:
    """A successful request whose output tokens must be counted after the run (no usage in its stream)."""

    index: int
    start: float
    exchange: StreamExchange


class LlmRun:
    """One streaming benchmark: builds requests, reads streams, fills the records."""

    def __init__(self, target: Target, model: str, load: LlmLoad) -> None:
        self.target = target
        self.model = model
        self.load = load
        self.inputs = Inputs(load.input_tokens, load.seed, load.dataset, load.dataset_column)
        self.path = target.api_path + PATHS[load.api]
        self.records = RequestRecords(capacity=min(load.num_requests, 65536))
        self.extensions = True
        self.calibrated = False
        self.pending: list[_Pending] = []
        self.scheduler: Scheduler | None = None
        self.loop = asyncio.get_running_loop()

    def payload(self, index: int) -> bytes:
        """Return the JSON body of request `index`."""
        text = self.inputs.text(index)
        body: dict[str, Any] = {"model": self.model, "max_tokens": self.load.output_tokens, "stream": True}
        if self.load.api == "chat":
            body["messages"] = [{"role": "user", "content": text}]
        else:
            body["prompt"] = text
        if self.extensions:
            body["stream_options"] = {"include_usage": True, "continuous_usage_stats": True}
            if self.load.ignore_eos:
                body["ignore_eos"] = True
        else:
            body["stream_options"] = {"include_usage": True}
        return orjson.dumps(body)

    async def exchange(self, index: int) -> StreamExchange:
        """Send request `index` and return its finished exchange (raises RequestFailed)."""
        request = self.target.pool.build_request(self.path, self.payload(index))
        return await self.target.pool.send(request, lambda: StreamExchange(self.loop.create_future()), self.load.timeout_s)

    async def warm_up_once(self, k: int) -> str | None:
        """Send warm-up request k; return its failure reason or None."""
        try:
            exchange = await self.exchange(WARMUP_INDEX_BASE + k)
        except RequestFailed as failure:
            return f"{failure.reason}: {failure.detail}"
        return check_stream(exchange)

    async def first_warm_up(self) -> str | None:
        """Send warm-up request 0; when the server rejects vLLM's extensions with 400 or 422, drop them.

        Returns:
            the failure reason of the last attempt, or None when it succeeded.
        """
        reason = await self.warm_up_once(0)
        if reason is None or not reason.startswith(("http_400", "http_422")):
            return reason
        self.extensions = False
        retry = await self.warm_up_once(0)
        if retry is None:
            logger.warning("%s rejected ignore_eos/continuous_usage_stats (%s); benchmarking without them", self.target.url, reason)
        else:
            self.extensions = True
        return retry

    async def send(self, index: int) -> None:
        """Send measured request `index` and record its outcome."""
        records = self.records
        columns = records.columns
        start = perf_counter()
        started_at = self.scheduler.started_at  # type: ignore[union-attr]
        columns["start_s"][index] = start - started_at
        columns["send_delay_ms"][index] = (start - started_at - columns["scheduled_s"][index]) * 1000
        try:
            exchange = await self.exchange(index)
        except RequestFailed as failure:
            columns["e2el_ms"][index] = (perf_counter() - start) * 1000
            records.fail(index, failure.reason, failure.detail)
            return

        end = exchange.done.result()
        columns["status_code"][index] = exchange.status
        columns["e2el_ms"][index] = (end - start) * 1000
        columns["chunks"][index] = len(exchange.token_times)
        if exchange.prompt_tokens is not None:
            columns["prompt_tokens"][index] = exchange.prompt_tokens
        reason = check_stream(exchange)
        if reason is not None:
            records.fail(index, reason.split(":", 1)[0], reason.split(":", 1)[-1].strip())
            return

        if exchange.completion_tokens is None:
            self.pending.append(_Pending(index, start, exchange))
            return
        source = "usage_per_chunk" if exchange.per_chunk_usage else "usage"
        self.record_success(index, start, exchange, exchange.completion_tokens, source)

    def record_success(self, index: int, start: float, exchange: StreamExchange, output_tokens: int, source: str) -> None:
        """Fill the latency columns of a successful request and add its inter-token samples."""
        counts = exchange.token_counts if source == "usage_per_chunk" else None
        metrics = stream_metrics(start, exchange.done.result(), exchange.token_times, counts, exchange.first_content_at, output_tokens)
        columns = self.records.columns
        columns["success"][index] = True
        columns["output_tokens"][index] = output_tokens
        columns["token_source_code"][index] = TOKEN_SOURCES.index(source)
        columns["ttft_ms"][index] = metrics.ttft_ms
        columns["ttfct_ms"][index] = metrics.ttfct_ms if metrics.ttfct_ms is not None else float("nan")
        columns["tpot_ms"][index] = metrics.tpot_ms if metrics.tpot_ms is not None else float("nan")
        self.records.itl_ms.extend(metrics.itl_ms)
        self.records.chunk_itl_ms.extend(metrics.chunk_itl_ms)

    async def count_pending(self) -> None:
        """Count the tokens of successful requests that had no usage, with the server's tokenizer.

        Output tokens fall back to the chunk count when the server has no /tokenize. Prompt tokens
        are counted on the prompt text, so a chat template's own tokens are not included.
        """
        if not self.pending:
            return
        path = self.target.root_path + "/tokenize"
        texts = [item.exchange.generated_text for item in self.pending]
        counts = await count_with_server(self.target.pool, path, self.model, texts, self.load.timeout_s)
        for position, item in enumerate(self.pending):
            counted = counts[position] if counts is not None else None
            if counted is not None:
                self.record_success(item.index, item.start, item.exchange, max(counted, 1), "tokenize")
            else:
                self.record_success(item.index, item.start, item.exchange, len(item.exchange.token_times), "chunks")

        prompt_tokens = self.records.column("prompt_tokens")
        missing = [item.index for item in self.pending if prompt_tokens[item.index] < 0]
        self.pending.clear()
        if counts is None or not missing:
            return
        prompts = [self.inputs.text(index) for index in missing]
        for index, counted in zip(missing, await count_with_server(self.target.pool, path, self.model, prompts, self.load.timeout_s) or []):
            if counted is not None:
                prompt_tokens[index] = counted


def check_stream(exchange: StreamExchange) -> str | None:
    """Return `reason: detail` when a finished stream is a failure, else None."""
    if exchange.status != 200:
        return f"http_{exchange.status}: {error_text(exchange.error_body)}"
    if exchange.error is not None:
        return f"stream_error: {exchange.error[:300]}"
    if not exchange.saw_done and exchange.finish_reason is None:
        return "truncated: the stream ended without [DONE] or a finish_reason"
    if not exchange.token_times:
        return "no_tokens: the stream carried no generated text"
    return None


def error_text(body: bytes, limit: int = 300) -> str:
    """Return the message of an OpenAI-style or FastAPI-style error body, cut to `limit` characters."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:limit].decode("utf-8", "replace")
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:limit]
        for key in ("error", "detail", "message"):
            if parsed.get(key):
                return str(parsed[key])[:limit]
    return body[:limit].decode("utf-8", "replace")


async def run_llm_benchmark(url: str, model: str, load: LlmLoad, api_key: str | None = None, progress: Progress | None = None) -> BenchmarkResult:
    """Run the streaming LLM benchmark and return its summary and per-request records.

    Raises:
        InvalidInputError: the load has a value out of range or the dataset is unusable.
        BenchmarkError: every warm-up request failed.
    """
    load.check()
    target = Target.open(url, api_key)
    run = LlmRun(target, model, load)
    endpoint = f"{target.url}{PATHS[load.api]}"
    try:
        run.calibrated = await calibrate_inputs(target.pool, target.root_path + "/tokenize", model, run.inputs, load.timeout_s)
        if load.warmup_requests:
            first = await run.first_warm_up()
            if first is not None and load.warmup_requests == 1:
                raise BenchmarkError(f"the warm-up request to {endpoint} failed: {first}; check the server log and the model name")

            async def later(k: int) -> str | None:
                return await run.warm_up_once(k + 1)

            await warm_up(later, load.warmup_requests - 1, load.concurrency, endpoint, one_succeeded=first is None)

        logger.info("benchmark %s: %s %s, %s", model, load.api, endpoint, load)
        await open_connections(target, load.concurrency, load.num_requests)
        run.scheduler = Scheduler(load.shape(), run.records, run.send, progress)
        timing = await measure(run.scheduler)
        await run.count_pending()
    finally:
        target.pool.close()

    return BenchmarkResult(summary=summarize_llm(run, timing), requests=run.records.to_frame())


def summarize_llm(run: LlmRun, timing: RunTiming) -> dict[str, Any]:
    """Return the summary of an LLM run with vLLM's metric names."""
    records = run.records
    success = records.column("success")
    prompt = records.column("prompt_tokens")[success]
    output = records.column("output_tokens")[success]
    total_input = int(prompt[prompt >= 0].sum())
    total_output = int(output[output >= 0].sum())
    duration = timing.duration_s

    summary: dict[str, Any] = {"model_type": "llm", "api": run.load.api, "output_tokens": run.load.output_tokens}
    summary.update(load_fields(run.load))
    summary["ignore_eos"] = run.load.ignore_eos and run.extensions
    summary["server_extensions"] = run.extensions
    summary["inputs_fit_to_tokenizer"] = run.calibrated
    summary.update(count_fields(records, timing))
    summary.update(
        {
            "total_input_tokens": total_input,
            "total_output_tokens": total_output,
            "input_throughput": total_input / duration if duration > 0 else None,
            "output_throughput": total_output / duration if duration > 0 else None,
            "total_token_throughput": (total_input + total_output) / duration if duration > 0 else None,
            "output_token_source": records.token_source_counts(),
        }
    )
    summary.update(latency_fields(records, LLM_LATENCIES))
    summary.update(summarize("itl", records.itl_ms.values()))
    summary.update(summarize("chunk_itl", records.chunk_itl_ms.values()))

    e2el_s = records.column("e2el_ms")[success].astype("float64") / 1000
    per_user = np.where(e2el_s > 0, records.column("output_tokens")[success] / np.where(e2el_s > 0, e2el_s, 1), np.nan)
    summary.update(summarize("output_throughput_per_user", per_user, unit=""))
    summary.update(slo_fields(records, run.load.slo_ms, duration))
    summary.update(client_check_fields(records, timing, get_settings().bench_client_lag_limit_ms))
    return summary
