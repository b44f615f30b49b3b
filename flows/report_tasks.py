"""Benchmark artifacts in the Prefect UI: progress while the load runs, then tables, records and the report.

Artifact keys are lowercase with dashes and stable per served model name (`bench-<name>`,
`bench-<name>-summary`, ...), so the Artifacts page shows the history of one model across runs.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.results import get_result_store

from flows.params import artifact_slug
from modelgate.bench.embeddings import BenchmarkResult
from modelgate.report.markdown import render_report
from modelgate.report.plot import latency_plot_png
from modelgate.report.records import records_to_parquet
from modelgate.report.tables import frame_to_rows, sample_requests, summary_rows
from modelgate.verify import Verdict

# The per-request table artifact is a sample; the UI renders tables of a few hundred rows quickly.
REQUEST_TABLE_MAX_ROWS = 500


@dataclass(frozen=True)
class ArtifactKeys:
    """The artifact keys of one served model."""

    report: str
    summary: str
    verdict: str
    requests: str
    records: str
    progress: str

    @classmethod
    def for_name(cls, name: str) -> ArtifactKeys:
        """Return the keys for served model name `name`."""
        base = f"bench-{artifact_slug(name)}"
        return cls(base, f"{base}-summary", f"{base}-verdict", f"{base}-requests", f"{base}-records", f"{base}-progress")


class BenchmarkProgress:
    """A progress callback `(done, total)` that a background thread mirrors into a Prefect progress artifact.

    The callback only stores two integers, so it is safe to call from the benchmark's event loop. The
    API calls happen in the thread every `interval_s` seconds and once more on exit. Use it as a
    context manager inside a task or flow run.
    """

    def __init__(self, name: str, total: int, interval_s: float = 2.0) -> None:
        self.name = name
        self.key = ArtifactKeys.for_name(name).progress
        self.interval_s = interval_s
        self.done = 0
        self.total = max(total, 1)
        self.artifact_id: UUID | None = None
        self._published_percent = -1.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, max(total, 1)

    def __enter__(self) -> BenchmarkProgress:
        try:
            self.artifact_id = create_progress_artifact(progress=0.0, key=self.key, description=f"Benchmark of {self.name}: 0 requests done")
        except Exception as error:  # noqa: BLE001 - progress is cosmetic; the benchmark must go on
            get_run_logger().warning("progress artifact %s of %s not created: %s", self.key, self.name, error)
            return self
        context = contextvars.copy_context()  # the API client settings live in context variables
        self._thread = threading.Thread(target=context.run, args=(self._loop,), name=f"progress-{self.key}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._publish()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._publish()

    def _publish(self) -> None:
        percent = min(100.0, 100.0 * self.done / self.total)
        if self.artifact_id is None or percent == self._published_percent:
            return
        try:
            update_progress_artifact(
                artifact_id=self.artifact_id,
                progress=percent,
                description=f"Benchmark of {self.name}: {self.done} of {self.total} requests done",
            )
            self._published_percent = percent
        except Exception as error:  # noqa: BLE001 - progress is cosmetic; the benchmark must go on
            get_run_logger().warning("progress artifact %s of %s not updated: %s", self.key, self.name, error)


@task(task_run_name="save-results-{served_model_name}", cache_policy=NO_CACHE)
def save_results(
    served_model_name: str,
    model_type: str,
    endpoints: dict[str, bool],
    load: dict[str, Any],
    result: BenchmarkResult,
    verdict: Verdict | None = None,
) -> ArtifactKeys:
    """Write the summary, verdict and per-request tables, the Parquet records and the markdown report.

    The plot and the Parquet file are optional parts: when one cannot be written the error is logged
    and named in the report, and the tables are still written.
    """
    logger = get_run_logger()
    keys = ArtifactKeys.for_name(served_model_name)
    requests = result.requests
    notes: list[str] = []

    create_table_artifact(
        table=summary_rows(result.summary), key=keys.summary, description=f"Benchmark summary of {served_model_name} ({model_type})"
    )
    if verdict is not None:
        outcome = "pass" if verdict.passed else f"FAIL ({len(verdict.failed_checks)} failed)"
        create_table_artifact(table=verdict.rows(), key=keys.verdict, description=f"Latency verdict of {served_model_name}: {outcome}")

    sample = sample_requests(requests, REQUEST_TABLE_MAX_ROWS)
    create_table_artifact(
        table=frame_to_rows(sample),
        key=keys.requests,
        description=f"Per-request records of {served_model_name}: {len(sample)} of {len(requests)}, spread over the run; all of them are in the Parquet records",
    )

    records_location = None
    try:
        records_location = write_records(served_model_name, records_to_parquet(requests))
        create_link_artifact(
            link=records_location, link_text=f"{served_model_name} per-request records (Parquet)", key=keys.records,
            description=f"All {len(requests)} per-request records of {served_model_name} in the flow's result storage",
        )
    except Exception as error:  # noqa: BLE001 - the tables and the report still carry the figures
        logger.error("per-request records of %s not written: %s", served_model_name, error)
        notes.append(f"The per-request records were not written: {error}")

    plot = None
    try:
        plot = latency_plot_png(requests, served_model_name, limits=plot_limits(verdict))
    except Exception as error:  # noqa: BLE001 - a plotting failure must not hide the verdict
        logger.error("latency plot of %s not drawn: %s", served_model_name, error)
        notes.append(f"The latency plot could not be drawn: {error}")

    markdown = render_report(served_model_name, model_type, endpoints, result.summary, load, verdict, plot, records_location, notes)
    create_markdown_artifact(markdown=markdown, key=keys.report, description=f"Benchmark report of {served_model_name}")
    logger.info("%s: saved artifacts %s, %s, %s, %s, %s", served_model_name, keys.report, keys.summary, keys.verdict, keys.requests, keys.records)
    return keys


def write_records(name: str, parquet: bytes) -> str:
    """Write the Parquet records to the flow's result storage and return where they are.

    A local result storage returns a `file://` URI. NOTE: a browser opens such a link only on the
    machine that ran the flow. With remote result storage (S3, GCS) the location is that storage's path.
    """
    storage = get_result_store().result_storage
    if storage is None:
        raise RuntimeError("the flow has no result storage; set PREFECT_LOCAL_STORAGE_PATH or a default result storage block")

    flow_run = FlowRunContext.get()
    run_id = str(flow_run.flow_run.id) if flow_run and flow_run.flow_run else "no-flow-run"
    location = storage.write_path(f"modelgate/{artifact_slug(name)}/{run_id}/requests.parquet", parquet)
    return Path(location).as_uri() if Path(location).is_absolute() else str(location)


def plot_limits(verdict: Verdict | None) -> dict[str, float]:
    """Return the allowed value per latency column (`e2el_ms`, ...) of the latency checks that have one."""
    if verdict is None:
        return {}
    limits = {}
    for check in verdict.checks:
        if check.unit == "ms" and check.allowed is not None and check.status in ("pass", "fail"):
            column = check.metric.split("_", 1)[1]  # p99_e2el_ms -> e2el_ms
            limits[column] = check.allowed
    return limits
