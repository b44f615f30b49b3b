"""The `run-benchmark` flow, and how `deploy-model` submits it as a deployment run.

`run-benchmark` benchmarks a model server that is already up, saves the artifacts and returns
the summary as a persisted JSON result. `deploy-model` runs it as its own flow run when a
benchmark deployment is named, for example on a Kubernetes work pool next to the model, and
then reads the summary back from the result storage.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import urlparse

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled, Cancelling
from pydantic import Field

from flows.bench_tasks import run_benchmark
from flows.params import BenchmarkLoad
from flows.report_tasks import ArtifactKeys, save_results
from modelgate.errors import BenchmarkError, InvalidInputError
from modelgate.verify import Verdict

# How often deploy-model reads the submitted run's state while it waits.
POLL_INTERVAL_S = 2.0

# The env variable that points a flow-run process at a storage block for its results.
RESULT_STORAGE_BLOCK_ENV = "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK"


@flow(name="run-benchmark", persist_result=True, result_serializer="json", log_prints=False)
def run_benchmark_flow(
    base_url: Annotated[str, Field(pattern=r"^https?://")],
    served_model_name: Annotated[str, Field(min_length=1)],
    model_type: str,
    load: BenchmarkLoad = BenchmarkLoad(),
    endpoints: dict[str, bool] = {},  # noqa: B006
) -> dict[str, Any]:
    """Benchmark the served model, save the result artifacts and return the summary.

    The return value is persisted as JSON, so `deploy-model` can read it after this run ends,
    from another process or pod when the result storage is shared.

    Args:
        base_url: Root URL of the model server, such as http://vllm.llm.svc:8000.
        served_model_name: Model id the server lists at /v1/models.
        model_type: Model type found by the probe: embedding, llm, reranker or classifier.
        load: Benchmark load: concurrency, request count, batch size, input tokens, time limits.
        endpoints: Probed endpoints and whether each is served, shown in the report.
    """
    logger = get_run_logger()
    logger.info("run-benchmark %s (%s) at %s", served_model_name, model_type, base_url)

    result = run_benchmark(base_url, served_model_name, model_type, load)
    artifact_keys = save_results(served_model_name, model_type, endpoints, load.model_dump(), result)
    return {
        "served_model_name": served_model_name,
        "model_type": model_type,
        "summary": result.summary,
        "artifact_keys": asdict(artifact_keys),
    }


@task(task_run_name="save-verdict-{served_model_name}", cache_policy=NO_CACHE)
def save_verdict(served_model_name: str, verdict: Verdict) -> str:
    """Write the verdict table of a benchmark that ran in its own flow run; return its artifact key."""
    key = ArtifactKeys.for_name(served_model_name).verdict
    outcome = "pass" if verdict.passed else f"FAIL ({len(verdict.failed_checks)} failed)"
    create_table_artifact(table=verdict.rows(), key=key, description=f"Latency verdict of {served_model_name}: {outcome}")
    return key


def submit_benchmark(
    deployment_name: str,
    base_url: str,
    served_model_name: str,
    model_type: str,
    load: BenchmarkLoad,
    endpoints: dict[str, bool],
    timeout_s: float,
) -> dict[str, Any]:
    """Run the benchmark as a run of `deployment_name`, wait at most `timeout_s` and return its result.

    Call it from inside a flow: the run shows as a subflow. A run that is not final after
    `timeout_s` is cancelled.

    Raises:
        InvalidInputError: the deployment is missing, cannot reach the server, or its work
            pool has no result storage that this process can read.
        BenchmarkError: the run timed out, ended in another state than Completed, or its
            result could not be read.
    """
    logger = get_run_logger()
    check_benchmark_deployment(deployment_name, base_url)

    logger.info("submitting the benchmark of %s to deployment %s (timeout %.0f s)", served_model_name, deployment_name, timeout_s)
    flow_run = run_deployment(
        deployment_name,
        parameters={
            "base_url": base_url,
            "served_model_name": served_model_name,
            "model_type": model_type,
            "load": load.model_dump(mode="json"),
            "endpoints": endpoints,
        },
        flow_run_name=f"benchmark-{served_model_name}",
        timeout=timeout_s,
        poll_interval=POLL_INTERVAL_S,
    )
    state = flow_run.state
    logger.info("benchmark run %s of %s ended %s", flow_run.name, served_model_name, state.name if state else "without a state")

    if state is None or not state.is_final():
        _cancel(flow_run.id, state, timeout_s)
        raise BenchmarkError(
            f"benchmark run {flow_run.name} ({flow_run.id}) of {served_model_name} did not finish within {timeout_s:.0f} s "
            f"(state {state.name if state else 'none'}) and was cancelled; check that a worker polls the work pool "
            f"of deployment {deployment_name}, or raise MODELGATE_BENCHMARK_TIMEOUT_S"
        )
    if not state.is_completed():
        raise BenchmarkError(f"benchmark run {flow_run.name} ({flow_run.id}) of {served_model_name} ended {state.name}: {state.message}")

    try:
        value = state.result()
    # The storage block type decides what a failed read raises (files, S3, GCS, ...).
    except Exception as error:
        raise BenchmarkError(
            f"benchmark run {flow_run.name} ({flow_run.id}) completed, but its result could not be read: {error}; "
            f"the run and this flow need one result storage, such as {RESULT_STORAGE_BLOCK_ENV} in both work pools"
        ) from error
    if not isinstance(value, dict) or not isinstance(value.get("summary"), dict):
        raise BenchmarkError(f"benchmark run {flow_run.name} ({flow_run.id}) returned {type(value).__name__}, not a run-benchmark result")
    return value


def check_benchmark_deployment(deployment_name: str, base_url: str) -> None:
    """Fail before submitting when the benchmark deployment cannot work with this server.

    A job outside this machine cannot reach a server on a loopback address, and it cannot
    hand back a result kept in its own local files.

    Raises:
        InvalidInputError: with the reason and what to change.
    """
    if "/" not in deployment_name:
        raise InvalidInputError(f"benchmark deployment {deployment_name!r} must be written as flow/deployment, such as run-benchmark/run-benchmark")

    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(deployment_name)
        except ObjectNotFound:
            raise InvalidInputError(
                f"benchmark deployment {deployment_name!r} not found on the Prefect server; deploy it from the repository "
                "root with `prefect deploy --name run-benchmark`"
            ) from None
        if deployment.work_pool_name is None:
            raise InvalidInputError(f"benchmark deployment {deployment_name!r} has no work pool; redeploy it with --pool")
        pool = client.read_work_pool(deployment.work_pool_name)
        # NOTE: a process pool is taken to run on this machine. On another host neither a loopback
        # URL nor local result files are reachable, and the run or the result read fails later.
        if pool.type == "process":
            return

        if _is_loopback(base_url):
            raise InvalidInputError(
                f"the model server listens on {base_url}, which a {pool.type} job of work pool {pool.name!r} cannot reach; "
                "run the benchmark deployment on a process work pool on this machine, or serve the model where the job can reach it"
            )
        pool_env = pool.base_job_template.get("variables", {}).get("properties", {}).get("env", {}).get("default") or {}
        deployment_env = (deployment.job_variables or {}).get("env") or {}
        if RESULT_STORAGE_BLOCK_ENV in pool_env or RESULT_STORAGE_BLOCK_ENV in deployment_env:
            return
        if client.read_server_default_result_storage().default_result_storage_block_id is not None:
            return

    raise InvalidInputError(
        f"work pool {pool.name!r} ({pool.type}) keeps flow results inside each job, where deploy-model cannot read them; "
        f"set {RESULT_STORAGE_BLOCK_ENV} to a storage block both can reach, for example with "
        "`python deployments/work_pools.py --result-storage-block s3-bucket/modelgate-results`"
    )


def _is_loopback(base_url: str) -> bool:
    host = urlparse(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _cancel(flow_run_id: Any, state: Any, timeout_s: float) -> None:
    # A run that no worker has started can be cancelled at once, but a running one needs its worker to stop it.
    not_started = state is None or state.is_scheduled() or state.is_pending()
    message = f"deploy-model stopped waiting after {timeout_s:.0f} s"
    new_state = Cancelled(message=message) if not_started else Cancelling(message=message)
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, new_state, force=True)
    get_run_logger().warning("benchmark run %s set to %s: %s", flow_run_id, new_state.name, message)
