"""The release's Deployment: reading it and deciding whether its rollout is complete."""

from __future__ import annotations

from typing import Any

from kubernetes_asyncio.client import ApiClient, AppsV1Api

from modelgate.kube.client import request_json
from modelgate.kube.errors import KubeApiError


async def read_deployment(client: ApiClient, namespace: str, name: str, timeout_s: float) -> dict[str, Any] | None:
    """Return the Deployment, or None when it does not exist (yet).

    Raises:
        KubeApiError: the API was unreachable or refused the read.
    """
    apps = AppsV1Api(client)
    try:
        return await request_json(
            apps.read_namespaced_deployment, f"read deployment {name} in namespace {namespace}", timeout_s, name, namespace
        )
    except KubeApiError as error:
        if error.status == 404:
            return None
        raise


def rollout_state(deployment: dict[str, Any]) -> tuple[bool, str]:
    """Return whether the rollout is complete and a one-line summary, with `kubectl rollout status` rules.

    Complete means the controller has seen the latest spec, every replica runs the new pod template,
    no old replica is left, and every new replica is available.
    """
    spec = deployment.get("spec", {})
    status = deployment.get("status", {})
    wanted = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    ready = int(status.get("readyReplicas") or 0)

    observed = int(status.get("observedGeneration") or 0) >= int(deployment.get("metadata", {}).get("generation") or 0)
    complete = observed and updated == wanted and total == updated and available == updated and wanted > 0
    summary = f"{ready}/{wanted} ready, {updated} updated, {available} available"
    if total > updated:
        summary += f", {total - updated} old"
    return complete, summary
