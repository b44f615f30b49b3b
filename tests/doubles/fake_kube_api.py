"""A fake Kubernetes API server over real HTTP on 127.0.0.1, for kubernetes_asyncio clients.

It serves what modelgate's watcher and release tasks request, with the status codes and JSON shapes
of a real API server. Namespaces can be read and created. Pods and events can be listed and watched
with label selectors, resourceVersion and timeoutSeconds. Pod logs honour tailLines, previous and
container, and Services and Deployments can be read. Lists and watches return 401 without the bearer token, watches resumed from
a compacted resourceVersion get a 410 ERROR event, and every error body is a `Status` object.

There are no controllers. `FakeCluster.install()` (called when the fake helm reports an upgrade)
creates the release's Deployment and Service and plays a `Scenario`: timed steps that put pods,
events and logs, as the scheduler and kubelet would. The Deployment's status follows its pods.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

TOKEN = "fake-cluster-token"
LIST_KINDS = {"pods": "PodList", "events": "EventList"}


def now_iso() -> str:
    """Return the current UTC time as the API formats timestamps."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code: int, reason: str, message: str) -> JSONResponse:
    """Return a Kubernetes `Status` error response."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}
    return JSONResponse(body, status_code=code)


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Tell whether equality-based `selector` (`a=b,c=d`) matches `labels`."""
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


@dataclass
class Step:
    """One scenario step: at `at_s` seconds after install, call `apply(cluster, namespace, release)`."""

    at_s: float
    apply: Callable[[FakeCluster, str, str], None]
    marks_condition: bool = False


@dataclass
class Scenario:
    """Timed steps played after install; `condition_at` is set when the step marked as the condition runs."""

    steps: list[Step] = field(default_factory=list)
    condition_at: float | None = None


class FakeCluster:
    """In-memory objects with resource versions and a change history that watches replay."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.lock = threading.Lock()
        self.version = itertools.count(1000)
        self.current_version = 999
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.history: list[tuple[int, str, str, str, dict[str, Any]]] = []
        self.compacted_below = 0
        self.logs: dict[tuple[str, str, str, bool], str] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.helm_calls: list[list[str]] = []
        self.scenario = Scenario()
        self.threads: list[threading.Thread] = []
        self.closed = False
        self.watch_epoch = 0

    # --- storage -------------------------------------------------------------------------------

    def put(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object; record ADDED or MODIFIED for watches."""
        with self.lock:
            obj = json.loads(json.dumps(obj))
            metadata = obj.setdefault("metadata", {})
            namespace = metadata.get("namespace", "")
            key = (kind, namespace, metadata["name"])
            previous = self.objects.get(key)
            metadata.setdefault("uid", previous["metadata"]["uid"] if previous else str(uuid.uuid4()))
            metadata.setdefault("creationTimestamp", previous["metadata"]["creationTimestamp"] if previous else now_iso())
            self.current_version = next(self.version)
            metadata["resourceVersion"] = str(self.current_version)
            self.objects[key] = obj
            self.history.append((self.current_version, kind, namespace, "MODIFIED" if previous else "ADDED", obj))
        if kind == "pods":
            self._refresh_deployments(namespace)
        return obj

    def delete(self, kind: str, namespace: str, name: str) -> None:
        """Delete an object; record DELETED for watches."""
        with self.lock:
            obj = self.objects.pop((kind, namespace, name), None)
            if obj is None:
                return
            self.current_version = next(self.version)
            obj["metadata"]["resourceVersion"] = str(self.current_version)
            self.history.append((self.current_version, kind, namespace, "DELETED", obj))
        if kind == "pods":
            self._refresh_deployments(namespace)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """Return a stored object or None."""
        with self.lock:
            return self.objects.get((kind, namespace, name))

    def items(self, kind: str, namespace: str, selector: str = "") -> list[dict[str, Any]]:
        """Return the objects of a kind in a namespace that match `selector`."""
        with self.lock:
            return [
                obj for (k, ns, _), obj in self.objects.items()
                if k == kind and ns == namespace and selector_matches(selector, obj["metadata"].get("labels", {}))
            ]

    def compact(self) -> None:
        """Forget the history, as etcd compaction does, and end open watches.

        Watches resumed from an older resourceVersion then get a 410 Gone ERROR event.
        """
        with self.lock:
            self.compacted_below = self.current_version + 1
            self.history.clear()
            self.watch_epoch += 1

    def _refresh_deployments(self, namespace: str) -> None:
        for deployment in self.items("deployments", namespace):
            selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())
            pods = [pod for pod in self.items("pods", namespace, selector) if not pod["metadata"].get("deletionTimestamp")]
            ready = sum(1 for pod in pods if pod_ready(pod))
            status = {
                "observedGeneration": deployment["metadata"].get("generation", 1),
                "replicas": len(pods),
                "updatedReplicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "conditions": deployment.get("status", {}).get("conditions", []),
            }
            if status != deployment.get("status"):
                self.put("deployments", {**deployment, "status": status})

    # --- releases --------------------------------------------------------------------------------

    def install(self, namespace: str, release: str, replicas: int = 1, port: int = 8000) -> None:
        """Create the release's Deployment and Service, then play the scenario in a thread."""
        labels = {"app.kubernetes.io/name": "modelgate-vllm", "app.kubernetes.io/instance": release}
        self.put("namespaces", {"metadata": {"name": namespace}})
        self.put("services", {
            "metadata": {"name": release, "namespace": namespace, "labels": labels},
            "spec": {"type": "ClusterIP", "selector": labels, "ports": [{"name": "http", "port": port, "targetPort": "http"}]},
        })
        self.put("deployments", {
            "metadata": {"name": release, "namespace": namespace, "labels": labels, "generation": 1},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}},
            "status": {"observedGeneration": 1},
        })
        thread = threading.Thread(target=self._play, args=(namespace, release), daemon=True)
        self.threads.append(thread)
        thread.start()

    def uninstall(self, namespace: str, release: str) -> None:
        """Delete the release's Deployment, Service and pods."""
        for pod in self.items("pods", namespace, f"app.kubernetes.io/instance={release}"):
            self.delete("pods", namespace, pod["metadata"]["name"])
        self.delete("deployments", namespace, release)
        self.delete("services", namespace, release)

    def _play(self, namespace: str, release: str) -> None:
        started = time.monotonic()
        for step in sorted(self.scenario.steps, key=lambda item: item.at_s):
            time.sleep(max(0.0, started + step.at_s - time.monotonic()))
            if step.marks_condition:
                self.scenario.condition_at = time.time()
            step.apply(self, namespace, release)


