"""Task that benchmarks the server; the results are saved as artifacts by flows.report_tasks."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.params import BenchmarkLoad
from flows.report_tasks import BenchmarkProgress
from modelgate.bench.embeddings import run_embedding_benchmark
from modelgate.bench.llm import run_llm_benchmark
from modelgate.bench.runner import run_blocking
from modelgate.bench.summary import BenchmarkResult
from modelgate.errors import BenchmarkError


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
    with BenchmarkProgress(served_model_name, load.num_requests) as progress:
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


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "n/a" if value is None else str(value)
