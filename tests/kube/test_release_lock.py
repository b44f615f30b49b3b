"""One run at a time per release: the global concurrency limit keyed by namespace and release."""

import threading
import uuid

import pytest
from prefect.client.orchestration import get_client

from flows.kube_release import ReleaseBusyError, acquire_release_lock, lock_name
from modelgate.helm import ReleaseTarget
from tests.doubles.kube_scenarios import FAILURE_SCENARIOS
from tests.kube.conftest import run_deploy
from tests.kube.test_deploy_kubernetes import run as run_flow
from tests.doubles.kube_scenarios import FAILURE_SCENARIOS


def fresh_target():
    return ReleaseTarget(name=f"lock-{uuid.uuid4().hex[:8]}", namespace="llm")


def test_lock_creates_one_slot_limit(prefect_harness):
    target = fresh_target()
    acquire_release_lock(target, timeout_s=5).close()
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(lock_name(target))
    assert limit.limit == 1


def test_second_holder_waits_then_fails(prefect_harness):
    target = fresh_target()
    held = acquire_release_lock(target, timeout_s=5)
    try:
        with pytest.raises(ReleaseBusyError) as caught:
            acquire_release_lock(target, timeout_s=2)
    finally:
        held.close()
    assert target.name in str(caught.value)


def test_released_lock_can_be_taken(prefect_harness):
    target = fresh_target()
    acquire_release_lock(target, timeout_s=5).close()
    again = acquire_release_lock(target, timeout_s=5)
    again.close()


def test_other_release_not_blocked(prefect_harness):
    held = acquire_release_lock(fresh_target(), timeout_s=5)
    try:
        acquire_release_lock(fresh_target(), timeout_s=5).close()
    finally:
        held.close()


def test_concurrent_runs_do_not_interleave(fake_api, fake_helm, fast_watch, cluster_block):
    fake_api.cluster.scenario = FAILURE_SCENARIOS["CrashLoopBackOff"](0.5)
    states = []
    threads = [threading.Thread(target=lambda: states.append(run_deploy(cluster_block, release="shared"))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(states) == 2
    assert fake_helm.commands() == ["upgrade", "uninstall", "upgrade", "uninstall"]
