"""Tasks of the kubernetes runtime: install the release, wait for its pods, save what it did, uninstall it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.params import artifact_slug
from flows.runtime_tasks import poll_health_window, retry_while_not_ready
from modelgate.helm import Helm, ReleaseTarget, find_helm
from modelgate.kube.client import KubeConnection, api_client
from modelgate.kube.endpoint import gateway_url, service_url
from modelgate.kube.errors import KubeApiError
from modelgate.kube.namespaces import ensure_namespace
from modelgate.kube.report import ReleaseReport, collect_report
from modelgate.kube.watcher import ReadyRelease, ReleaseWatcher, WatchOptions
from modelgate.settings import ModelgateSettings


@dataclass(frozen=True)
class ReleaseServer:
    """A released model server whose pods are Ready, and the URL the later steps use."""

    release: str
    namespace: str
    base_url: str
    served_model_name: str


@task(task_run_name="install-release-{target.name}", cache_policy=NO_CACHE)
def install_release(
    target: ReleaseTarget, connection: KubeConnection, values: dict[str, Any], secrets: list[str], settings: ModelgateSettings
) -> dict[str, Any]:
    """Create the namespace when missing, then `helm upgrade --install` the release with a values file."""
    logger = get_run_logger()
    helm = Helm(find_helm(settings), settings.helm_timeout_s, settings.work_dir)

    created = asyncio.run(_ensure_namespace(connection, target.namespace, settings.kube_request_timeout_s))
    if created:
        logger.info("created namespace %s", target.namespace)

    logger.info("installing release %s in namespace %s from chart %s", target.name, target.namespace, target.chart)
    description = helm.upgrade_install(target, values, secrets)
    revision = description.get("version", "?")
    status = description.get("info", {}).get("status", "?")
    logger.info("release %s is at revision %s, status %s", target.name, revision, status)
    return description


async def _ensure_namespace(connection: KubeConnection, namespace: str, timeout_s: float) -> bool:
    async with api_client(connection) as client:
        return await ensure_namespace(client, namespace, timeout_s)


@task(task_run_name="wait-for-pods-{target.name}", cache_policy=NO_CACHE)
def wait_for_pods_ready(target: ReleaseTarget, connection: KubeConnection, options: WatchOptions) -> ReadyRelease:
    """Follow the release's pods and events until its Deployment is rolled out; fail fast with the reason."""
    logger = get_run_logger()
    logger.info("waiting up to %.0f s for the pods of release %s to be Ready", options.ready_timeout_s, target.name)
    return asyncio.run(_watch(target, connection, options, logger))


async def _watch(target: ReleaseTarget, connection: KubeConnection, options: WatchOptions, logger: Any) -> ReadyRelease:
    async with api_client(connection) as client:
        return await ReleaseWatcher(client, target.namespace, target.name, options, logger).wait_until_ready()


@task(task_run_name="endpoint-url-{target.name}", cache_policy=NO_CACHE)
def resolve_endpoint_url(target: ReleaseTarget, connection: KubeConnection, base_url_template: str, cluster_domain: str, timeout_s: float) -> str:
    """Return the configured ingress or gateway URL, else the Service's in-cluster DNS URL."""
    logger = get_run_logger()
    if base_url_template:
        url = gateway_url(base_url_template, target.name, target.namespace)
        logger.info("release %s is reached through %s", target.name, url)
        return url

    url = asyncio.run(_service_url(connection, target, cluster_domain, timeout_s))
    logger.info("release %s is reached at its Service %s", target.name, url)
    return url


async def _service_url(connection: KubeConnection, target: ReleaseTarget, cluster_domain: str, timeout_s: float) -> str:
    async with api_client(connection) as client:
        return await service_url(client, target.namespace, target.name, cluster_domain, timeout_s)


@task(
    task_run_name="wait-until-serving-{server.served_model_name}", cache_policy=NO_CACHE, retry_condition_fn=retry_while_not_ready
)
def wait_until_serving(server: ReleaseServer, deadline: float, settings: ModelgateSettings) -> float:
    """Poll GET /health and GET /v1/models at the endpoint URL for one attempt window; retried until `deadline`."""
    seconds = poll_health_window(
        server.base_url,
        server.served_model_name,
        deadline,
        settings,
        timeout_message=f"{server.served_model_name} of release {server.release} at {server.base_url} was not healthy within "
        f"{settings.health_timeout_s:.0f} s although its pods are Ready; check the Service, ingress or gateway route",
    )
    get_run_logger().info("%s is healthy at %s and lists its served model", server.served_model_name, server.base_url)
    return seconds


@task(task_run_name="collect-release-{target.name}", cache_policy=NO_CACHE)
def collect_release_report(target: ReleaseTarget, connection: KubeConnection, secrets: list[str], settings: ModelgateSettings) -> list[str]:
    """Save the release's pod states, events and container log tails as artifacts; return their keys.

    It runs on the way out of a failed run too, so an unreachable API is logged, not raised.
    """
    logger = get_run_logger()
    try:
        report = asyncio.run(_collect(target, connection, secrets, settings))
    except KubeApiError as error:
        logger.warning("release %s: could not collect pods, events and logs: %s", target.name, error)
        return []

    slug = artifact_slug(f"{target.namespace}-{target.name}")
    keys = [f"release-pods-{slug}", f"release-events-{slug}", f"release-logs-{slug}"]
    create_table_artifact(table=report.pods or [{"pod": None}], key=keys[0], description=f"Pods of release {target.name}")
    create_table_artifact(table=report.events or [{"reason": None}], key=keys[1], description=f"Events of release {target.name}")
    create_markdown_artifact(markdown=render_logs(target, report), key=keys[2], description=f"Container logs of release {target.name}")
    logger.info("release %s: saved %d pods, %d events, %d logs as %s", target.name, len(report.pods), len(report.events), len(report.logs), ", ".join(keys))
    return keys


async def _collect(target: ReleaseTarget, connection: KubeConnection, secrets: list[str], settings: ModelgateSettings) -> ReleaseReport:
    async with api_client(connection) as client:
        return await collect_report(client, target.namespace, target.name, settings.log_tail_lines, settings.kube_request_timeout_s, secrets)


def render_logs(target: ReleaseTarget, report: ReleaseReport) -> str:
    """Return the markdown page with each container's last log lines."""
    sections = [f"# Logs of release `{target.name}` in `{target.namespace}`\n"]
    for name, text in report.logs.items():
        sections.append(f"## `{name}`\n\n```\n{text}\n```\n")
    if not report.logs:
        sections.append("No pods were found.\n")
    return "\n".join(sections)


@task(task_run_name="uninstall-release-{target.name}", cache_policy=NO_CACHE)
def uninstall_release(target: ReleaseTarget, settings: ModelgateSettings) -> None:
    """`helm uninstall` the release; a release that is already gone is not an error."""
    logger = get_run_logger()
    logger.info("uninstalling release %s from namespace %s", target.name, target.namespace)
    Helm(find_helm(settings), settings.helm_timeout_s, settings.work_dir).uninstall(target)
    logger.info("release %s uninstalled", target.name)
