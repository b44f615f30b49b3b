"""Namespace, endpoint URL, release report and cluster block, against the fake API."""

import asyncio

import pytest

from modelgate.errors import InvalidInputError
from modelgate.kube.client import KubeConnection, api_client
from modelgate.kube.endpoint import gateway_url, service_url
from modelgate.kube.namespaces import ensure_namespace
from modelgate.kube.report import collect_report
from tests.doubles.kube_scenarios import make_event, make_pod, pod_name


async def with_client(fake_api, action):
    async with api_client(KubeConnection(kubeconfig=fake_api.kubeconfig())) as client:
        return await action(client)


def test_missing_namespace_created(fake_api):
    created = asyncio.run(with_client(fake_api, lambda client: ensure_namespace(client, "llm", 5)))
    assert created is True
    assert fake_api.cluster.get("namespaces", "", "llm") is not None


def test_existing_namespace_left_alone(fake_api):
    fake_api.cluster.put("namespaces", {"metadata": {"name": "llm"}})
    created = asyncio.run(with_client(fake_api, lambda client: ensure_namespace(client, "llm", 5)))
    assert created is False


def test_service_url_uses_http_port(fake_api):
    fake_api.cluster.install("llm", "qwen", port=8080)
    url = asyncio.run(with_client(fake_api, lambda client: service_url(client, "llm", "qwen", "cluster.local", 5)))
    assert url == "http://qwen.llm.svc.cluster.local:8080"


def test_gateway_url_fills_placeholders():
    assert gateway_url("https://{release}.{namespace}.models.example.com/", "qwen", "llm") == "https://qwen.llm.models.example.com"


def test_gateway_url_rejects_unknown_placeholder():
    with pytest.raises(InvalidInputError) as caught:
        gateway_url("https://{model}.example.com", "qwen", "llm")
    assert "{release}" in str(caught.value)


def test_report_redacts_secret(fake_api):
    fake_api.cluster.put("pods", make_pod("qwen", "llm", phase="Running", container={"state": {"running": {}}}))
    fake_api.cluster.logs[("llm", pod_name("qwen"), "vllm", False)] = "token hf_secretvalue loaded\nready"
    report = asyncio.run(with_client(fake_api, lambda client: collect_report(client, "llm", "qwen", 10, 5, ["hf_secretvalue"])))
    assert report.logs[f"{pod_name('qwen')}/vllm"] == "token *** loaded\nready"


def test_report_keeps_only_release_events(fake_api):
    fake_api.cluster.put("events", make_event("llm", pod_name("qwen"), "FailedMount", "mount failed"))
    fake_api.cluster.put("events", make_event("llm", "other-5f6d-abcde", "BackOff", "unrelated"))
    report = asyncio.run(with_client(fake_api, lambda client: collect_report(client, "llm", "qwen", 10, 5)))
    assert [row["reason"] for row in report.events] == ["FailedMount"]


def test_block_without_config_uses_defaults():
    from blocks.cluster import ModelgateCluster

    assert ModelgateCluster().connection() == KubeConnection()


def test_block_rejects_bad_namespace():
    from blocks.cluster import ModelgateCluster

    with pytest.raises(ValueError) as caught:
        ModelgateCluster(namespace="Models")
    assert "namespace 'Models' is invalid" in str(caught.value)


def test_block_secret_masked_in_repr():
    from blocks.cluster import ModelgateCluster

    assert "hf_secretvalue" not in repr(ModelgateCluster(hf_token="hf_secretvalue"))


def test_no_kubeconfig_fails_clearly(monkeypatch, tmp_path):
    from modelgate.kube.errors import KubeApiError

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)

    async def open_client():
        async with api_client(KubeConnection()):
            pass

    with pytest.raises(KubeApiError) as caught:
        asyncio.run(open_client())
    assert "no usable Kubernetes configuration" in str(caught.value)
