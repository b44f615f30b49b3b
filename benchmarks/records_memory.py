"""Memory of one million per-request records: the columnar store while filling, and its DataFrame.

It fills RequestRecords row by row as a run does (every column set, 1 % failures with a reason), then
builds the pandas DataFrame, and reports the peak traced allocation (numpy and pandas buffers are
traced) and the process's peak RSS growth.

Usage: python benchmarks/records_memory.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import datetime
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import machine  # noqa: E402
from modelgate.bench.records import RequestRecords  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    import pandas  # noqa: F401  (imported before the baseline, as in a real run)

    baseline_rss = peak_rss_mb()
    tracemalloc.start()
    started = time.perf_counter()

    records = RequestRecords(capacity=1024)
    columns = records.columns
    for _ in range(args.rows):
        index = records.add_row()
        columns["scheduled_s"][index] = index * 0.001
        columns["start_s"][index] = index * 0.001
        columns["send_delay_ms"][index] = 0.1
        columns["e2el_ms"][index] = 700.0
        columns["status_code"][index] = 200
        if index % 100 == 0:
            records.fail(index, "http_503", "overloaded")
            continue
        columns["ttft_ms"][index] = 50.0
        columns["ttfct_ms"][index] = 50.0
        columns["tpot_ms"][index] = 10.0
        columns["prompt_tokens"][index] = 32
        columns["output_tokens"][index] = 64
        columns["chunks"][index] = 64
        columns["success"][index] = True
        columns["token_source_code"][index] = 0
    filled = time.perf_counter() - started
    _, peak_fill = tracemalloc.get_traced_memory()

    frame = records.to_frame()
    _, peak_total = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    store_mb = sum(column.nbytes for column in records.columns.values()) / 2**20
    print(f"{machine()}, {datetime.date.today()}")
    print(f"rows: {args.rows:,}; fill time {filled:.1f} s")
    print(f"column store: {store_mb:.1f} MB allocated ({records.capacity:,} rows of capacity)")
    print(f"peak traced while filling: {peak_fill / 2**20:.1f} MB")
    print(f"DataFrame: {frame.memory_usage(deep=True).sum() / 2**20:.1f} MB")
    print(f"peak traced, store and DataFrame together: {peak_total / 2**20:.1f} MB")
    print(f"peak RSS growth of the process: {peak_rss_mb() - baseline_rss:.1f} MB")


if __name__ == "__main__":
    main()
