"""Pod and event sequences for the fake Kubernetes API: one success and one per failure the watcher names.

Pods and events have the shapes kubelet and scheduler produce (container state reasons, the
PodScheduled condition, Warning events with counts), so the watcher reads them as it reads a cluster's.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.doubles.fake_kube_api import FakeCluster, Scenario, Step, now_iso

GPU_SCHEDULER_MESSAGE = (
    "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
    "2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
    "2 No preemption victims found for incoming pod."
)
CRASH_LOG = "\n".join(
    [f"INFO 12-04 10:00:0{i} loader step {i}" for i in range(8)]
    + ["Traceback (most recent call last):", 'ValueError: The checkpoint you are trying to load has model type "qwen3_next"']
)


def pod_name(release: str, index: int = 0) -> str:
    """Return a pod name shaped like a ReplicaSet's: `<release>-<hash>-<suffix>`."""
    return f"{release}-7d9f8b6c5d-x2k4{index}"


def make_pod(release: str, namespace: str, index: int = 0, *, phase: str = "Pending", scheduled: bool = True,
             unschedulable_message: str = "", container: dict[str, Any] | None = None, ready: bool = False) -> dict[str, Any]:
    """Return a pod of the release's Deployment with the given status."""
    conditions = [{"type": "PodScheduled", "status": "True"}]
    if not scheduled:
        conditions = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": unschedulable_message}]
    else:
        conditions.append({"type": "Ready", "status": "True" if ready else "False"})

    status: dict[str, Any] = {"phase": phase, "conditions": conditions}
    if container is not None:
        status["containerStatuses"] = [{"name": "vllm", "image": "vllm/vllm-openai:v0.32.0", "ready": ready, "restartCount": 0, **container}]
    return {
        "metadata": {
            "name": pod_name(release, index),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": "modelgate-vllm",
                "app.kubernetes.io/instance": release,
                "app.kubernetes.io/component": "model-server",
            },
        },
        "spec": {
            "nodeName": "gpu-node-1" if scheduled else None,
            "containers": [{"name": "vllm", "resources": {"limits": {"nvidia.com/gpu": "1", "memory": "16Gi"}}}],
        },
        "status": status,
    }


def make_event(namespace: str, pod: str, reason: str, message: str, event_type: str = "Warning") -> dict[str, Any]:
    """Return an event about a pod, as the kubelet or scheduler records it."""
    return {
        "metadata": {"name": f"{pod}.{uuid.uuid4().hex[:12]}", "namespace": namespace},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": namespace},
        "reason": reason,
        "message": message,
        "type": event_type,
        "count": 1,
        "firstTimestamp": now_iso(),
        "lastTimestamp": now_iso(),
        "source": {"component": "kubelet"},
    }


def put_pod(**fields: Any):
    """Return a step action that stores a pod built by `make_pod` with `fields`."""
    def apply(cluster: FakeCluster, namespace: str, release: str) -> None:
        cluster.put("pods", make_pod(release, namespace, **fields))
    return apply


def put_event(reason: str, message: str, event_type: str = "Warning"):
    """Return a step action that stores an event about the release's first pod."""
    def apply(cluster: FakeCluster, namespace: str, release: str) -> None:
        cluster.put("events", make_event(namespace, pod_name(release), reason, message, event_type))
    return apply


def put_logs(text: str, previous: bool):
    """Return a step action that sets the first pod's current or previous container log."""
    def apply(cluster: FakeCluster, namespace: str, release: str) -> None:
        cluster.logs[(namespace, pod_name(release), "vllm", previous)] = text
    return apply


CREATING = {"state": {"waiting": {"reason": "ContainerCreating"}}}
LOADING = {"state": {"running": {"startedAt": "2026-12-04T10:00:00Z"}}}


def ready_scenario(delay_s: float = 0.3) -> Scenario:
    """Return pods that are created, load the model, and turn Ready."""
    return Scenario(steps=[
        Step(0.0, put_pod(container=CREATING)),
        Step(0.0, put_event("Scheduled", "Successfully assigned pod to gpu-node-1", "Normal")),
        Step(delay_s, put_pod(phase="Running", container=LOADING)),
        Step(delay_s, put_logs("INFO loading weights\nINFO Starting vLLM API server on http://0.0.0.0:8000", previous=False)),
        Step(2 * delay_s, put_pod(phase="Running", container={**LOADING, "ready": True}, ready=True), marks_condition=True),
    ])


def crashloop_scenario(delay_s: float = 0.3) -> Scenario:
    """Return a container that exits with an error while loading and goes into CrashLoopBackOff."""
    crashed = {
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container=vllm"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
        "restartCount": 1,
    }
    return Scenario(steps=[
        Step(0.0, put_pod(container=CREATING)),
        Step(delay_s, put_pod(phase="Running", container=LOADING)),
        Step(2 * delay_s, put_logs(CRASH_LOG, previous=True)),
        Step(2 * delay_s, put_pod(phase="Running", container=crashed), marks_condition=True),
    ])


def image_pull_scenario(reason: str = "ErrImagePull", delay_s: float = 0.3) -> Scenario:
    """Return a container whose image cannot be pulled (ErrImagePull or ImagePullBackOff)."""
    message = 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/vllm/vllm-openai:v9.9.9": not found'
    if reason == "ImagePullBackOff":
        message = 'Back-off pulling image "vllm/vllm-openai:v9.9.9"'
    return Scenario(steps=[
        Step(0.0, put_pod(container=CREATING)),
        Step(delay_s, put_pod(container={"state": {"waiting": {"reason": reason, "message": message}}}), marks_condition=True),
    ])


def unschedulable_scenario(delay_s: float = 0.3) -> Scenario:
    """Return a pod the scheduler cannot place because no node has a free GPU."""
    return Scenario(steps=[
        Step(delay_s, put_pod(scheduled=False, unschedulable_message=GPU_SCHEDULER_MESSAGE), marks_condition=True),
        Step(delay_s, put_event("FailedScheduling", GPU_SCHEDULER_MESSAGE)),
    ])


def oom_scenario(delay_s: float = 0.3) -> Scenario:
    """Return a container killed for exceeding its memory limit while loading, then restarted."""
    restarted = {**LOADING, "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}, "restartCount": 1}
    return Scenario(steps=[
        Step(0.0, put_pod(container=CREATING)),
        Step(delay_s, put_pod(phase="Running", container=LOADING)),
        Step(2 * delay_s, put_logs("INFO loading safetensors shard 3 of 4", previous=True)),
        Step(2 * delay_s, put_pod(phase="Running", container=restarted), marks_condition=True),
    ])


def failed_mount_scenario(delay_s: float = 0.3) -> Scenario:
    """Return a pod whose model cache volume cannot be mounted."""
    message = 'MountVolume.SetUp failed for volume "model-cache" : mount failed: exit status 32'
    return Scenario(steps=[
        Step(0.0, put_pod(container=CREATING)),
        Step(delay_s, put_event("FailedMount", message), marks_condition=True),
    ])


FAILURE_SCENARIOS = {
    "CrashLoopBackOff": crashloop_scenario,
    "ErrImagePull": lambda delay_s=0.3: image_pull_scenario("ErrImagePull", delay_s),
    "ImagePullBackOff": lambda delay_s=0.3: image_pull_scenario("ImagePullBackOff", delay_s),
    "Unschedulable": unschedulable_scenario,
    "OOMKilled": oom_scenario,
    "FailedMount": failed_mount_scenario,
}
