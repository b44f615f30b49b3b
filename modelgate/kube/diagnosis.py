"""Decide from a pod's status, its events or the Deployment's conditions whether a release has failed.

Every rule reads fields as the Kubernetes API returns them. A failure is a state that waiting does
not fix: the kubelet keeps retrying a crashing container or a missing image, but the outcome only
changes when someone changes the release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

IMAGE_PULL_REASONS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull")
CONTAINER_CONFIG_REASONS = ("CreateContainerConfigError", "CreateContainerError", "RunContainerError")
MOUNT_EVENT_REASONS = ("FailedMount",)
# Resource names end with a letter or digit; the scheduler follows them with "." or ",".
INSUFFICIENT_PATTERN = re.compile(r"Insufficient ([A-Za-z0-9][-A-Za-z0-9_./]*[A-Za-z0-9])")


@dataclass(frozen=True)
class Failure:
    """Reason a release cannot become Ready.

    Attributes:
        reason: the Kubernetes reason, such as CrashLoopBackOff or FailedMount.
        message: one sentence for people, naming the pod and container.
        pod: the pod's name; empty for a Deployment condition.
        container: the container whose log tail explains the failure, when logs help.
    """

    reason: str
    message: str
    pod: str = ""
    container: str | None = None


def is_terminating(pod: dict[str, Any]) -> bool:
    """Tell whether the pod is being deleted; its state then belongs to the previous revision."""
    return bool(pod.get("metadata", {}).get("deletionTimestamp"))


def container_statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """Return init container statuses, then app container statuses."""
    status = pod.get("status", {})
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]


def requested(pod: dict[str, Any], resource: str) -> int:
    """Return how many units of `resource` the pod's containers request in their limits."""
    total = 0
    for container in pod.get("spec", {}).get("containers", []):
        value = ((container.get("resources") or {}).get("limits") or {}).get(resource)
        if value is not None:
            try:
                total += int(value)
            except (TypeError, ValueError):
                continue
    return total


def memory_limit(pod: dict[str, Any], container_name: str) -> str | None:
    """Return the memory limit of one container, such as `16Gi`, or None when it has none."""
    for container in pod.get("spec", {}).get("containers", []):
        if container.get("name") == container_name:
            return ((container.get("resources") or {}).get("limits") or {}).get("memory")
    return None


def diagnose_pod(pod: dict[str, Any], gpu_resource: str = "nvidia.com/gpu") -> Failure | None:
    """Return the failure a pod's status shows, or None while it may still become Ready."""
    if is_terminating(pod):
        return None

    name = pod.get("metadata", {}).get("name", "?")
    status = pod.get("status", {})
    for container in container_statuses(pod):
        failure = diagnose_container(pod, name, container)
        if failure is not None:
            return failure

    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False" and condition.get("reason") == "Unschedulable":
            return unschedulable(pod, name, condition.get("message", ""), gpu_resource)

    if status.get("phase") == "Failed":
        reason = status.get("reason") or "PodFailed"
        return Failure(reason, f"pod {name} failed ({reason}): {status.get('message', 'no message')}", name)
    return None


def diagnose_container(pod: dict[str, Any], pod_name: str, container: dict[str, Any]) -> Failure | None:
    """Return the failure one container status shows, or None."""
    name = container.get("name", "?")
    state = container.get("state") or {}
    last = (container.get("lastState") or {}).get("terminated") or {}
    waiting = state.get("waiting") or {}
    terminated = state.get("terminated") or {}
    waiting_reason = waiting.get("reason", "")

    if terminated.get("reason") == "OOMKilled" or last.get("reason") == "OOMKilled":
        limit = memory_limit(pod, name)
        limit_text = f"its memory limit {limit}" if limit else "the memory available to it"
        return Failure(
            "OOMKilled",
            f"container {name} of pod {pod_name} was OOMKilled: it used more than {limit_text}; "
            "raise resources.limits.memory, or lower max model length or max-num-seqs",
            pod_name,
            name,
        )

    if waiting_reason in IMAGE_PULL_REASONS:
        return Failure(
            waiting_reason,
            f"container {name} of pod {pod_name} cannot pull image {container.get('image', '?')} ({waiting_reason}): "
            f"{waiting.get('message', 'no message')}; check image.repository, image.tag and imagePullSecrets",
            pod_name,
        )

    if waiting_reason == "CrashLoopBackOff":
        exit_text = ""
        if last:
            exit_text = f", last exit code {last.get('exitCode', '?')} ({last.get('reason', 'no reason')})"
        return Failure(
            "CrashLoopBackOff",
            f"container {name} of pod {pod_name} keeps crashing (CrashLoopBackOff): "
            f"{container.get('restartCount', 0)} restarts{exit_text}",
            pod_name,
            name,
        )

    if waiting_reason in CONTAINER_CONFIG_REASONS:
        return Failure(
            waiting_reason,
            f"container {name} of pod {pod_name} cannot be created ({waiting_reason}): {waiting.get('message', 'no message')}",
            pod_name,
        )
    return None


