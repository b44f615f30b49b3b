"""`modelgate bench URL`: benchmark an embeddings or streaming LLM server, closed or open loop."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from modelgate.bench.embeddings import run_embedding_benchmark
from modelgate.bench.loads import SLO_METRICS, EmbeddingLoad, LlmLoad
from modelgate.bench.llm import run_llm_benchmark
from modelgate.bench.records import check_parquet_path
from modelgate.bench.runner import run_blocking
from modelgate.bench.summary import BenchmarkResult
from modelgate.cli.common import EXIT_FAILED_VERDICT, add_api_key, pick_model
from modelgate.cli.verify import add_targets_options, format_verdict, read_targets
from modelgate.verify import verify_latency
from modelgate.errors import InvalidInputError, ModelgateError

DEFAULT_CONCURRENCY = 8
DEFAULT_REQUESTS = 200
# With --duration alone the run is bounded by time; this caps the request count all the same.
DURATION_ONLY_REQUESTS = 1_000_000


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    bench = commands.add_parser(
        "bench",
        help="benchmark an embeddings or streaming LLM server",
        description="Closed loop by default (--concurrency workers); open loop with --request-rate.",
    )
    bench.add_argument("url", help="server base URL, with or without /v1")
    bench.add_argument("--model", help="served model id (default: the first one /v1/models lists)")
    add_api_key(bench)

    bench.add_argument("--model-type", choices=("auto", "embedding", "llm"), default="auto", help="load to run; auto probes the server (default auto)")
    bench.add_argument("--api", choices=("chat", "completions"), default="chat", help="LLM API (default chat)")
    bench.add_argument(
        "--concurrency", type=int, help=f"closed loop: requests in flight (default {DEFAULT_CONCURRENCY}); open loop: cap on requests in flight (default none)"
    )
    bench.add_argument(
        "--num-requests", type=int, help=f"measured requests (default {DEFAULT_REQUESTS}, or up to {DURATION_ONLY_REQUESTS:,} when only --duration is given)"
    )
    bench.add_argument("--duration", type=float, help="start no request after this many seconds (default 600)")
    bench.add_argument("--request-rate", type=float, help="open loop: requests per second on a schedule fixed from the start")
    bench.add_argument("--arrival", choices=("poisson", "constant"), default="poisson", help="open-loop gaps between requests (default poisson)")

    bench.add_argument("--input-tokens", type=int, default=32, help="approximate tokens per synthetic input (default 32)")
    bench.add_argument("--output-tokens", type=int, default=128, help="LLM: max_tokens per request (default 128)")
    bench.add_argument("--batch-size", type=int, default=1, help="embeddings: inputs per request (default 1)")
    bench.add_argument("--dataset", help="JSONL or CSV file of inputs in place of synthetic text")
    bench.add_argument("--dataset-column", help="text column of --dataset (default: the first of text, prompt, input)")
    bench.add_argument("--warmup-requests", type=int, default=4, help="uncounted requests sent first (default 4)")
    bench.add_argument("--timeout", type=float, default=60.0, help="time limit of one request in seconds (default 60)")
    bench.add_argument(
        "--slo", action="append", default=[], metavar="METRIC:MS", help=f"per-request SLO for attainment, repeatable; METRIC is one of {', '.join(SLO_METRICS)}"
    )
    bench.add_argument("--no-ignore-eos", action="store_true", help="LLM: let the model stop before --output-tokens")
    bench.add_argument("--seed", type=int, default=0, help="seed of synthetic inputs and Poisson arrivals (default 0)")

    bench.add_argument("--requests-out", metavar="FILE.parquet", help="write the per-request records to this Parquet file")
    bench.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_targets_options(bench)


def parse_slo(values: list[str]) -> dict[str, float]:
    """Parse `METRIC:MS` pairs such as `ttft:200`.

    Raises:
        InvalidInputError: a pair has no colon or a value that is not a number.
    """
    slo = {}
    for value in values:
        metric, _, threshold = value.partition(":")
        try:
            slo[metric.strip()] = float(threshold)
        except ValueError:
            raise InvalidInputError(f"--slo {value!r} is invalid; write METRIC:MS such as ttft:200") from None
    return slo


def build_load(args: argparse.Namespace, model_type: str) -> EmbeddingLoad | LlmLoad:
    """Return the engine's load from the command-line options."""
    concurrency = args.concurrency if args.concurrency is not None or args.request_rate is not None else DEFAULT_CONCURRENCY
    if args.num_requests is not None:
        num_requests = args.num_requests
    else:
        num_requests = DURATION_ONLY_REQUESTS if args.duration is not None else DEFAULT_REQUESTS
    common: dict[str, Any] = {
        "concurrency": concurrency,
        "num_requests": num_requests,
        "max_duration_s": args.duration if args.duration is not None else 600.0,
        "request_rate": args.request_rate,
        "arrival": args.arrival,
        "warmup_requests": args.warmup_requests,
        "timeout_s": args.timeout,
        "input_tokens": args.input_tokens,
        "dataset": args.dataset,
        "dataset_column": args.dataset_column,
        "slo_ms": parse_slo(args.slo),
        "seed": args.seed,
    }
    if model_type == "embedding":
        return EmbeddingLoad(**common, batch_size=args.batch_size)
    return LlmLoad(**common, api=args.api, output_tokens=args.output_tokens, ignore_eos=not args.no_ignore_eos)


