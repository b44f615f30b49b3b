"""Task that benchmarks the server; the results are saved as artifacts by flows.report_tasks."""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.params import BenchmarkLoad
from flows.report_tasks import BenchmarkProgress
from modelgate.bench.embeddings import BenchmarkResult, run_embedding_benchmark
from modelgate.errors import BenchmarkError


@task(task_run_name="benchmark-{served_model_name}", cache_policy=NO_CACHE)
def run_benchmark(base_url: str, served_model_name: str, model_type: str, load: BenchmarkLoad) -> BenchmarkResult:
    """Run the load that suits the model type, in this process (the local runtime's benchmark)."""
    logger = get_run_logger()
    if model_type != "embedding":
        # NOTE: only the embedding benchmark exists so far; LLM streaming load is still to be built.
        raise BenchmarkError(f"{served_model_name} is a {model_type} model, and only embedding benchmarks are available")

    logger.info("benchmarking %s: %s", served_model_name, load.model_dump())
    with BenchmarkProgress(served_model_name, load.num_requests) as progress:
        result = asyncio.run(run_embedding_benchmark(base_url, served_model_name, load.to_embedding_load(), progress=progress))
    logger.info(
        "%s: %d completed, %d failed, mean e2el %s ms",
        served_model_name,
        result.summary["completed"],
        result.summary["failed"],
        _format(result.summary.get("mean_e2el_ms")),
    )
    return result


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "n/a" if value is None else str(value)