def unschedulable(pod: dict[str, Any], name: str, scheduler_message: str, gpu_resource: str) -> Failure:
    """Return the Unschedulable failure, saying plainly when no node has a free GPU."""
    short = INSUFFICIENT_PATTERN.findall(scheduler_message)
    if gpu_resource in short:
        count = requested(pod, gpu_resource)
        text = (
            f"pod {name} is Unschedulable: no free {gpu_resource} on any node (the pod requests {count}); "
            f"free GPUs or lower engine.tensorParallelSize. Scheduler: {scheduler_message}"
        )
    elif short:
        text = f"pod {name} is Unschedulable: no node has enough {', '.join(sorted(set(short)))}. Scheduler: {scheduler_message}"
    else:
        text = f"pod {name} is Unschedulable: {scheduler_message or 'no message'}"
    return Failure("Unschedulable", text, name)


def has_started(pod: dict[str, Any]) -> bool:
    """Tell whether a container of the pod has run, which means its volumes were mounted."""
    for container in container_statuses(pod):
        state = container.get("state") or {}
        if "running" in state or "terminated" in state or container.get("restartCount", 0) > 0:
            return True
    return False


def is_scheduled(pod: dict[str, Any]) -> bool:
    """Tell whether the pod was bound to a node."""
    if pod.get("spec", {}).get("nodeName"):
        return True
    conditions = pod.get("status", {}).get("conditions") or []
    return any(condition.get("type") == "PodScheduled" and condition.get("status") == "True" for condition in conditions)


def diagnose_event(event: dict[str, Any], gpu_resource: str = "nvidia.com/gpu", pod: dict[str, Any] | None = None) -> Failure | None:
    """Return the failure a Warning event about a pod shows, or None.

    Events outlive the condition they report, so a mount failure of a pod whose containers have
    started, or a scheduling failure of a pod that has a node, is history and is ignored.
    """
    if event.get("type") != "Warning":
        return None

    involved = event.get("involvedObject", {})
    name = involved.get("name", "?")
    reason = event.get("reason", "")
    message = event.get("message", "")
    if reason in MOUNT_EVENT_REASONS and not (pod and has_started(pod)):
        # NOTE: a mount error the kubelet would overcome on its next retry fails the release as well.
        return Failure(
            reason,
            f"pod {name} cannot mount a volume ({reason}): {message}; check modelCache and the claims and Secrets it names",
            name,
        )
    if reason == "FailedScheduling" and not (pod and is_scheduled(pod)):
        return unschedulable(pod or {}, name, message, gpu_resource)
    return None


def diagnose_deployment(deployment: dict[str, Any]) -> Failure | None:
    """Return the failure a Deployment's conditions show (pods cannot be created, or no progress)."""
    name = deployment.get("metadata", {}).get("name", "?")
    for condition in deployment.get("status", {}).get("conditions") or []:
        kind = condition.get("type")
        if kind == "ReplicaFailure" and condition.get("status") == "True":
            reason = condition.get("reason", "ReplicaFailure")
            return Failure(reason, f"deployment {name} cannot create pods ({reason}): {condition.get('message', '')}")
        if kind == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return Failure(
                "ProgressDeadlineExceeded",
                f"deployment {name} made no progress within its progressDeadlineSeconds: {condition.get('message', '')}",
            )
    return None
