"""The `deploy-model` flow: start the model server, wait for health, probe, benchmark, verify, tear down."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State
from pydantic import Field

from flows.bench_tasks import run_benchmark, save_results
from flows.params import BenchmarkLoad, DeployResult
from flows.probe_tasks import classify_model, probe_endpoints
from flows.request import DeployRequest, apply_request, request_summary
from flows.run_benchmark import submit_benchmark
from flows.runtime_tasks import health_retry_delays, start_runtime, stop_runtime, wait_until_healthy
from flows.verify_tasks import verify_latency
from modelgate.errors import InvalidInputError
from modelgate.models import DEFAULT_MODEL
from modelgate.settings import get_settings
from modelgate.verify import LatencyTargets


# The result is persisted as JSON so callers of a deployment run can read it back after the run.
@flow(name="deploy-model", log_prints=False, persist_result=True, result_serializer="json")
def deploy_model(
    model: Annotated[str, Field(min_length=1, description="Model folder, packaged model name or hub id.")] = DEFAULT_MODEL,
    served_model_name: Annotated[str | None, Field(description="Name clients use; defaults to the model's name.")] = None,
    runtime: Annotated[Literal["local"], Field(description="Where the server runs: `local` starts vLLM on this machine's CPU.")] = "local",
    engine_args: Annotated[list[str], Field(description="Extra vLLM arguments, passed through unchanged.")] = [],  # noqa: B006
    load: BenchmarkLoad = BenchmarkLoad(),
    targets: LatencyTargets = LatencyTargets(),
    error_threshold: Annotated[
        float, Field(ge=0, le=10, description="Allowed relative excess: a latency passes at measured <= target * (1 + error_threshold).")
    ] = 0.5,
    benchmark_deployment: str | None = None,
    request: DeployRequest | None = None,
) -> State:
    """Take a model from registered to verified in service and return a DeployResult.

    The run ends Failed when a latency target is missed; the artifacts are written first and the
    state's result still carries every figure. The engine is stopped on every path out.

    Args:
        model: Model folder, packaged model name or hub id.
        served_model_name: Name clients use; defaults to the model's name.
        runtime: Where the server runs: `local` starts vLLM on this machine's CPU.
        engine_args: Extra vLLM arguments, passed through unchanged.
        load: Benchmark load: concurrency, request count, batch size, input tokens, time limits.
        targets: Latency targets; a target left unset is reported as not set.
        error_threshold: Allowed relative excess: a latency passes at measured <= target * (1 + error_threshold).
        benchmark_deployment: Deployment that runs the benchmark as its own flow run, as flow/deployment
            (such as run-benchmark/run-benchmark). Unset: the benchmark runs in this flow run.
        request: The original system's request fields, such as endpoint_name, concurrency and
            target_e2e_latency. Each field it sets takes precedence over the parameter it maps to.
    """
    logger = get_run_logger()
    settings = get_settings()
    if request is not None:
        logger.info("deploy-model request fields: %s", request_summary(request))
        resolved = apply_request(request, model, served_model_name, load, targets, error_threshold)
        model, served_model_name, load, targets = resolved.model, resolved.served_model_name, resolved.load, resolved.targets
        error_threshold = resolved.error_threshold
        if resolved.cluster_id is not None:
            # TODO: map cluster_id to the Kubernetes runtime's cluster block once that runtime is here.
            raise InvalidInputError(
                f"cluster_id {resolved.cluster_id!r} names a cluster block, and this deploy-model has only the local "
                "runtime; leave cluster_id out to deploy on this machine"
            )
    name = served_model_name or default_served_name(model)
    result = DeployResult(model=model, served_model_name=name, runtime=runtime)
    logger.info("deploy-model %s: model %s on runtime %s", name, model, runtime)

    step_started = time.monotonic()
    server = start_runtime(model, name, engine_args, settings)
    result.base_url = server.base_url
    result.engine_pid = server.pid
    result.engine_log = str(server.log_path)
    result.timings_s["engine_start"] = time.monotonic() - step_started
    try:
        step_started = time.monotonic()
        deadline = time.time() + settings.health_timeout_s
        wait_until_healthy.with_options(retries=len(health_retry_delays(settings)), retry_delay_seconds=health_retry_delays(settings))(
            server, deadline, settings
        )
        result.timings_s["health_wait"] = time.monotonic() - step_started

        step_started = time.monotonic()
        result.endpoint_details = probe_endpoints(server.base_url, name, settings.probe_timeout_s)
        result.endpoints = {path: bool(details["supported"]) for path, details in result.endpoint_details.items()}
        result.model_type = classify_model(name, result.endpoint_details)
        result.timings_s["probe"] = time.monotonic() - step_started

        step_started = time.monotonic()
        if benchmark_deployment:
            submitted = submit_benchmark(
                benchmark_deployment, server.base_url, name, result.model_type, load, result.endpoints, settings.benchmark_timeout_s
            )
            result.summary = submitted["summary"]
            result.timings_s["benchmark"] = time.monotonic() - step_started
        else:
            benchmark = run_benchmark(server.base_url, name, result.model_type, load)
            result.summary = benchmark.summary
            result.timings_s["benchmark"] = time.monotonic() - step_started

            save_results(name, result.model_type, result.endpoints, benchmark)
        verdict = verify_latency(name, result.model_type, result.summary, targets, error_threshold)
        result.verdict = verdict.as_dict()
    finally:
        step_started = time.monotonic()
        stop_runtime(server, settings)
        result.timings_s["teardown"] = time.monotonic() - step_started

    if not verdict.passed:
        return Failed(message=f"{name} missed its latency targets: {verdict.failure_message()}", data=result)
    return Completed(message=f"{name} ({result.model_type}) meets its latency targets", data=result)


def default_served_name(model: str) -> str:
    """Return the last path or hub-id component of `model`, the name vLLM would serve it under."""
    return model.rstrip("/").rsplit("/", 1)[-1] or model
