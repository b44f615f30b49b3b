import asyncio
import logging
import time

import pytest

from modelgate.kube.client import KubeConnection, api_client
from modelgate.kube.errors import KubeApiError, ReleaseFailedError, ReleaseTimeoutError
from modelgate.kube.watcher import ReleaseWatcher, WatchOptions
from tests.doubles.kube_scenarios import CRASH_LOG, FAILURE_SCENARIOS, make_pod, pod_name, ready_scenario, unschedulable_scenario

NAMESPACE = "llm"
RELEASE = "qwen"
FAST = WatchOptions(ready_timeout_s=20, poll_interval_s=0.5, watch_window_s=5, request_timeout_s=5)


async def watch(fake_api, options=FAST, token=None, scenario=None, install=True):
    if scenario is not None:
        fake_api.cluster.scenario = scenario
    if install:
        fake_api.cluster.install(NAMESPACE, RELEASE)
    async with api_client(KubeConnection(kubeconfig=fake_api.kubeconfig(token))) as client:
        return await ReleaseWatcher(client, NAMESPACE, RELEASE, options).wait_until_ready()


def test_ready_pods_end_wait(fake_api):
    ready = asyncio.run(watch(fake_api, scenario=ready_scenario()))
    assert ready.pods == [pod_name(RELEASE)]


def test_watcher_uses_watch_requests(fake_api):
    asyncio.run(watch(fake_api, scenario=ready_scenario()))
    watched = [path for method, path, query in fake_api.cluster.requests if query.get("watch", "").lower() == "true"]
    assert any(path.endswith("/pods") for path in watched)
    assert any(path.endswith("/events") for path in watched)


