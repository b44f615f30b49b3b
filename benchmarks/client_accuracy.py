"""Timing error of modelgate's client and of `vllm bench serve` against a server with exact timing.

The server (tests/doubles/sse_server.py, on CPU 0) writes the first token 50 ms after a request
arrives and then one token every 10 ms, 64 tokens in all, and records when it really wrote each one.
Each client runs on CPU 1, alternating which goes first, at each concurrency. The error of a client is
its measured figure minus the server's recorded figure of the same run (and minus the nominal value).

Usage: python benchmarks/client_accuracy.py [--concurrency 256 1024] [--rounds 2] [--api completions]
Needs the vLLM environment (MODELGATE_ENGINE_PYTHON) and the SmolLM2 tokenizer folder that
scripts/prepare_smollm2.py writes, because `vllm bench serve` loads a tokenizer.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import machine, median, run_modelgate, run_vllm_bench, timed_server  # noqa: E402

TTFT_MS, ITL_MS, TOKENS = 50.0, 10.0, 64


def one_run(client: str, api: str, concurrency: int, requests: int) -> dict:
    with timed_server(TTFT_MS, ITL_MS, TOKENS) as (url, timing):
        run = run_modelgate if client == "modelgate" else run_vllm_bench
        result = run(url, api, concurrency, requests, TOKENS)
    server_ttft = median(timing["first_token_delay_ms"])
    server_itl = median(timing["itl_ms"])
    row = {
        "client": client,
        "api": api,
        "concurrency": concurrency,
        "completed": result["completed"],
        "median_ttft_ms": result["median_ttft_ms"],
        "p99_ttft_ms": result["p99_ttft_ms"],
        "median_itl_ms": result["median_itl_ms"],
        "server_median_ttft_ms": server_ttft,
        "server_median_itl_ms": server_itl,
        "request_throughput": result["request_throughput"],
    }
    row["ttft_p50_error_ms"] = row["median_ttft_ms"] - server_ttft
    row["ttft_p50_error_vs_nominal_ms"] = row["median_ttft_ms"] - TTFT_MS
    row["ttft_p99_error_vs_nominal_ms"] = row["p99_ttft_ms"] - TTFT_MS
    row["itl_p50_error_ms"] = row["median_itl_ms"] - server_itl
    if client == "modelgate":
        row["client_bottleneck"] = result["client_bottleneck"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--api", choices=("chat", "completions"), default="completions")
    parser.add_argument("--requests-per-stream", type=int, default=3)
    parser.add_argument("--clients", nargs="+", choices=("modelgate", "vllm"), default=["modelgate", "vllm"])
    parser.add_argument("--out", help="write all rows as JSON here")
    args = parser.parse_args()

    rows = []
    for concurrency in args.concurrency:
        for round_number in range(args.rounds):
            order = args.clients if round_number % 2 == 0 else list(reversed(args.clients))
            for client in order:
                row = one_run(client, args.api, concurrency, concurrency * args.requests_per_stream)
                row["round"] = round_number
                rows.append(row)
                print(json.dumps(row), flush=True)

    print(f"\n{machine()}, {datetime.date.today()}, api {args.api}, {args.rounds} rounds\n")
    print("| concurrency | client | TTFT p50 error vs server (ms) | TTFT p50 − 50 ms | TTFT p99 − 50 ms | ITL p50 error (ms) | requests/s |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['concurrency']} | {row['client']} | {row['ttft_p50_error_ms']:+.1f} | {row['ttft_p50_error_vs_nominal_ms']:+.1f} "
            f"| {row['ttft_p99_error_vs_nominal_ms']:+.1f} | {row['itl_p50_error_ms']:+.2f} | {row['request_throughput']:.0f} |"
        )
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
