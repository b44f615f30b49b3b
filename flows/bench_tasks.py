"""Tasks that benchmark the server and save the results as Prefect artifacts."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from flows.params import BenchmarkLoad, artifact_slug
from modelgate.bench.embeddings import run_embedding_benchmark
from modelgate.bench.llm import run_llm_benchmark
from modelgate.bench.runner import run_blocking
from modelgate.bench.summary import BenchmarkResult
from modelgate.errors import BenchmarkError

# The per-request table artifact keeps the first rows only; the UI renders large tables slowly.
REQUEST_TABLE_MAX_ROWS = 1000


@task(task_run_name="benchmark-{served_model_name}", cache_policy=NO_CACHE)
def run_benchmark(base_url: str, served_model_name: str, model_type: str, load: BenchmarkLoad) -> BenchmarkResult:
    """Run the load that suits the model type, in this process, with a progress artifact in the UI.

    Embedding models get the embeddings load; LLMs get the streaming load on `load.api`.

    Raises:
        BenchmarkError: the model type has no benchmark, or every warm-up request failed.
    """
    logger = get_run_logger()
    if model_type not in ("embedding", "llm"):
        raise BenchmarkError(f"{served_model_name} is a {model_type} model; benchmarks exist for embedding and llm models only")

    logger.info("benchmarking %s (%s): %s", served_model_name, model_type, load.model_dump())
    progress = ProgressArtifact(served_model_name)
    if model_type == "embedding":
        result = run_blocking(run_embedding_benchmark(base_url, served_model_name, load.to_embedding_load(), progress=progress))
    else:
        result = run_blocking(run_llm_benchmark(base_url, served_model_name, load.to_llm_load(), progress=progress))

    summary = result.summary
    logger.info(
        "%s: %d completed, %d failed %s, mean e2el %s ms, mean ttft %s ms",
        served_model_name,
        summary["completed"],
        summary["failed"],
        summary["failed_by_reason"],
        _format(summary.get("mean_e2el_ms")),
        _format(summary.get("mean_ttft_ms")),
    )
    if summary.get("client_warning"):
        logger.warning("%s: %s", served_model_name, summary["client_warning"])
    return result


class ProgressArtifact:
    """A Prefect progress artifact that the benchmark updates from its worker thread."""

    def __init__(self, served_model_name: str) -> None:
        self.served_model_name = served_model_name
        self.artifact_id = create_progress_artifact(
            progress=0.0, key=f"bench-progress-{artifact_slug(served_model_name)}", description=f"Benchmark progress of {served_model_name}"
        )

    def __call__(self, done: int, total: int) -> None:
        percent = 100.0 * min(done, total) / total if total else 100.0
        update_progress_artifact(artifact_id=self.artifact_id, progress=percent, _sync=True)


def frame_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Convert a DataFrame to JSON-native rows: NaN and <NA> become null, timestamps ISO strings."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the summary as metric/value rows; nested values (failure counts) become JSON text."""
    rows = []
    for metric, value in summary.items():
        shown = json.dumps(value) if isinstance(value, (dict, list)) else value
        rows.append({"metric": metric, "value": shown})
    return rows


@task(task_run_name="save-results-{served_model_name}", cache_policy=NO_CACHE)
def save_results(served_model_name: str, model_type: str, endpoints: dict[str, bool], result: BenchmarkResult) -> list[str]:
    """Write the summary table, the per-request table and a markdown report; return the artifact keys."""
    slug = artifact_slug(served_model_name)
    keys = [f"bench-summary-{slug}", f"bench-requests-{slug}", f"bench-report-{slug}"]

    create_table_artifact(
        table=summary_rows(result.summary),
        key=keys[0],
        description=f"Benchmark summary of {served_model_name} ({model_type})",
    )
    create_table_artifact(
        table=frame_to_records(result.requests.head(REQUEST_TABLE_MAX_ROWS)),
        key=keys[1],
        description=f"Per-request records of {served_model_name} (first {REQUEST_TABLE_MAX_ROWS} of {len(result.requests)})",
    )
    create_markdown_artifact(markdown=render_report(served_model_name, model_type, endpoints, result.summary), key=keys[2])

    get_run_logger().info("saved artifacts %s", ", ".join(keys))
    return keys


def render_report(served_model_name: str, model_type: str, endpoints: dict[str, bool], summary: dict[str, Any]) -> str:
    """Return the markdown summary: model, type, endpoints, load and key latency figures."""
    endpoint_lines = "\n".join(f"| `{path}` | {'yes' if ok else 'no'} |" for path, ok in endpoints.items())
    figures = ("completed", "failed", "request_throughput", "mean_e2el_ms", "median_e2el_ms", "p99_e2el_ms")
    figure_lines = "\n".join(f"| `{name}` | {_format(summary.get(name))} |" for name in figures)
    return (
        f"# Benchmark of `{served_model_name}`\n\n"
        f"Model type: **{model_type}**, concurrency {summary.get('concurrency')}, "
        f"{summary.get('num_requests')} requests, batch size {summary.get('batch_size')}.\n\n"
        f"| endpoint | supported |\n|---|---|\n{endpoint_lines}\n\n"
        f"| metric | value |\n|---|---|\n{figure_lines}\n"
    )


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "n/a" if value is None else str(value)