async def detect_model_type(url: str, model: str, api_key: str | None, timeout_s: float) -> str:
    """Probe the server and return `llm` or `embedding`.

    Raises:
        ModelgateError: the server serves neither streaming generation nor embeddings.
    """
    from modelgate.probe import classify_model, probe_endpoints

    results = await probe_endpoints(url, model, api_key, timeout_s)
    model_type = classify_model({path: result.supported for path, result in results.items()})
    if model_type not in ("llm", "embedding"):
        tried = ", ".join(f"{path} ({result.status_code})" for path, result in results.items())
        raise ModelgateError(f"{url} serves no LLM or embeddings API for {model} (tried {tried}); pass --model-type to force one")
    return model_type


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        filled = int(30 * min(done, total) / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} requests")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, print its summary; exit 1 when no measured request succeeded."""
    # Both are checked before the run, so a bad path or targets file loses no measurement.
    if args.requests_out:
        check_parquet_path(args.requests_out)
    targets = read_targets(args.targets) if args.targets else None
    for model_type in ("embedding", "llm") if args.model_type == "auto" else (args.model_type,):
        build_load(args, model_type).check()  # bad option values fail before the server is contacted
    progress = ProgressBar()
    # Without a terminal there is nothing to draw, and a callback would only cost a thread hop per update.
    callback = progress if progress.enabled else None

    async def bench() -> tuple[str, str, BenchmarkResult]:
        model = await pick_model(args.url, args.model, args.api_key)
        model_type = args.model_type
        if model_type == "auto":
            model_type = await detect_model_type(args.url, model, args.api_key, min(args.timeout, 30.0))
        load = build_load(args, model_type)
        if model_type == "embedding":
            result = await run_embedding_benchmark(args.url, model, load, args.api_key, callback)  # type: ignore[arg-type]
        else:
            result = await run_llm_benchmark(args.url, model, load, args.api_key, callback)  # type: ignore[arg-type]
        return model, model_type, result

    try:
        model, model_type, result = run_blocking(bench())
    finally:
        progress.close()

    summary = {"model": model, **result.summary}
    if args.requests_out:
        summary["requests_out"] = result.write_requests(args.requests_out)
    if targets is not None:
        verdict = verify_latency(summary, targets, model_type, args.error_threshold, result.requests)
        print(json.dumps({**summary, "verdict": verdict.as_dict()}) if args.json else format_summary(summary) + "\n" + format_verdict(verdict))
        return 0 if verdict.passed else EXIT_FAILED_VERDICT

    print(json.dumps(summary) if args.json else format_summary(summary))
    if summary["completed"] == 0:
        print(f"modelgate bench: no request succeeded; failures by reason: {summary['failed_by_reason']}", file=sys.stderr)
        return EXIT_FAILED_VERDICT
    return 0


def format_summary(summary: dict[str, Any]) -> str:
    """Return the key figures of a benchmark summary, one per line."""
    names = ["model", "model_type", "completed", "failed", "failed_by_reason", "duration_s", "request_throughput"]
    if summary.get("model_type") == "llm":
        names += ["output_throughput", "median_ttft_ms", "p99_ttft_ms", "median_tpot_ms", "median_itl_ms", "p99_itl_ms", "output_token_source"]
    else:
        names += ["input_throughput"]
    names += ["mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms", "slo_attainment", "client_warning", "requests_out"]
    lines = []
    for name in names:
        value = summary.get(name)
        if isinstance(value, float):
            shown = f"{value:.2f}"
        elif value is None:
            shown = "n/a"
        else:
            shown = str(value)
        lines.append(f"{name:22} {shown}")
    return "\n".join(lines)
