"""Readiness watcher: follow a release's pods and events until its Deployment is rolled out, a failure shows, or a deadline passes."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client import ApiClient, CoreV1Api

from modelgate.kube.deployments import read_deployment, rollout_state
from modelgate.kube.diagnosis import Failure, diagnose_deployment, diagnose_event, diagnose_pod, is_terminating
from modelgate.kube.errors import ReleaseFailedError, ReleaseTimeoutError
from modelgate.kube.events import concerns_release, event_summary, involved_name
from modelgate.kube.pods import is_ready, pod_state, read_log_tail, release_selector
from modelgate.kube.watch import follow

logger = logging.getLogger(__name__)

# Reasons whose container log explains the failure.
LOGGED_REASONS = ("CrashLoopBackOff", "OOMKilled")
# Events kept per pod; older ones are dropped.
EVENTS_PER_OBJECT = 20


@dataclass(frozen=True)
class WatchOptions:
    """Limits of one wait; the defaults of the flow come from ModelgateSettings."""

    ready_timeout_s: float = 3600.0
    poll_interval_s: float = 2.0
    watch_window_s: int = 60
    request_timeout_s: float = 30.0
    unschedulable_grace_s: float = 0.0
    log_tail_lines: int = 40
    gpu_resource: str = "nvidia.com/gpu"


@dataclass(frozen=True)
class ReadyRelease:
    """A release whose rollout completed: its Ready pods and how long the wait took."""

    release: str
    namespace: str
    pods: list[str]
    seconds: float


class ReleaseWatcher:
    """Watch one release. The Deployment and its pods are named after the release, as the chart does."""

    def __init__(
        self,
        client: ApiClient,
        namespace: str,
        release: str,
        options: WatchOptions,
        log: logging.Logger | logging.LoggerAdapter | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.release = release
        self.options = options
        self.log = log or logger
        self.pods: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.seen_events: set[str] = set()
        self.states: dict[str, str] = {}
        self.first_failure_seen: dict[tuple[str, str], float] = {}
        self.changed = asyncio.Event()

    async def wait_until_ready(self) -> ReadyRelease:
        """Wait until the rollout is complete and return the Ready pods.

        Raises:
            ReleaseFailedError: a pod, event or the Deployment shows a failure.
            ReleaseTimeoutError: the deadline passed with no failure seen.
            KubeApiError: the API was unreachable or refused a request.
        """
        started = time.monotonic()
        core = CoreV1Api(self.client)
        where = f"in namespace {self.namespace}"
        followers = [
            asyncio.create_task(
                follow(
                    core.list_namespaced_pod, f"list pods of release {self.release} {where}", self._on_pod,
                    self.options.watch_window_s, self.options.request_timeout_s, self.log,
                    namespace=self.namespace, label_selector=release_selector(self.release),
                )
            ),
            asyncio.create_task(
                follow(
                    core.list_namespaced_event, f"list events {where}", self._on_event,
                    self.options.watch_window_s, self.options.request_timeout_s, self.log, namespace=self.namespace,
                )
            ),
        ]
        try:
            async with asyncio.timeout(self.options.ready_timeout_s):
                return await self._loop(started, followers)
        except TimeoutError as error:
            raise ReleaseTimeoutError(
                f"release {self.release} {where} was not Ready within {self.options.ready_timeout_s:.0f} s "
                f"(MODELGATE_KUBE_READY_TIMEOUT_S); last state: {self._last_state()}"
            ) from error
        finally:
            for task in followers:
                task.cancel()
            for task in followers:
                with suppress(asyncio.CancelledError, Exception):
                    await task

    async def _loop(self, started: float, followers: list[asyncio.Task]) -> ReadyRelease:
        while True:
            for task in followers:
                if task.done() and task.exception() is not None:
                    raise task.exception()

            failure = self._pod_failure()
            deployment = await read_deployment(self.client, self.namespace, self.release, self.options.request_timeout_s)
            if failure is None and deployment is not None:
                failure = diagnose_deployment(deployment)
            if failure is not None:
                raise await self._failed(failure)

            if deployment is None:
                self._log_state("deployment", "not found yet")
            else:
                complete, summary = rollout_state(deployment)
                self._log_state("deployment", summary)
                if complete:
                    ready = sorted(name for name, pod in self.pods.items() if is_ready(pod) and not is_terminating(pod))
                    seconds = time.monotonic() - started
                    self.log.info("release %s: rollout complete after %.1f s; ready pods %s", self.release, seconds, ready)
                    return ReadyRelease(self.release, self.namespace, ready, seconds)

            self.changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), self.options.poll_interval_s)

    def _on_pod(self, kind: str, pod: dict[str, Any]) -> None:
        if kind == "RESET":
            self.pods.clear()
            return

        name = pod.get("metadata", {}).get("name", "?")
        if kind == "DELETED":
            self.pods.pop(name, None)
            self._log_state(f"pod {name}", "deleted")
        else:
            self.pods[name] = pod
            self._log_state(f"pod {name}", pod_state(pod))
        self.changed.set()

    def _on_event(self, kind: str, event: dict[str, Any]) -> None:
        if kind == "RESET":
            self.events.clear()
            return
        if kind == "DELETED" or not concerns_release(event, self.release):
            return

        name = involved_name(event)
        kept = [item for item in self.events.get(name, []) if item.get("metadata", {}).get("uid") != event.get("metadata", {}).get("uid")]
        self.events[name] = [*kept, event][-EVENTS_PER_OBJECT:]

        uid = event.get("metadata", {}).get("uid") or event_summary(event)
        if event.get("type") == "Warning" and uid not in self.seen_events:
            self.seen_events.add(uid)
            self.log.info("release %s: event %s", self.release, event_summary(event))
        self.changed.set()

    def _pod_failure(self) -> Failure | None:
        """Return the first failure of a current pod, from its status or its events."""
        for name, pod in sorted(self.pods.items()):
            if is_terminating(pod):
                continue

            failure = diagnose_pod(pod, self.options.gpu_resource)
            for event in self.events.get(name, []):
                if failure is not None:
                    break
                failure = diagnose_event(event, self.options.gpu_resource, pod)
            if failure is not None and self._past_grace(failure):
                return failure
        return None

    def _past_grace(self, failure: Failure) -> bool:
        if failure.reason != "Unschedulable" or self.options.unschedulable_grace_s <= 0:
            return True

        key = (failure.pod, failure.reason)
        first = self.first_failure_seen.setdefault(key, time.monotonic())
        if time.monotonic() - first >= self.options.unschedulable_grace_s:
            return True
        self._log_state(
            f"pod {failure.pod} scheduling",
            f"Unschedulable; waiting up to {self.options.unschedulable_grace_s:.0f} s for capacity (MODELGATE_KUBE_UNSCHEDULABLE_GRACE_S)",
        )
        return False

    async def _failed(self, failure: Failure) -> ReleaseFailedError:
        message = f"release {self.release} in namespace {self.namespace} failed: {failure.message}"
        self.log.error("release %s: %s", self.release, failure.message)

        log_tail = ""
        if failure.reason in LOGGED_REASONS and failure.pod:
            log_tail = await read_log_tail(
                self.client, self.namespace, failure.pod, failure.container, self.options.log_tail_lines, self.options.request_timeout_s
            )
        return ReleaseFailedError(failure.reason, message, log_tail)

    def _log_state(self, subject: str, state: str) -> None:
        if self.states.get(subject) == state:
            return
        self.states[subject] = state
        self.log.info("release %s: %s: %s", self.release, subject, state)

    def _last_state(self) -> str:
        return "; ".join(f"{subject}: {state}" for subject, state in self.states.items()) or "nothing observed"
