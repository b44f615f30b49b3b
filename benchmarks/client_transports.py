"""Which HTTP stack carries the benchmark's hot path: httpx, aiohttp or modelgate's own protocol client.

Each variant runs the same minimal streaming loop in its own process on CPU 1: a closed loop of 64
workers sending streamed completions to the zero-work server (tests/doubles/sse_server.py on CPU 0,
16 tokens, no delay), reading every chunk as it arrives and taking its time. It prints requests per
second and the client's CPU time per request.

Usage: python benchmarks/client_transports.py [--requests 6000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import CLIENT_CPU, PYTHON, ROOT, machine, timed_server  # noqa: E402

BODY = json.dumps({"model": "test-model", "prompt": "hello there", "max_tokens": 16, "stream": True}).encode()
VARIANTS = ("httpx+asyncio", "aiohttp+asyncio", "aiohttp+uvloop", "modelgate+asyncio", "modelgate+uvloop")
CONCURRENCY = 64


async def with_httpx(url: str, requests: int) -> int:
    import httpx

    events = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=60, trust_env=False) as client:

        async def worker(count: int) -> None:
            nonlocal events
            for _ in range(count):
                async with client.stream("POST", url, content=BODY, headers={"content-type": "application/json"}) as response:
                    async for chunk in response.aiter_raw():
                        time.perf_counter()
                        events += chunk.count(b"\n\n")

        await asyncio.gather(*(worker(requests // CONCURRENCY) for _ in range(CONCURRENCY)))
    return events


async def with_aiohttp(url: str, requests: int) -> int:
    import aiohttp

    events = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

        async def worker(count: int) -> None:
            nonlocal events
            for _ in range(count):
                async with session.post(url, data=BODY, headers={"content-type": "application/json"}) as response:
                    async for chunk in response.content.iter_any():
                        time.perf_counter()
                        events += chunk.count(b"\n\n")

        await asyncio.gather(*(worker(requests // CONCURRENCY) for _ in range(CONCURRENCY)))
    return events


async def with_modelgate(url: str, requests: int) -> int:
    from modelgate.bench.http import ConnectionPool, Exchange

    events = 0

    class Counting(Exchange):
        __slots__ = ()

        def on_body(self, data: bytes, now: float) -> None:
            nonlocal events
            events += data.count(b"\n\n")

    pool = ConnectionPool(url.rsplit("/v1", 1)[0])
    request = pool.build_request("/v1/completions", BODY)
    loop = asyncio.get_running_loop()

    async def worker(count: int) -> None:
        for _ in range(count):
            await pool.send(request, lambda: Counting(loop.create_future()), 60)

    await asyncio.gather(*(worker(requests // CONCURRENCY) for _ in range(CONCURRENCY)))
    pool.close()
    return events


def run_variant(variant: str, url: str, requests: int) -> dict:
    """Run one variant in this process and return its figures."""
    stack, loop_name = variant.split("+")
    client = {"httpx": with_httpx, "aiohttp": with_aiohttp, "modelgate": with_modelgate}[stack]
    factory = None
    if loop_name == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with asyncio.Runner(loop_factory=factory) as runner:
        events = runner.run(client(f"{url}/v1/completions", requests))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sent = requests // CONCURRENCY * CONCURRENCY
    return {"variant": variant, "requests": sent, "events": events, "requests_per_s": sent / wall, "cpu_us_per_request": cpu / sent * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.variant:
        print(json.dumps(run_variant(args.variant, args.url, args.requests)))
        return

    rows = []
    for round_number in range(args.rounds):
        order = VARIANTS if round_number % 2 == 0 else tuple(reversed(VARIANTS))
        for variant in order:
            with timed_server(0.0, 0.0, 16) as (url, _):
                command = ["taskset", "-c", CLIENT_CPU, PYTHON, __file__, "--variant", variant, "--url", url, "--requests", str(args.requests)]
                done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=True)
            row = json.loads(done.stdout)
            rows.append(row)
            print(json.dumps(row), flush=True)

    print(f"\n{machine()}, {datetime.date.today()}, concurrency {CONCURRENCY}, 16 streamed tokens per request\n")
    print("| variant | requests/s (each round) | client CPU µs per request (each round) |")
    print("|---|---|---|")
    for variant in VARIANTS:
        mine = [row for row in rows if row["variant"] == variant]
        rates = ", ".join(f"{row['requests_per_s']:.0f}" for row in mine)
        cpu = ", ".join(f"{row['cpu_us_per_request']:.0f}" for row in mine)
        print(f"| {variant} | {rates} | {cpu} |")


if __name__ == "__main__":
    main()
