"""The kubernetes runtime of `deploy-model`: one run at a time per release, install, wait, and teardown by policy."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Literal

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from pydantic import BaseModel, ConfigDict, Field

from blocks.cluster import ModelgateCluster
from flows.kube_tasks import (
    ReleaseServer,
    collect_release_report,
    install_release,
    resolve_endpoint_url,
    uninstall_release,
    wait_for_pods_ready,
)
from modelgate.errors import ModelgateError
from modelgate.helm import ReleaseTarget, default_release_name, release_values, validate_namespace, validate_release_name
from modelgate.kube.client import KubeConnection
from modelgate.kube.watcher import WatchOptions
from modelgate.settings import ModelgateSettings


class ReleaseBusyError(ModelgateError):
    """Another run held the release for longer than the lock timeout."""


class KubernetesTarget(BaseModel):
    """Release settings of `deploy-model` on Kubernetes: release, namespace, cluster block, values, failure policy."""

    model_config = ConfigDict(extra="forbid")

    release: str = Field(default="", description="Helm release name; empty derives one from the served model name.")
    namespace: str = Field(default="", description="Namespace of the release; empty uses the cluster block's.")
    cluster_block: str = Field(
        default="", description="Name of a modelgate-cluster block; empty uses in-cluster config, then KUBECONFIG."
    )
    values: dict[str, Any] = Field(default_factory=dict, description="Chart values for this run, over the cluster block's.")
    on_failure: Literal["uninstall", "keep"] = Field(
        default="uninstall",
        description="What happens to the release when the run fails: `uninstall`, or `keep` it for debugging. A passing release is kept.",
    )


@dataclass
class ReleasePlan:
    """Everything one release needs, resolved from the parameters and the cluster block."""

    target: ReleaseTarget
    connection: KubeConnection
    cluster: ModelgateCluster
    values: dict[str, Any]
    on_failure: str


# Locks of releases that are open in this process, keyed by (namespace, release).
_OPEN: dict[tuple[str, str], tuple[ReleasePlan, ExitStack]] = {}


def plan_release(kubernetes: KubernetesTarget, model: str, served_model_name: str, engine_args: list[str]) -> ReleasePlan:
    """Validate the names, load the cluster block and build the chart values."""
    cluster = ModelgateCluster.load(kubernetes.cluster_block) if kubernetes.cluster_block else ModelgateCluster()
    name = validate_release_name(kubernetes.release or default_release_name(served_model_name))
    namespace = validate_namespace(kubernetes.namespace or cluster.namespace)
    connection = cluster.connection()
    target = ReleaseTarget(
        name=name, namespace=namespace, chart=cluster.chart_ref(), kubeconfig=connection.kubeconfig, kube_context=connection.context
    )

    secrets = cluster.secrets()
    values = release_values(
        model,
        served_model_name,
        engine_args,
        [{"gpu": {"resourceName": cluster.gpu_resource}}, cluster.chart_values, kubernetes.values],
        hf_token=secrets[0] if secrets else None,
    )
    return ReleasePlan(target, connection, cluster, values, kubernetes.on_failure)


def lock_name(target: ReleaseTarget) -> str:
    """Return the global concurrency limit name of a release; namespaces contain no dots, so it is unambiguous."""
    return f"release-{target.namespace}.{target.name}"


def acquire_release_lock(target: ReleaseTarget, timeout_s: float) -> ExitStack:
    """Take the release's one-slot global concurrency limit, creating the limit on first use.

    Prefect skips `concurrency()` for a limit that does not exist, so the limit is created when
    missing (a concurrent creator's 409 is fine) and acquired with `strict=True`.

    Raises:
        ReleaseBusyError: another run held the release for `timeout_s` seconds.
    """
    name = lock_name(target)
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            # A duplicate create would make the server log an integrity error, so it is read first.
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
            except ObjectAlreadyExists:
                pass

    stack = ExitStack()
    try:
        stack.enter_context(concurrency(name, occupy=1, timeout_seconds=timeout_s, strict=True))
    except TimeoutError as error:
        raise ReleaseBusyError(
            f"release {target.name} in namespace {target.namespace} is in use by another run for more than {timeout_s:.0f} s "
            "(MODELGATE_RELEASE_LOCK_TIMEOUT_S); wait for it, or pick another release name"
        ) from error
    return stack


def watch_options(settings: ModelgateSettings, cluster: ModelgateCluster) -> WatchOptions:
    """Return the watcher limits from the settings and the cluster block."""
    return WatchOptions(
        ready_timeout_s=settings.kube_ready_timeout_s,
        poll_interval_s=settings.kube_poll_interval_s,
        watch_window_s=settings.kube_watch_window_s,
        request_timeout_s=settings.kube_request_timeout_s,
        unschedulable_grace_s=settings.kube_unschedulable_grace_s,
        log_tail_lines=settings.log_tail_lines,
        gpu_resource=cluster.gpu_resource,
    )


def open_release(
    kubernetes: KubernetesTarget, model: str, served_model_name: str, engine_args: list[str], settings: ModelgateSettings
) -> ReleaseServer:
    """Lock the release, install it and wait until its pods are Ready; return where it serves.

    The lock is held until `close_release`. When installing or waiting fails, the report is saved,
    the policy applied and the lock released before the error is raised.
    """
    logger = get_run_logger()
    plan = plan_release(kubernetes, model, served_model_name, engine_args)
    target = plan.target
    logger.info("release %s: waiting for the lock %s", target.name, lock_name(target))
    lock = acquire_release_lock(target, settings.release_lock_timeout_s)
    logger.info("release %s: lock taken", target.name)

    try:
        install_release(target, plan.connection, plan.values, plan.cluster.secrets(), settings)
        wait_for_pods_ready(target, plan.connection, watch_options(settings, plan.cluster))
        base_url = resolve_endpoint_url(
            target, plan.connection, plan.cluster.endpoint_base_url, plan.cluster.cluster_domain, settings.kube_request_timeout_s
        )
    except BaseException:
        _finish(plan, lock, succeeded=False, settings=settings)
        raise

    _OPEN[(target.namespace, target.name)] = (plan, lock)
    return ReleaseServer(release=target.name, namespace=target.namespace, base_url=base_url, served_model_name=served_model_name)


def close_release(server: ReleaseServer, succeeded: bool, settings: ModelgateSettings) -> None:
    """Save the report, keep or uninstall the release by policy, and release the lock."""
    plan, lock = _OPEN.pop((server.namespace, server.release))
    _finish(plan, lock, succeeded, settings)


def _finish(plan: ReleasePlan, lock: ExitStack, succeeded: bool, settings: ModelgateSettings) -> None:
    logger = get_run_logger()
    target = plan.target
    try:
        collect_release_report(target, plan.connection, plan.cluster.secrets(), settings)
        if succeeded:
            logger.info("release %s passed and is kept", target.name)
        elif plan.on_failure == "keep":
            logger.info("release %s failed and is kept for debugging (on_failure=keep)", target.name)
        else:
            uninstall_release(target, settings)
    except Exception as error:  # the run's own error matters more than a failed teardown
        logger.error("release %s: teardown failed: %s: %s", target.name, type(error).__name__, error)
    finally:
        lock.close()
        logger.info("release %s: lock released", target.name)
