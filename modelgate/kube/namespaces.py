"""The release's namespace: make sure it exists before helm runs."""

from __future__ import annotations

import logging

from kubernetes_asyncio.client import ApiClient, CoreV1Api

from modelgate.kube.client import request_json
from modelgate.kube.errors import KubeApiError

logger = logging.getLogger(__name__)


async def ensure_namespace(client: ApiClient, namespace: str, timeout_s: float) -> bool:
    """Create the namespace when it is missing; return True when it was created.

    This is also the first request to the cluster, so a wrong kubeconfig fails here with a clear
    message. An account that may not read namespaces (403) leaves the creation to helm's
    `--create-namespace`.

    Raises:
        KubeApiError: the API was unreachable, rejected the credentials, or the create failed.
    """
    core = CoreV1Api(client)
    try:
        await request_json(core.read_namespace, f"read namespace {namespace}", timeout_s, namespace)
        return False
    except KubeApiError as error:
        if error.status == 403:
            logger.info("namespace %s: no permission to read it; helm will create it when missing", namespace)
            return False
        if error.status != 404:
            raise

    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": {"app.kubernetes.io/managed-by": "modelgate"}}}
    try:
        await request_json(core.create_namespace, f"create namespace {namespace}", timeout_s, body)
    except KubeApiError as error:
        if error.status != 409:  # created by someone else in the meantime
            raise
        return False
    logger.info("namespace %s created", namespace)
    return True
