"""Pods of a release: the label selector, one-line states, and container log tails."""

from __future__ import annotations

from typing import Any

from kubernetes_asyncio.client import ApiClient, CoreV1Api

from modelgate.kube.client import request_text
from modelgate.kube.diagnosis import container_statuses, is_terminating
from modelgate.kube.errors import KubeApiError


def release_selector(release: str) -> str:
    """Return the label selector of the model server pods the chart creates for `release`."""
    return f"app.kubernetes.io/instance={release},app.kubernetes.io/component=model-server"


def is_ready(pod: dict[str, Any]) -> bool:
    """Tell whether the pod's Ready condition is True."""
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def pod_state(pod: dict[str, Any]) -> str:
    """Return a one-line state such as `Pending: ContainerCreating` or `Running, 0/1 containers ready`."""
    status = pod.get("status", {})
    phase = status.get("phase", "Unknown")
    if is_terminating(pod):
        return f"{phase}, terminating"

    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"{phase}: {condition.get('reason', 'not scheduled')}"

    statuses = container_statuses(pod)
    for container in statuses:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return f"{phase}: {container.get('name')} {waiting['reason']} (restarts {container.get('restartCount', 0)})"

    app_statuses = status.get("containerStatuses") or []
    ready = sum(1 for container in app_statuses if container.get("ready"))
    restarts = sum(container.get("restartCount", 0) for container in app_statuses)
    return f"{phase}, {ready}/{len(app_statuses)} containers ready, {restarts} restarts"


async def read_log_tail(
    client: ApiClient, namespace: str, pod: str, container: str | None, lines: int, timeout_s: float
) -> str:
    """Return the last `lines` log lines of a container, preferring its previous (crashed) instance.

    A container in CrashLoopBackOff is waiting, so its useful log is the previous instance's; when
    there is none yet, the current log is returned. A failure to read becomes a short note.
    """
    core = CoreV1Api(client)
    options: dict[str, Any] = {"tail_lines": lines}
    if container:
        options["container"] = container

    errors = []
    for previous in (True, False):
        action = f"read the {'previous ' if previous else ''}log of pod {pod} in namespace {namespace}"
        try:
            text = await request_text(core.read_namespaced_pod_log, action, timeout_s, pod, namespace, previous=previous, **options)
        except KubeApiError as error:
            errors.append(str(error))
            continue
        if text.strip():
            return text.rstrip()
    return f"(no log lines: {'; '.join(errors) or 'the container wrote none'})"
