"""`modelgate deploy`: run the deploy-model flow and print its result.

Prefect is imported only here, so the other subcommands work without it.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from modelgate.cli.common import EXIT_ERROR, EXIT_FAILED_VERDICT


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    deploy = commands.add_parser("deploy", help="run the deploy-model flow: start, probe, benchmark, verify, tear down")
    deploy.add_argument("--model", default=None, help="model folder, packaged model name or hub id (default all-MiniLM-L6-v2)")
    deploy.add_argument("--served-model-name", help="name clients use (default: the model's name)")
    deploy.add_argument(
        "--engine-arg", action="append", default=[], help="extra vLLM argument, repeatable, such as --engine-arg=--max-model-len=256"
    )
    deploy.add_argument("--concurrency", type=int, default=8, help="benchmark concurrency (default 8)")
    deploy.add_argument("--num-requests", type=int, default=200, help="benchmark requests (default 200)")
    deploy.add_argument("--api", choices=("chat", "completions"), default="chat", help="LLM API to benchmark (default chat)")
    deploy.add_argument("--output-tokens", type=int, default=128, help="LLM: max_tokens per benchmark request (default 128)")
    deploy.add_argument("--target-e2e-latency-ms", type=float, help="mean end-to-end latency target in ms")
    deploy.add_argument("--target-ttft-ms", type=float, help="LLM: mean time to first token target in ms")
    deploy.add_argument("--target-tpot-ms", type=float, help="LLM: mean time per output token target in ms")
    deploy.add_argument("--error-threshold", type=float, help="allowed relative excess over a target (default: the targets' own, 0.5)")
    deploy.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run(args: argparse.Namespace) -> int:
    """Run the flow; exit 0 on a pass, 1 on a failed verdict, 2 when the run failed before a verdict."""
    from flows.deploy_model import deploy_model
    from flows.params import BenchmarkLoad
    from modelgate.models import DEFAULT_MODEL, resolve_model
    from modelgate.settings import get_settings
    from modelgate.verify import LatencyTargets

    # A bad model path fails here in milliseconds rather than after Prefect's temporary server starts.
    resolve_model(args.model or DEFAULT_MODEL, get_settings().resolve_engine_python())

    started = time.monotonic()
    state = deploy_model(
        model=args.model or DEFAULT_MODEL,
        served_model_name=args.served_model_name,
        engine_args=args.engine_arg,
        load=BenchmarkLoad(concurrency=args.concurrency, num_requests=args.num_requests, api=args.api, output_tokens=args.output_tokens),
        targets=LatencyTargets(
            target_e2e_latency_ms=args.target_e2e_latency_ms, target_ttft_ms=args.target_ttft_ms, target_tpot_ms=args.target_tpot_ms
        ),
        error_threshold=args.error_threshold,
        return_state=True,
    )
    result = state.result(raise_on_failure=False)
    wall_s = time.monotonic() - started
    if isinstance(result, BaseException):
        print(f"modelgate deploy: {state.message}", file=sys.stderr)
        return EXIT_ERROR

    if args.json:
        print(result.model_dump_json())
    else:
        print(format_result(result, wall_s))
        print(f"state: {state.name}: {state.message}")
    return 0 if state.is_completed() else EXIT_FAILED_VERDICT


def format_result(result: Any, wall_s: float) -> str:
    """Return the deploy result as the lines a person reads first."""
    endpoints = ", ".join(f"{path}={'yes' if ok else 'no'}" for path, ok in result.endpoints.items())
    lines = [f"model type:      {result.model_type}", f"endpoints:       {endpoints}"]
    names = ["mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms"]
    if result.model_type == "llm":
        names += ["median_ttft_ms", "p99_ttft_ms", "median_tpot_ms", "output_throughput"]
    for name in names:
        value = result.summary.get(name)
        lines.append(f"{name + ':':16} {value:.2f}" if isinstance(value, float) else f"{name + ':':16} n/a")
    if result.verdict:
        lines.append(f"verdict:         {'pass' if result.verdict['passed'] else 'fail'}")
        lines.extend(f"  {check['status']:8} {check['reason']}" for check in result.verdict["checks"])

    # Flow overhead is the wall time not spent in a timed step: Prefect's start, task bookkeeping, artifacts.
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings_s.items())
    overhead = wall_s - sum(result.timings_s.values())
    lines.append(f"wall time:       {wall_s:.1f} s ({steps}, flow overhead {overhead:.1f} s)")
    return "\n".join(lines)
