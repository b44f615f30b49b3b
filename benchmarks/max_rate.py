"""Maximum sustained request rate of modelgate's client and of `vllm bench serve` on a zero-work server.

The server (tests/doubles/sse_server.py on CPU 0) streams every completion at once with 4
tokens; each client runs on CPU 1 as a closed loop with no pause between requests, so its request
throughput is the most it can sustain. The two clients alternate, in the same run.

Usage: python benchmarks/max_rate.py [--concurrency 64 256] [--requests 20000] [--rounds 2]
Needs the vLLM environment and the SmolLM2 tokenizer folder, as benchmarks/client_accuracy.py does.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import machine, run_modelgate, run_vllm_bench, timed_server  # noqa: E402

TOKENS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--api", choices=("chat", "completions"), default="completions")
    args = parser.parse_args()

    rows = []
    for concurrency in args.concurrency:
        for round_number in range(args.rounds):
            order = ("modelgate", "vllm") if round_number % 2 == 0 else ("vllm", "modelgate")
            for client in order:
                with timed_server(0.0, 0.0, TOKENS) as (url, _):
                    run = run_modelgate if client == "modelgate" else run_vllm_bench
                    result = run(url, args.api, concurrency, args.requests, TOKENS)
                row = {"client": client, "concurrency": concurrency, "round": round_number,
                       "completed": result["completed"], "request_throughput": result["request_throughput"]}
                rows.append(row)
                print(json.dumps(row), flush=True)

    print(f"\n{machine()}, {datetime.date.today()}, api {args.api}, {TOKENS} streamed tokens per request\n")
    print("| concurrency | round | modelgate requests/s | vllm bench requests/s | ratio |")
    print("|---|---|---|---|---|")
    for concurrency in args.concurrency:
        for round_number in range(args.rounds):
            pair = {row["client"]: row["request_throughput"] for row in rows if row["concurrency"] == concurrency and row["round"] == round_number}
            print(f"| {concurrency} | {round_number} | {pair['modelgate']:.0f} | {pair['vllm']:.0f} | {pair['modelgate'] / pair['vllm']:.2f} |")


if __name__ == "__main__":
    main()
