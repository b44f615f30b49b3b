"""Endpoint URL of a release: the Service's in-cluster DNS name, or a configured ingress or gateway URL."""

from __future__ import annotations

from kubernetes_asyncio.client import ApiClient, CoreV1Api

from modelgate.endpoints import ServerAddress
from modelgate.errors import InvalidInputError
from modelgate.kube.client import request_json


def gateway_url(template: str, release: str, namespace: str) -> str:
    """Fill `{release}` and `{namespace}` into a base URL such as `https://{release}.models.example.com`.

    Raises:
        InvalidInputError: the template has another placeholder or gives no valid http(s) URL.
    """
    try:
        url = template.format(release=release, namespace=namespace)
    except (KeyError, IndexError, ValueError) as error:
        raise InvalidInputError(
            f"endpoint base URL {template!r} is invalid: only {{release}} and {{namespace}} may be used as placeholders"
        ) from error
    ServerAddress.parse(url)
    return url.rstrip("/")


async def service_url(client: ApiClient, namespace: str, service: str, cluster_domain: str, timeout_s: float) -> str:
    """Return `http://<service>.<namespace>.svc.<cluster domain>:<port>` from the Service's `http` port.

    Raises:
        KubeApiError: the Service could not be read.
        InvalidInputError: the Service has no ports.
    """
    core = CoreV1Api(client)
    body = await request_json(
        core.read_namespaced_service, f"read service {service} in namespace {namespace}", timeout_s, service, namespace
    )
    ports = body.get("spec", {}).get("ports") or []
    if not ports:
        raise InvalidInputError(f"service {service} in namespace {namespace} has no ports; check the chart's service values")

    port = next((entry for entry in ports if entry.get("name") == "http"), ports[0])["port"]
    return f"http://{service}.{namespace}.svc.{cluster_domain}:{port}"
