"""deploy-model on the kubernetes runtime, against the fake API, the fake helm and the vLLM double."""

import pytest

from tests.doubles.kube_scenarios import FAILURE_SCENARIOS, ready_scenario
from tests.kube.conftest import NAMESPACE
from tests.kube.conftest import run_deploy as run


def test_ready_release_reaches_probe(fake_api, fake_helm, fast_watch, cluster_block):
    fake_api.cluster.scenario = ready_scenario(0.2)
    state = run(cluster_block)
    result = state.result(raise_on_failure=False)
    assert state.is_completed(), state.message
    assert result.model_type == "embedding"
    assert result.endpoints["/v1/embeddings"] is True


def test_passing_release_is_kept(fake_api, fake_helm, fast_watch, cluster_block):
    fake_api.cluster.scenario = ready_scenario(0.2)
    run(cluster_block)
    assert fake_helm.commands() == ["upgrade"]
    assert fake_api.cluster.get("deployments", NAMESPACE, "mini") is not None


def test_release_values_reach_helm(fake_api, fake_helm, fast_watch, cluster_block):
    fake_api.cluster.scenario = ready_scenario(0.2)
    run(cluster_block)
    call = fake_helm.calls()[0]
    assert "model:\n  name: test-model\n  servedName: test-model" in call["values"]
    assert "hf_flowtesttoken" in call["values"]
    assert "hf_flowtesttoken" not in " ".join(call["argv"])


def test_namespace_created_first(fake_api, fake_helm, fast_watch, cluster_block):
    fake_api.cluster.scenario = ready_scenario(0.2)
    run(cluster_block)
    methods = [(method, path) for method, path, query in fake_api.cluster.requests]
    assert methods[:2] == [("GET", f"/api/v1/namespaces/{NAMESPACE}"), ("POST", "/api/v1/namespaces")]


@pytest.mark.parametrize("reason", sorted(FAILURE_SCENARIOS))
def test_failure_fails_run_with_reason(fake_api, fake_helm, fast_watch, cluster_block, reason):
    fake_api.cluster.scenario = FAILURE_SCENARIOS[reason](0.2)
    state = run(cluster_block)
    assert state.is_failed()
    assert reason in state.message


@pytest.mark.parametrize("reason", ["CrashLoopBackOff", "Unschedulable"])
def test_failure_uninstalls_by_default(fake_api, fake_helm, fast_watch, cluster_block, reason):
    fake_api.cluster.scenario = FAILURE_SCENARIOS[reason](0.2)
    run(cluster_block)
    assert fake_helm.commands() == ["upgrade", "uninstall"]
    assert fake_api.cluster.get("deployments", NAMESPACE, "mini") is None


def test_failure_kept_on_request(fake_api, fake_helm, fast_watch, cluster_block):
    fake_api.cluster.scenario = FAILURE_SCENARIOS["OOMKilled"](0.2)
    run(cluster_block, on_failure="keep")
    assert fake_helm.commands() == ["upgrade"]


def test_crashloop_message_has_log_lines(fake_api, fake_helm, fast_watch, cluster_block):
    fake_api.cluster.scenario = FAILURE_SCENARIOS["CrashLoopBackOff"](0.2)
    state = run(cluster_block)
    assert "ValueError: The checkpoint you are trying to load" in state.message


def test_unschedulable_message_names_gpu(fake_api, fake_helm, fast_watch, cluster_block):
    fake_api.cluster.scenario = FAILURE_SCENARIOS["Unschedulable"](0.2)
    state = run(cluster_block)
    assert "no free nvidia.com/gpu" in state.message


def test_report_saved_before_uninstall(fake_api, fake_helm, fast_watch, cluster_block):
    from prefect.artifacts import Artifact

    fake_api.cluster.scenario = FAILURE_SCENARIOS["CrashLoopBackOff"](0.2)
    run(cluster_block, release="report-check")
    logs = Artifact.get(f"release-logs-{NAMESPACE}-report-check")
    assert "ValueError" in logs.data


def test_helm_failure_fails_run(fake_api, fake_helm, fast_watch, cluster_block, monkeypatch):
    monkeypatch.setenv("FAKE_HELM_FAIL", "Error: INSTALLATION FAILED: chart requires kubeVersion >=1.28")
    state = run(cluster_block)
    assert state.is_failed()
    assert "chart requires kubeVersion" in state.message


def test_bad_release_name_fails_run(fake_api, fake_helm, fast_watch, cluster_block):
    state = run(cluster_block, release="Bad_Name")
    assert state.is_failed()
    assert "release name 'Bad_Name' is invalid" in state.message