def test_pod_watch_uses_release_selector(fake_api):
    asyncio.run(watch(fake_api, scenario=ready_scenario()))
    selectors = {query.get("labelSelector") for method, path, query in fake_api.cluster.requests if path.endswith("/pods")}
    assert selectors == {f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=model-server"}


@pytest.mark.parametrize("reason", sorted(FAILURE_SCENARIOS))
def test_failure_names_reason(fake_api, reason):
    with pytest.raises(ReleaseFailedError) as caught:
        asyncio.run(watch(fake_api, scenario=FAILURE_SCENARIOS[reason](0.2)))
    assert caught.value.reason == reason
    assert reason in str(caught.value)


def test_crashloop_quotes_last_log_lines(fake_api):
    with pytest.raises(ReleaseFailedError) as caught:
        asyncio.run(watch(fake_api, scenario=FAILURE_SCENARIOS["CrashLoopBackOff"](0.2)))
    assert CRASH_LOG.splitlines()[-1] in caught.value.log_tail


def test_crashloop_log_tail_is_bounded(fake_api):
    options = WatchOptions(ready_timeout_s=20, poll_interval_s=0.5, watch_window_s=5, request_timeout_s=5, log_tail_lines=3)
    with pytest.raises(ReleaseFailedError) as caught:
        asyncio.run(watch(fake_api, options, scenario=FAILURE_SCENARIOS["CrashLoopBackOff"](0.2)))
    assert len(caught.value.log_tail.splitlines()) == 3


def test_crashloop_reads_previous_container(fake_api):
    with pytest.raises(ReleaseFailedError):
        asyncio.run(watch(fake_api, scenario=FAILURE_SCENARIOS["CrashLoopBackOff"](0.2)))
    log_queries = [query for method, path, query in fake_api.cluster.requests if path.endswith("/log")]
    assert log_queries[0]["previous"].lower() == "true"


def test_unschedulable_says_no_free_gpu(fake_api):
    with pytest.raises(ReleaseFailedError) as caught:
        asyncio.run(watch(fake_api, scenario=unschedulable_scenario(0.2)))
    assert "no free nvidia.com/gpu" in str(caught.value)


def test_oomkilled_names_memory_limit(fake_api):
    with pytest.raises(ReleaseFailedError) as caught:
        asyncio.run(watch(fake_api, scenario=FAILURE_SCENARIOS["OOMKilled"](0.2)))
    assert "16Gi" in str(caught.value)


def test_failed_mount_quotes_event(fake_api):
    with pytest.raises(ReleaseFailedError) as caught:
        asyncio.run(watch(fake_api, scenario=FAILURE_SCENARIOS["FailedMount"](0.2)))
    assert 'volume "model-cache"' in str(caught.value)


def test_unschedulable_grace_delays_failure(fake_api):
    options = WatchOptions(ready_timeout_s=20, poll_interval_s=0.2, watch_window_s=5, request_timeout_s=5, unschedulable_grace_s=1.5)
    started = time.monotonic()
    with pytest.raises(ReleaseFailedError):
        asyncio.run(watch(fake_api, options, scenario=unschedulable_scenario(0.0)))
    assert time.monotonic() - started >= 1.5


def test_timeout_reports_last_state(fake_api):
    fake_api.cluster.scenario = ready_scenario(delay_s=30)
    options = WatchOptions(ready_timeout_s=1.5, poll_interval_s=0.2, watch_window_s=5, request_timeout_s=5)
    with pytest.raises(ReleaseTimeoutError) as caught:
        asyncio.run(watch(fake_api, options))
    assert "ContainerCreating" in str(caught.value)


def test_missing_deployment_times_out(fake_api):
    options = WatchOptions(ready_timeout_s=1, poll_interval_s=0.2, watch_window_s=5, request_timeout_s=5)
    with pytest.raises(ReleaseTimeoutError) as caught:
        asyncio.run(watch(fake_api, options, install=False))
    assert "not found yet" in str(caught.value)


def test_wrong_token_is_rejected(fake_api):
    with pytest.raises(KubeApiError) as caught:
        asyncio.run(watch(fake_api, token="wrong", scenario=ready_scenario()))
    assert caught.value.status == 401


def test_unreachable_api_fails_clearly(unused_port_url):
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": unused_port_url}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }

    async def run():
        async with api_client(KubeConnection(kubeconfig=kubeconfig)) as client:
            return await ReleaseWatcher(client, NAMESPACE, RELEASE, FAST).wait_until_ready()

    with pytest.raises(KubeApiError) as caught:
        asyncio.run(run())
    assert "no response from the Kubernetes API" in str(caught.value)


def test_terminating_pod_is_ignored(fake_api):
    old = make_pod(RELEASE, NAMESPACE, index=9, phase="Running", container={"state": {"waiting": {"reason": "CrashLoopBackOff"}}})
    old["metadata"]["deletionTimestamp"] = "2026-12-04T10:00:00Z"
    fake_api.cluster.put("pods", old)
    ready = asyncio.run(watch(fake_api, scenario=ready_scenario()))
    assert ready.pods == [pod_name(RELEASE)]


def test_compacted_watch_lists_again(fake_api):
    fake_api.cluster.scenario = ready_scenario(delay_s=1.0)
    fake_api.cluster.install(NAMESPACE, RELEASE)

    async def run():
        async with api_client(KubeConnection(kubeconfig=fake_api.kubeconfig())) as client:
            watcher = ReleaseWatcher(client, NAMESPACE, RELEASE, FAST)
            task = asyncio.create_task(watcher.wait_until_ready())
            await asyncio.sleep(0.5)
            fake_api.cluster.compact()
            fake_api.cluster.put("pods", make_pod("unrelated", NAMESPACE))
            return await task

    asyncio.run(run())
    pod_lists = [q for m, p, q in fake_api.cluster.requests if p.endswith("/pods") and q.get("watch", "").lower() != "true"]
    assert len(pod_lists) >= 2


def test_state_changes_logged_once(fake_api, caplog):
    caplog.set_level(logging.INFO, logger="modelgate.kube.watcher")
    asyncio.run(watch(fake_api, scenario=ready_scenario()))
    creating = [record for record in caplog.records if "ContainerCreating" in record.getMessage()]
    assert len(creating) == 1


def test_relist_forgets_deleted_pods(fake_api):
    fake_api.cluster.scenario = ready_scenario(delay_s=1.0)
    stale = make_pod(RELEASE, NAMESPACE, index=7, container={"state": {"waiting": {"reason": "ContainerCreating"}}})

    async def run():
        async with api_client(KubeConnection(kubeconfig=fake_api.kubeconfig())) as client:
            watcher = ReleaseWatcher(client, NAMESPACE, RELEASE, FAST)
            fake_api.cluster.put("pods", stale)
            fake_api.cluster.install(NAMESPACE, RELEASE)
            task = asyncio.create_task(watcher.wait_until_ready())
            await asyncio.sleep(0.5)
            fake_api.cluster.compact()
            fake_api.cluster.delete("pods", NAMESPACE, stale["metadata"]["name"])
            await task
            return watcher

    watcher = asyncio.run(run())
    assert stale["metadata"]["name"] not in watcher.pods
