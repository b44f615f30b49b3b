"""A snapshot of a release for people debugging it: pod states, events and container log tails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client import ApiClient, CoreV1Api

from modelgate.helm import redact
from modelgate.kube.client import request_json
from modelgate.kube.events import concerns_release, event_time
from modelgate.kube.pods import pod_state, read_log_tail, release_selector


@dataclass
class ReleaseReport:
    """Rows ready for table artifacts, and log tails keyed by `pod/container`."""

    pods: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)


def pod_row(pod: dict[str, Any]) -> dict[str, Any]:
    """Return one table row describing a pod."""
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return {
        "pod": pod.get("metadata", {}).get("name"),
        "state": pod_state(pod),
        "node": pod.get("spec", {}).get("nodeName"),
        "restarts": sum(status.get("restartCount", 0) for status in statuses),
        "created": pod.get("metadata", {}).get("creationTimestamp"),
    }


def event_row(event: dict[str, Any]) -> dict[str, Any]:
    """Return one table row describing an event."""
    involved = event.get("involvedObject", {})
    return {
        "time": event_time(event),
        "type": event.get("type"),
        "reason": event.get("reason"),
        "object": f"{involved.get('kind', '?').lower()}/{involved.get('name', '?')}",
        "message": event.get("message"),
        "count": event.get("count") or 1,
    }


async def collect_report(
    client: ApiClient, namespace: str, release: str, log_lines: int, timeout_s: float, secrets: list[str] | None = None
) -> ReleaseReport:
    """Read the release's pods, its events (oldest first) and each container's last log lines.

    Known secret values are replaced with `***` in the log text.

    Raises:
        KubeApiError: pods or events could not be listed.
    """
    core = CoreV1Api(client)
    where = f"in namespace {namespace}"
    pods = await request_json(
        core.list_namespaced_pod, f"list pods of release {release} {where}", timeout_s, namespace, label_selector=release_selector(release)
    )
    events = await request_json(core.list_namespaced_event, f"list events {where}", timeout_s, namespace)

    report = ReleaseReport()
    report.pods = [pod_row(pod) for pod in pods.get("items") or []]
    related = [event for event in events.get("items") or [] if concerns_release(event, release)]
    report.events = sorted((event_row(event) for event in related), key=lambda row: row["time"])

    for pod in pods.get("items") or []:
        pod_name = pod.get("metadata", {}).get("name", "?")
        for container in pod.get("spec", {}).get("containers", []):
            text = await read_log_tail(client, namespace, pod_name, container.get("name"), log_lines, timeout_s)
            report.logs[f"{pod_name}/{container.get('name')}"] = redact(text, secrets or [])
    return report
