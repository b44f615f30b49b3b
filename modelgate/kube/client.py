"""Connection to a Kubernetes API server with kubernetes_asyncio, and JSON requests over it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes_asyncio import config
from kubernetes_asyncio.client import ApiClient, Configuration
from kubernetes_asyncio.config.config_exception import ConfigException

from modelgate.kube.errors import KubeApiError


@dataclass(frozen=True)
class KubeConnection:
    """Address of and credentials for a Kubernetes API server.

    With `kubeconfig` None, the pod's service account is used when running in a cluster, else
    `KUBECONFIG` or `~/.kube/config`, the same order prefect-kubernetes' KubernetesCredentials uses.
    """

    kubeconfig: dict[str, Any] | None = None
    context: str | None = None


@asynccontextmanager
async def api_client(connection: KubeConnection) -> AsyncIterator[ApiClient]:
    """Yield an ApiClient configured for `connection`; it changes no global client configuration.

    Raises:
        KubeApiError: no usable kubeconfig or in-cluster service account was found.
    """
    configuration = Configuration()
    try:
        if connection.kubeconfig is not None:
            await config.load_kube_config_from_dict(
                config_dict=connection.kubeconfig, context=connection.context, client_configuration=configuration
            )
        else:
            try:
                config.load_incluster_config(client_configuration=configuration)
            except ConfigException:
                await config.load_kube_config(context=connection.context, client_configuration=configuration)
    except (ConfigException, OSError, ValueError, TypeError, KeyError) as error:
        raise KubeApiError(
            f"no usable Kubernetes configuration: {error}; set a kubeconfig in the cluster block, "
            "run inside the cluster, or set KUBECONFIG"
        ) from error

    async with ApiClient(configuration=configuration) as client:
        yield client


def status_message(body: bytes) -> str:
    """Return the `message` of a Kubernetes Status body, or the body's start when it is not one."""
    try:
        status = json.loads(body)
    except ValueError:
        return body[:300].decode("utf-8", "replace")
    if isinstance(status, dict) and status.get("message"):
        return str(status["message"])
    return body[:300].decode("utf-8", "replace")


def failure_hint(status: int, action: str) -> str:
    """Return what to do about a failed request with HTTP `status`."""
    if status == 401:
        return "the API server rejected the credentials; renew the token or client certificate in the kubeconfig"
    if status == 403:
        return f"the account lacks permission to {action}; grant it with a Role and RoleBinding"
    return "check the cluster and the namespace"


async def request_json(call: Callable[..., Awaitable[Any]], action: str, timeout_s: float, *args: Any, **kwargs: Any) -> Any:
    """Call a kubernetes_asyncio API method and return the JSON body as plain dicts and lists.

    Args:
        call: the API method, such as `CoreV1Api(client).list_namespaced_pod`.
        action: what the call does, for error messages ("list pods in namespace llm").
        timeout_s: total timeout of the request.

    Raises:
        KubeApiError: the server was unreachable or returned a non-2xx status.
    """
    text = await request_text(call, action, timeout_s, *args, **kwargs)
    return json.loads(text)


async def request_text(call: Callable[..., Awaitable[Any]], action: str, timeout_s: float, *args: Any, **kwargs: Any) -> str:
    """Call a kubernetes_asyncio API method and return the raw body as text (pod logs are plain text).

    Raises:
        KubeApiError: the server was unreachable or returned a non-2xx status.
    """
    try:
        response = await call(*args, _preload_content=False, _request_timeout=timeout_s, **kwargs)
        try:
            body = await response.read()
        finally:
            response.release()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise KubeApiError(f"cannot {action}: no response from the Kubernetes API ({type(error).__name__}: {error})") from error

    if not 200 <= response.status <= 299:
        raise KubeApiError(
            f"cannot {action}: HTTP {response.status}: {status_message(body)}; {failure_hint(response.status, action)}",
            status=response.status,
        )
    return body.decode("utf-8", "replace")