def pod_ready(pod: dict[str, Any]) -> bool:
    """Tell whether the pod's Ready condition is True."""
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in pod.get("status", {}).get("conditions", []))


def build_app(cluster: FakeCluster) -> Starlette:
    """Return the ASGI app serving `cluster`."""

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {cluster.token}"

    def record(request: Request) -> None:
        cluster.requests.append((request.method, request.url.path, dict(request.query_params)))

    async def guarded(request: Request, handler: Callable[[Request], Any]) -> Response:
        record(request)
        if not authorized(request):
            return status_body(401, "Unauthorized", "Unauthorized")
        return await handler(request)

    async def read_namespace(request: Request) -> Response:
        async def handler(request: Request) -> Response:
            name = request.path_params["name"]
            obj = cluster.get("namespaces", "", name)
            return JSONResponse(obj) if obj else status_body(404, "NotFound", f'namespaces "{name}" not found')
        return await guarded(request, handler)

    async def create_namespace(request: Request) -> Response:
        async def handler(request: Request) -> Response:
            body = await request.json()
            name = body["metadata"]["name"]
            if cluster.get("namespaces", "", name):
                return status_body(409, "AlreadyExists", f'namespaces "{name}" already exists')
            return JSONResponse(cluster.put("namespaces", body), status_code=201)
        return await guarded(request, handler)

    def collection(kind: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            async def handler(request: Request) -> Response:
                namespace = request.path_params["namespace"]
                selector = request.query_params.get("labelSelector", "")
                if request.query_params.get("watch", "").lower() in ("true", "1"):
                    return watch_response(kind, namespace, selector, request)
                items = cluster.items(kind, namespace, selector)
                return JSONResponse({
                    "kind": LIST_KINDS[kind], "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(cluster.current_version)}, "items": items,
                })
            return await guarded(request, handler)
        return endpoint

    def watch_response(kind: str, namespace: str, selector: str, request: Request) -> Response:
        since = request.query_params.get("resourceVersion", "")
        timeout_s = float(request.query_params.get("timeoutSeconds", "1800"))

        async def lines():
            deadline = time.monotonic() + timeout_s
            epoch = cluster.watch_epoch
            if since and since != "0" and int(since) < cluster.compacted_below:
                gone = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410,
                        "message": f"too old resource version: {since} ({cluster.compacted_below})"}
                yield json.dumps({"type": "ERROR", "object": gone}) + "\n"
                return

            position = int(since) if since and since != "0" else cluster.current_version
            if not since or since == "0":
                for obj in cluster.items(kind, namespace, selector):
                    yield json.dumps({"type": "ADDED", "object": obj}) + "\n"

            while time.monotonic() < deadline and not cluster.closed and cluster.watch_epoch == epoch:
                with cluster.lock:
                    pending = [entry for entry in cluster.history if entry[0] > position]
                for version, entry_kind, entry_namespace, event_type, obj in pending:
                    position = version
                    if entry_kind == kind and entry_namespace == namespace and selector_matches(selector, obj["metadata"].get("labels", {})):
                        yield json.dumps({"type": event_type, "object": obj}) + "\n"
                await asyncio.sleep(0.02)

        return StreamingResponse(lines(), media_type="application/json")

    async def pod_log(request: Request) -> Response:
        async def handler(request: Request) -> Response:
            namespace, name = request.path_params["namespace"], request.path_params["name"]
            pod = cluster.get("pods", namespace, name)
            if pod is None:
                return status_body(404, "NotFound", f'pods "{name}" not found')
            container = request.query_params.get("container") or pod["spec"]["containers"][0]["name"]
            previous = request.query_params.get("previous", "").lower() == "true"
            text = cluster.logs.get((namespace, name, container, previous))
            if text is None and previous:
                return status_body(400, "BadRequest", f'previous terminated container "{container}" in pod "{name}" not found')
            lines = (text or "").splitlines()
            tail = int(request.query_params.get("tailLines", "0") or 0)
            shown = lines[-tail:] if tail else lines
            return PlainTextResponse("".join(f"{line}\n" for line in shown))
        return await guarded(request, handler)

    def reader(kind: str) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            async def handler(request: Request) -> Response:
                namespace, name = request.path_params["namespace"], request.path_params["name"]
                obj = cluster.get(kind, namespace, name)
                if obj is None:
                    group = "deployments.apps" if kind == "deployments" else kind
                    return status_body(404, "NotFound", f'{group} "{name}" not found')
                return JSONResponse(obj)
            return await guarded(request, handler)
        return endpoint

    async def helm_notice(request: Request) -> Response:
        argv = (await request.json())["argv"]
        cluster.helm_calls.append(argv)
        namespace = argv[argv.index("--namespace") + 1]
        if argv[0] == "upgrade":
            cluster.install(namespace, argv[2])
        elif argv[0] == "uninstall":
            cluster.uninstall(namespace, argv[1])
        return JSONResponse({"ok": True})

    routes = [
        Route("/api/v1/namespaces", create_namespace, methods=["POST"]),
        Route("/api/v1/namespaces/{name}", read_namespace, methods=["GET"]),
        Route("/api/v1/namespaces/{namespace}/pods", collection("pods"), methods=["GET"]),
        Route("/api/v1/namespaces/{namespace}/pods/{name}/log", pod_log, methods=["GET"]),
        Route("/api/v1/namespaces/{namespace}/events", collection("events"), methods=["GET"]),
        Route("/api/v1/namespaces/{namespace}/services/{name}", reader("services"), methods=["GET"]),
        Route("/apis/apps/v1/namespaces/{namespace}/deployments/{name}", reader("deployments"), methods=["GET"]),
        Route("/fake/helm", helm_notice, methods=["POST"]),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return status_body(404, "NotFound", "the server could not find the requested resource")

    return Starlette(routes=routes, exception_handlers={404: not_found})


class RunningFakeApi:
    """The fake API served by uvicorn in a background thread; use as a context manager."""

    def __init__(self, cluster: FakeCluster | None = None) -> None:
        self.cluster = cluster or FakeCluster()
        config = uvicorn.Config(
            build_app(self.cluster), host="127.0.0.1", port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        """Return the root URL, such as http://127.0.0.1:41234."""
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def kubeconfig(self, token: str | None = None) -> dict[str, Any]:
        """Return a kubeconfig dict whose one context points at this server with a bearer token."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.base_url}}],
            "users": [{"name": "tester", "user": {"token": token or self.cluster.token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester", "namespace": "default"}}],
            "current-context": "fake",
        }

    def __enter__(self) -> RunningFakeApi:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Kubernetes API did not start within 10 s")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.cluster.closed = True
        self.server.should_exit = True
        self.thread.join(timeout=10)
