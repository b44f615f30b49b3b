"""The `deploy-model` flow: start the model server, wait for health, probe, benchmark, verify, tear down."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State
from pydantic import Field

from flows.bench_tasks import run_benchmark
from flows.kube_release import KubernetesTarget, close_release, open_release
from flows.kube_tasks import wait_until_serving
from flows.params import BenchmarkLoad, DeployResult
from flows.probe_tasks import capabilities_of, classify_model, probe_endpoints
from flows.report_tasks import save_results
from flows.request import DeployRequest, apply_request, request_summary
from flows.run_benchmark import save_verdict, submit_benchmark
from flows.runtime_tasks import health_retry_delays, start_runtime, stop_runtime, wait_until_healthy
from flows.verify_tasks import failed_checks_message, resolve_targets, verify_latency
from modelgate.models import DEFAULT_MODEL
from modelgate.settings import get_settings
from modelgate.verify import LatencyTargets


# The result is persisted as JSON so callers of a deployment run can read it back after the run.
@flow(name="deploy-model", log_prints=False, persist_result=True, result_serializer="json")
def deploy_model(
    model: Annotated[str, Field(min_length=1, description="Model folder, packaged model name or hub id.")] = DEFAULT_MODEL,
    served_model_name: Annotated[str | None, Field(description="Name clients use; defaults to the model's name.")] = None,
    runtime: Annotated[
        Literal["local", "kubernetes"],
        Field(description="Where the server runs: `local` starts vLLM on this machine's CPU; `kubernetes` installs a Helm release."),
    ] = "local",
    engine_args: Annotated[list[str], Field(description="Extra vLLM arguments, passed through unchanged.")] = [],  # noqa: B006
    load: BenchmarkLoad = BenchmarkLoad(),
    targets: Annotated[
        LatencyTargets | str,
        Field(description="Inline targets, or the name of a saved PerformanceTargets block (an SLO set)."),
    ] = LatencyTargets(),
    error_threshold: Annotated[
        float | None,
        Field(
            ge=0,
            le=10,
            description="Allowed relative excess: a latency passes at measured <= target * (1 + error_threshold). "
            "Default: the targets' own error_threshold (0.5 unless set).",
        ),
    ] = None,
    kubernetes: KubernetesTarget = KubernetesTarget(),
    benchmark_deployment: str | None = None,
    request: DeployRequest | None = None,
) -> State:
    """Take a model from registered to verified in service and return a DeployResult.

    The run ends Failed when any performance check fails, with a message that lists the failed
    checks. The artifacts are written first, and the state's result still carries every figure. The
    local engine is stopped on every path out; a Kubernetes release is kept when it passes and kept or
    uninstalled by `kubernetes.on_failure` otherwise.

    Args:
        model: Model folder, packaged model name or hub id.
        served_model_name: Name clients use; defaults to the model's name.
        runtime: Where the server runs: `local` starts vLLM on this machine's CPU; `kubernetes` installs a Helm release.
        engine_args: Extra vLLM arguments, passed through unchanged.
        load: Benchmark load: concurrency, request count, batch size, input tokens, time limits.
        targets: Inline targets, or the name of a saved PerformanceTargets block (an SLO set).
        error_threshold: Allowed relative excess: a latency passes at measured <= target * (1 + error_threshold).
            Default: the targets' own error_threshold (0.5 unless set).
        kubernetes: Release, namespace, cluster block, chart values and failure policy of the Kubernetes runtime.
        benchmark_deployment: Deployment that runs the benchmark as its own flow run, as flow/deployment
            (such as run-benchmark/run-benchmark). Unset: the benchmark runs in this flow run.
        request: The original system's request fields, such as cluster_id, endpoint_name, concurrency and
            target_e2e_latency. Each field it sets takes precedence over the parameter it maps to.
    """
    logger = get_run_logger()
    settings = get_settings()
    if request is not None:
        logger.info("deploy-model request fields: %s", request_summary(request))
        resolved = apply_request(request, model, served_model_name, runtime, load, targets, error_threshold, kubernetes)
        model, served_model_name, runtime, load = resolved.model, resolved.served_model_name, resolved.runtime, resolved.load
        targets, error_threshold, kubernetes = resolved.targets, resolved.error_threshold, resolved.kubernetes
    name = served_model_name or default_served_name(model)
    result = DeployResult(model=model, served_model_name=name, runtime=runtime)
    logger.info("deploy-model %s: model %s on runtime %s", name, model, runtime)
    targets = resolve_targets(name, targets)

    step_started = time.monotonic()
    if runtime == "kubernetes":
        server = open_release(kubernetes, model, name, engine_args, settings)
    else:
        server = start_runtime(model, name, engine_args, settings)
    result.base_url = server.base_url
    if runtime == "kubernetes":
        result.release, result.namespace = server.release, server.namespace
    if runtime == "local":
        result.engine_pid = server.pid
        result.engine_log = str(server.log_path)
    result.timings_s["engine_start"] = time.monotonic() - step_started
    try:
        step_started = time.monotonic()
        deadline = time.time() + settings.health_timeout_s
        wait_for_health = wait_until_serving if runtime == "kubernetes" else wait_until_healthy
        wait_for_health.with_options(retries=len(health_retry_delays(settings)), retry_delay_seconds=health_retry_delays(settings))(
            server, deadline, settings
        )
        result.timings_s["health_wait"] = time.monotonic() - step_started

        step_started = time.monotonic()
        result.endpoint_details = probe_endpoints(server.base_url, name, settings.probe_timeout_s)
        result.endpoints = {path: bool(details["supported"]) for path, details in result.endpoint_details.items()}
        result.model_type = classify_model(name, result.endpoint_details)
        result.capabilities = capabilities_of(result.endpoint_details)
        result.timings_s["probe"] = time.monotonic() - step_started

        step_started = time.monotonic()
        if benchmark_deployment:
            submitted = submit_benchmark(
                benchmark_deployment, server.base_url, name, result.model_type, load, result.endpoints, settings.benchmark_timeout_s
            )
            result.summary = submitted["summary"]
            result.timings_s["benchmark"] = time.monotonic() - step_started

            # The benchmark run saved the summary and request artifacts; the verdict is saved here.
            verdict = verify_latency(name, result.model_type, result.summary, targets, error_threshold)
            result.verdict = verdict.as_dict()
            save_verdict(name, verdict)
        else:
            benchmark = run_benchmark(server.base_url, name, result.model_type, load)
            result.summary = benchmark.summary
            result.timings_s["benchmark"] = time.monotonic() - step_started

            verdict = verify_latency(name, result.model_type, result.summary, targets, error_threshold, benchmark.requests)
            result.verdict = verdict.as_dict()
            save_results(name, result.model_type, result.endpoints, load.model_dump(), benchmark, verdict)
    finally:
        step_started = time.monotonic()
        if runtime == "kubernetes":
            close_release(server, succeeded=bool(result.verdict and result.verdict["passed"]), settings=settings)
        else:
            stop_runtime(server, settings)
        result.timings_s["teardown"] = time.monotonic() - step_started

    if not verdict.passed:
        return Failed(message=failed_checks_message(name, verdict), data=result)
    return Completed(message=f"{name} ({result.model_type}) passes every performance check that is set", data=result)


def default_served_name(model: str) -> str:
    """Return the last path or hub-id component of `model`, the name vLLM would serve it under."""
    return model.rstrip("/").rsplit("/", 1)[-1] or model
