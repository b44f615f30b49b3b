"""Failure rules on pod, event and Deployment JSON, for the cases the watcher tests do not play."""

from modelgate.kube.deployments import rollout_state
from modelgate.kube.diagnosis import diagnose_deployment, diagnose_event, diagnose_pod
from tests.doubles.kube_scenarios import make_event, make_pod


def waiting(reason, message=""):
    return {"state": {"waiting": {"reason": reason, "message": message}}}


def test_config_error_fails():
    pod = make_pod("r", "ns", container=waiting("CreateContainerConfigError", 'secret "hf" not found'))
    failure = diagnose_pod(pod)
    assert failure.reason == "CreateContainerConfigError"
    assert 'secret "hf" not found' in failure.message


def test_loading_container_is_not_failure():
    pod = make_pod("r", "ns", phase="Running", container={"state": {"running": {}}})
    assert diagnose_pod(pod) is None


def test_container_creating_is_not_failure():
    assert diagnose_pod(make_pod("r", "ns", container=waiting("ContainerCreating"))) is None


def test_crashloop_after_oom_reports_oom():
    container = {**waiting("CrashLoopBackOff"), "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}
    assert diagnose_pod(make_pod("r", "ns", container=container)).reason == "OOMKilled"


def test_evicted_pod_fails():
    pod = make_pod("r", "ns", phase="Failed")
    pod["status"].update(reason="Evicted", message="The node was low on resource: memory.")
    assert diagnose_pod(pod).reason == "Evicted"


def test_insufficient_cpu_named():
    pod = make_pod("r", "ns", scheduled=False, unschedulable_message="0/2 nodes are available: 2 Insufficient cpu.")
    failure = diagnose_pod(pod)
    assert "no node has enough cpu" in failure.message


def test_custom_gpu_resource_named():
    pod = make_pod("r", "ns", scheduled=False, unschedulable_message="0/1 nodes are available: 1 Insufficient amd.com/gpu.")
    assert "no free amd.com/gpu" in diagnose_pod(pod, gpu_resource="amd.com/gpu").message


def test_normal_event_ignored():
    assert diagnose_event(make_event("ns", "p", "Pulled", "Successfully pulled image", "Normal")) is None


def test_probe_warning_not_failure():
    assert diagnose_event(make_event("ns", "p", "Unhealthy", "Startup probe failed: connection refused")) is None


def test_replica_failure_fails():
    deployment = {"metadata": {"name": "r"}, "status": {"conditions": [
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": 'pods "r-1" is forbidden: exceeded quota: gpu'},
    ]}}
    failure = diagnose_deployment(deployment)
    assert failure.reason == "FailedCreate"
    assert "exceeded quota" in failure.message


def test_progress_deadline_fails():
    deployment = {"metadata": {"name": "r"}, "status": {"conditions": [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet has timed out progressing."},
    ]}}
    assert diagnose_deployment(deployment).reason == "ProgressDeadlineExceeded"


def test_rollout_waits_for_old_replicas():
    deployment = {"metadata": {"generation": 2}, "spec": {"replicas": 1},
                  "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 1, "readyReplicas": 2}}
    complete, summary = rollout_state(deployment)
    assert complete is False
    assert "1 old" in summary


def test_rollout_waits_for_new_generation():
    deployment = {"metadata": {"generation": 3}, "spec": {"replicas": 1},
                  "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}}
    assert rollout_state(deployment)[0] is False


def test_rollout_complete():
    deployment = {"metadata": {"generation": 1}, "spec": {"replicas": 2},
                  "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}}
    assert rollout_state(deployment)[0] is True


def test_old_mount_event_ignored_after_start():
    pod = make_pod("r", "ns", phase="Running", container={"state": {"running": {}}})
    assert diagnose_event(make_event("ns", "p", "FailedMount", "timed out waiting for the condition"), pod=pod) is None


def test_old_scheduling_event_ignored_when_bound():
    pod = make_pod("r", "ns", container=waiting("ContainerCreating"))
    event = make_event("ns", "p", "FailedScheduling", "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.")
    assert diagnose_event(event, pod=pod) is None
