"""`modelgate bench URL`: benchmark an embeddings server with a closed-loop load."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from modelgate.bench.embeddings import EmbeddingLoad, run_embedding_benchmark
from modelgate.cli.common import EXIT_FAILED_VERDICT, add_api_key, pick_model
from modelgate.cli.verify import add_targets_options, format_verdict, read_targets
from modelgate.verify import verify_latency


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    bench = commands.add_parser("bench", help="benchmark an embeddings server (closed loop)")
    bench.add_argument("url", help="server base URL, with or without /v1")
    bench.add_argument("--model", help="served model id (default: the first one /v1/models lists)")
    add_api_key(bench)
    bench.add_argument("--concurrency", type=int, default=8, help="requests in flight at once (default 8)")
    bench.add_argument("--num-requests", type=int, default=200, help="measured requests (default 200)")
    bench.add_argument("--batch-size", type=int, default=1, help="inputs per request (default 1)")
    bench.add_argument("--input-tokens", type=int, default=32, help="approximate tokens per input (default 32)")
    bench.add_argument("--warmup-requests", type=int, default=4, help="uncounted requests sent first (default 4)")
    bench.add_argument("--timeout", type=float, default=60.0, help="timeout of one request in seconds (default 60)")
    bench.add_argument("--duration", type=float, default=600.0, help="time limit of the measured run in seconds (default 600)")
    bench.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_targets_options(bench)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its summary."""
    load = EmbeddingLoad(
        concurrency=args.concurrency,
        num_requests=args.num_requests,
        batch_size=args.batch_size,
        input_tokens=args.input_tokens,
        warmup_requests=args.warmup_requests,
        timeout_s=args.timeout,
        max_duration_s=args.duration,
    )

    async def bench() -> dict[str, Any]:
        model = await pick_model(args.url, args.model, args.api_key)
        result = await run_embedding_benchmark(args.url, model, load, args.api_key)
        return {"model": model, **result.summary}

    targets = read_targets(args.targets) if args.targets else None  # read first: a bad file fails before the load runs
    summary = asyncio.run(bench())
    if targets is None:
        print(json.dumps(summary) if args.json else format_summary(summary))
        return 0

    verdict = verify_latency(summary, targets, summary["model_type"], args.error_threshold)
    print(json.dumps({**summary, "verdict": verdict.as_dict()}) if args.json else format_summary(summary) + "\n" + format_verdict(verdict))
    return 0 if verdict.passed else EXIT_FAILED_VERDICT


def format_summary(summary: dict[str, Any]) -> str:
    """Return the key figures of a benchmark summary, one per line."""
    names = ("completed", "failed", "duration_s", "request_throughput", "mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms")
    return "\n".join(f"{name:20} {summary.get(name)}" for name in names)
