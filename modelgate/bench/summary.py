"""The run summary: counts, throughputs, latency statistics, SLO attainment and the client self-check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelgate.bench.loads import BenchLoad
from modelgate.bench.records import RequestRecords, write_parquet
from modelgate.bench.scheduler import RunTiming
from modelgate.bench.stats import summarize


@dataclass
class BenchmarkResult:
    """Summary metrics and the per-request table of one run (failed requests included)."""

    summary: dict[str, Any]
    requests: pd.DataFrame

    def write_requests(self, path: str) -> str:
        """Write the per-request table to a Parquet file and return its path."""
        return str(write_parquet(self.requests, path))


def load_fields(load: BenchLoad) -> dict[str, Any]:
    """Return the load settings that belong in the summary."""
    return {
        "concurrency": load.concurrency,
        "request_rate": load.request_rate,
        "arrival": load.arrival if load.request_rate is not None else None,
        "num_requests": load.num_requests,
        "max_duration_s": load.max_duration_s,
        "warmup_requests": load.warmup_requests,
        "timeout_s": load.timeout_s,
        "input_tokens": load.input_tokens,
        "dataset": load.dataset,
    }


def count_fields(records: RequestRecords, timing: RunTiming) -> dict[str, Any]:
    """Return sent/completed/failed counts, failures by reason and the request throughput."""
    sent = records.size
    completed = int(records.column("success").sum())
    duration = timing.duration_s
    return {
        "sent": sent,
        "completed": completed,
        "failed": sent - completed,
        "failed_by_reason": records.failure_counts(),
        "failure_rate": (sent - completed) / sent if sent else None,
        "errors": list(records.first_errors),
        "duration_s": duration,
        "request_throughput": completed / duration if duration > 0 else None,
    }


def slo_fields(records: RequestRecords, slo_ms: dict[str, float], duration_s: float) -> dict[str, Any]:
    """Return SLO attainment over every sent request; a failed request counts as a miss.

    A request with fewer than 2 output tokens has no TPOT and is not held to a TPOT threshold.
    """
    if not slo_ms:
        return {"slo_ms": None, "slo_attainment": None, "request_goodput": None}

    good = records.column("success").copy()
    for metric, threshold in slo_ms.items():
        values = records.column(f"{metric}_ms")
        within = values <= threshold
        if metric == "tpot":
            within |= np.isnan(values)
        good &= within
    met = int(good.sum())
    sent = records.size
    return {
        "slo_ms": dict(slo_ms),
        "slo_met": met,
        "slo_attainment": met / sent if sent else None,
        "request_goodput": met / duration_s if duration_s > 0 else None,
    }


def client_check_fields(records: RequestRecords, timing: RunTiming, lag_limit_ms: float) -> dict[str, Any]:
    """Return the client self-check: event-loop lag, send delay and lateness, and a bottleneck verdict."""
    fields: dict[str, Any] = {}
    fields.update(summarize("send_delay", records.column("send_delay_ms")))
    lag = timing.loop_lag_ms
    fields["p50_loop_lag_ms"] = float(np.percentile(lag, 50)) if lag.size else None
    fields["p99_loop_lag_ms"] = float(np.percentile(lag, 99)) if lag.size else None
    fields["max_loop_lag_ms"] = float(lag.max()) if lag.size else None
    late = timing.schedule_lateness_ms
    fields["p99_schedule_lateness_ms"] = float(np.percentile(late, 99)) if late.size else None

    problems = []
    if fields["p99_loop_lag_ms"] is not None and fields["p99_loop_lag_ms"] > lag_limit_ms:
        problems.append(f"p99 event-loop lag {fields['p99_loop_lag_ms']:.1f} ms")
    if fields["p99_schedule_lateness_ms"] is not None and fields["p99_schedule_lateness_ms"] > lag_limit_ms:
        problems.append(f"p99 send lateness against the schedule {fields['p99_schedule_lateness_ms']:.1f} ms")
    fields["client_bottleneck"] = bool(problems)
    fields["client_warning"] = (
        f"the benchmark client was a bottleneck ({', '.join(problems)} > {lag_limit_ms:g} ms limit): "
        "latencies include client delay; lower the load or give the client more CPU"
        if problems
        else None
    )
    return fields


def latency_fields(records: RequestRecords, names: tuple[str, ...]) -> dict[str, Any]:
    """Return statistics of the given per-request latency columns over successful requests."""
    success = records.column("success")
    fields: dict[str, Any] = {}
    for name in names:
        fields.update(summarize(name, records.column(f"{name}_ms")[success]))
    return fields
