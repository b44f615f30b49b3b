"""The `modelgate` command line: probe, bench and deploy."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any

from modelgate.errors import ModelgateError

EXIT_FAILED_VERDICT = 1
EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subcommand per engine entry point."""
    parser = argparse.ArgumentParser(prog="modelgate", description="Deploy, probe, benchmark and verify model servers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine steps to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    probe = commands.add_parser("probe", help="probe which OpenAI-compatible endpoints a server serves")
    probe.add_argument("url", help="server base URL, with or without /v1")
    probe.add_argument("--model", help="served model id to probe (default: the first one /v1/models lists)")
    add_api_key(probe)
    probe.add_argument("--timeout", type=float, default=30.0, help="timeout of one probe request in seconds (default 30)")
    probe.add_argument("--json", action="store_true", help="print one JSON object")

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

    deploy = commands.add_parser("deploy", help="run the deploy-model flow: start, probe, benchmark, verify, tear down")
    deploy.add_argument("--model", default=None, help="model folder, packaged model name or hub id (default all-MiniLM-L6-v2)")
    deploy.add_argument("--served-model-name", help="name clients use (default: the model's name)")
    deploy.add_argument("--engine-arg", action="append", default=[], help="extra vLLM argument, repeatable, e.g. --engine-arg=--max-model-len=256")
    deploy.add_argument("--concurrency", type=int, default=8, help="benchmark concurrency (default 8)")
    deploy.add_argument("--num-requests", type=int, default=200, help="benchmark requests (default 200)")
    deploy.add_argument("--target-e2e-latency-ms", type=float, help="mean end-to-end latency target in ms")
    deploy.add_argument("--error-threshold", type=float, default=0.5, help="allowed relative excess over a target (default 0.5)")
    deploy.add_argument("--json", action="store_true", help="print the result as one JSON object")
    return parser


def add_api_key(parser: argparse.ArgumentParser) -> None:
    """Add --api-key; the value may also come from MODELGATE_API_KEY so it stays out of shell history."""
    parser.add_argument("--api-key", default=os.environ.get("MODELGATE_API_KEY"), help="bearer token (default: $MODELGATE_API_KEY)")


async def pick_model(url: str, model: str | None, api_key: str | None) -> str:
    """Return `model`, or the only or first model the server lists, failing when it lists none."""
    from modelgate.endpoints import ServerAddress, make_client
    from modelgate.health import list_models

    async with make_client(api_key, timeout_s=30.0) as client:
        models = await list_models(client, ServerAddress.parse(url))
    if model is not None:
        if model not in models:
            raise ModelgateError(f"model {model!r} is not served by {url}; it serves {models}")
        return model
    if not models:
        raise ModelgateError(f"{url} lists no model at /v1/models")
    return models[0]


def run_probe(args: argparse.Namespace) -> int:
    from modelgate.probe import classify_model, probe_endpoints, results_as_dicts

    async def probe() -> dict[str, Any]:
        model = await pick_model(args.url, args.model, args.api_key)
        results = await probe_endpoints(args.url, model, args.api_key, args.timeout)
        details = results_as_dicts(results)
        return {
            "model": model,
            "model_type": classify_model({path: result.supported for path, result in results.items()}),
            "endpoints": {path: result.supported for path, result in results.items()},
            "details": details,
        }

    report = asyncio.run(probe())
    if args.json:
        print(json.dumps(report))
    else:
        print(f"model {report['model']}: {report['model_type']}")
        for path, details in report["details"].items():
            print(f"  {path:24} {'yes' if details['supported'] else 'no ':3}  status {details['status_code']}  {details['error'] or ''}")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from modelgate.bench.embeddings import EmbeddingLoad, run_embedding_benchmark

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

    summary = asyncio.run(bench())
    print(json.dumps(summary) if args.json else format_summary(summary))
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    # Imported here so probe and bench work without Prefect installed.
    from flows.deploy_model import deploy_model
    from flows.params import BenchmarkLoad
    from modelgate.models import DEFAULT_MODEL
    from modelgate.verify import LatencyTargets

    state = deploy_model(
        model=args.model or DEFAULT_MODEL,
        served_model_name=args.served_model_name,
        engine_args=args.engine_arg,
        load=BenchmarkLoad(concurrency=args.concurrency, num_requests=args.num_requests),
        targets=LatencyTargets(target_e2e_latency_ms=args.target_e2e_latency_ms),
        error_threshold=args.error_threshold,
        return_state=True,
    )
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        print(f"modelgate deploy: {state.message}", file=sys.stderr)
        return EXIT_ERROR

    if args.json:
        print(result.model_dump_json())
    else:
        print(format_result(result))
        print(f"state: {state.name}: {state.message}")
    return 0 if state.is_completed() else EXIT_FAILED_VERDICT


def format_summary(summary: dict[str, Any]) -> str:
    """Return the key figures of a benchmark summary, one per line."""
    names = ("completed", "failed", "duration_s", "request_throughput", "mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms")
    return "\n".join(f"{name:20} {summary.get(name)}" for name in names)


def format_result(result: Any) -> str:
    """Return the deploy result as the lines a person reads first."""
    lines = [
        f"model type:  {result.model_type}",
        "endpoints:   " + ", ".join(f"{path}={'yes' if ok else 'no'}" for path, ok in result.endpoints.items()),
    ]
    for name in ("mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms"):
        value = result.summary.get(name)
        lines.append(f"{name + ':':16} {value:.2f}" if isinstance(value, float) else f"{name + ':':16} n/a")
    if result.verdict:
        lines.append(f"verdict:     {'pass' if result.verdict['passed'] else 'fail'}")
        lines.extend(f"  {check['status']:8} {check['reason']}" for check in result.verdict["checks"])
    return "\n".join(lines)


COMMANDS = {"probe": run_probe, "bench": run_bench, "deploy": run_deploy}


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; engine errors print one line on stderr and exit 2."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except ModelgateError as error:
        print(f"modelgate {args.command}: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
