"""The release engine against a fake helm executable that records its arguments and can fail."""

import json
import os
from pathlib import Path

import pytest
import yaml

from modelgate.errors import InvalidInputError
from modelgate.helm import (
    Helm,
    HelmError,
    HelmNotFoundError,
    ReleaseTarget,
    cluster_model_name,
    default_release_name,
    find_helm,
    release_values,
    validate_namespace,
    validate_release_name,
)
from modelgate.settings import ModelgateSettings
from tests.kube.conftest import FAKE_HELM, FakeHelmRecord

TOKEN = "hf_abcdefghijklmnop"


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    record = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_HELM_RECORD", str(record))
    monkeypatch.delenv("FAKE_HELM_NOTIFY_URL", raising=False)
    return FakeHelmRecord(record)


@pytest.fixture
def helm(tmp_path):
    return Helm(FAKE_HELM, timeout_s=30, work_dir=tmp_path / "work")


TARGET = ReleaseTarget(name="qwen", namespace="llm", chart="/charts/modelgate-vllm")


def test_install_uses_upgrade_install(helm, recorded):
    helm.upgrade_install(TARGET, {"model": {"name": "m"}})
    argv = recorded.calls()[0]["argv"]
    assert argv[:4] == ["upgrade", "--install", "qwen", "/charts/modelgate-vllm"]
    assert argv[argv.index("--namespace") + 1] == "llm"
    assert "--create-namespace" in argv


def test_values_travel_in_private_file(helm, recorded):
    helm.upgrade_install(TARGET, {"hfToken": {"value": TOKEN}}, secrets=[TOKEN])
    call = recorded.calls()[0]
    assert yaml.safe_load(call["values"]) == {"hfToken": {"value": TOKEN}}
    assert call["values_mode"] == "0o600"


def test_secret_never_on_argv(helm, recorded):
    helm.upgrade_install(TARGET, {"hfToken": {"value": TOKEN}}, secrets=[TOKEN])
    assert TOKEN not in json.dumps(recorded.calls()[0]["argv"])


def test_values_file_deleted_after(helm, recorded):
    helm.upgrade_install(TARGET, {"a": 1})
    argv = recorded.calls()[0]["argv"]
    assert not Path(argv[argv.index("--values") + 1]).exists()


def test_install_returns_revision(helm, recorded):
    helm.upgrade_install(TARGET, {})
    description = helm.upgrade_install(TARGET, {})
    assert description["version"] == 2


def test_kubeconfig_written_privately(helm, recorded):
    target = ReleaseTarget(name="qwen", namespace="llm", kubeconfig={"users": [{"user": {"token": "k8s-secret"}}]}, kube_context="gpu")
    helm.upgrade_install(target, {})
    call = recorded.calls()[0]
    assert call["kubeconfig_mode"] == "0o600"
    assert "k8s-secret" not in json.dumps(call["argv"])
    assert call["argv"][call["argv"].index("--kube-context") + 1] == "gpu"


def test_no_kubeconfig_without_block(helm, recorded):
    helm.upgrade_install(TARGET, {})
    assert "--kubeconfig" not in recorded.calls()[0]["argv"]


def test_failure_carries_stderr(helm, recorded, monkeypatch):
    monkeypatch.setenv("FAKE_HELM_FAIL", "Error: INSTALLATION FAILED: Kubernetes cluster unreachable")
    with pytest.raises(HelmError) as caught:
        helm.upgrade_install(TARGET, {})
    assert "Kubernetes cluster unreachable" in str(caught.value)
    assert "check the cluster block's kubeconfig" in str(caught.value)


def test_failure_redacts_secret(helm, recorded, monkeypatch):
    monkeypatch.setenv("FAKE_HELM_FAIL", f"Error: bad value {TOKEN}")
    with pytest.raises(HelmError) as caught:
        helm.upgrade_install(TARGET, {"hfToken": {"value": TOKEN}}, secrets=[TOKEN])
    assert TOKEN not in str(caught.value)


def test_pending_operation_gets_hint(helm, recorded, monkeypatch):
    monkeypatch.setenv("FAKE_HELM_FAIL", "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress")
    with pytest.raises(HelmError) as caught:
        helm.upgrade_install(TARGET, {})
    assert "helm history qwen -n llm" in str(caught.value)


def test_slow_helm_times_out(tmp_path):
    slow = tmp_path / "slow-helm"
    slow.write_text("#!/bin/sh\nsleep 10\n")
    slow.chmod(0o755)
    with pytest.raises(HelmError) as caught:
        Helm(slow, timeout_s=0.5, work_dir=tmp_path).upgrade_install(TARGET, {})
    assert "did not finish within" in str(caught.value)


def test_uninstall_ignores_missing(helm, recorded):
    helm.uninstall(TARGET)
    argv = recorded.calls()[0]["argv"]
    assert argv[:2] == ["uninstall", "qwen"]
    assert "--ignore-not-found" in argv


def test_configured_helm_must_exist(tmp_path):
    with pytest.raises(HelmNotFoundError) as caught:
        find_helm(ModelgateSettings(helm_path=tmp_path / "nope"))
    assert "get_helm.py" in str(caught.value)


def test_missing_helm_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HelmNotFoundError):
        find_helm(ModelgateSettings())


def test_helm_found_on_path(monkeypatch, tmp_path):
    binary = tmp_path / "helm"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_helm(ModelgateSettings()) == binary


@pytest.mark.parametrize("name", ["", "Qwen", "1model", "model-", "a_b", "a.b", "x" * 54])
def test_bad_release_names_rejected(name):
    with pytest.raises(InvalidInputError) as caught:
        validate_release_name(name)
    assert "at most 53 characters" in str(caught.value)


def test_longest_release_name_accepted():
    assert validate_release_name("a" * 53) == "a" * 53


def test_bad_namespace_rejected():
    with pytest.raises(InvalidInputError):
        validate_namespace("LLM")


@pytest.mark.parametrize(
    ("served", "expected"),
    [("Qwen/Qwen2.5-0.5B-Instruct", "qwen2-5-0-5b-instruct"), ("7b-chat", "model-7b-chat"), ("all-MiniLM-L6-v2", "all-minilm-l6-v2")],
)
def test_default_release_name_is_valid(served, expected):
    assert default_release_name(served) == expected


def test_packaged_model_maps_to_hub_id():
    assert cluster_model_name("all-MiniLM-L6-v2") == "sentence-transformers/all-MiniLM-L6-v2"


def test_model_path_passes_through():
    assert cluster_model_name("/models/qwen") == "/models/qwen"


def test_values_later_overrides_win():
    values = release_values("m", "served", ["--max-num-seqs", "8"], [{"engine": {"dtype": "half"}}, {"engine": {"dtype": "bfloat16"}}])
    assert values["engine"] == {"extraArgs": ["--max-num-seqs", "8"], "dtype": "bfloat16"}


def test_values_token_skipped_with_existing_secret():
    values = release_values("m", "s", [], [{"hfToken": {"existingSecret": "hf"}}], hf_token=TOKEN)
    assert "value" not in values["hfToken"]


def test_values_reject_reserved_engine_args():
    with pytest.raises(InvalidInputError):
        release_values("m", "s", ["--port=9000"], [])


def unreachable_target(url):
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": url}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }
    return ReleaseTarget(name="qwen", namespace="llm", kubeconfig=kubeconfig, kube_context="c")


def test_real_helm_accepts_install_flags(helm_binary, tmp_path, unused_port_url):
    real = Helm(helm_binary, timeout_s=30, work_dir=tmp_path)
    with pytest.raises(HelmError) as caught:
        real.upgrade_install(unreachable_target(unused_port_url), {"model": {"name": "m"}})
    assert "unknown flag" not in str(caught.value)
    assert "check the cluster block's kubeconfig" in str(caught.value)


def test_real_helm_accepts_uninstall_flags(helm_binary, tmp_path, unused_port_url):
    real = Helm(helm_binary, timeout_s=30, work_dir=tmp_path)
    with pytest.raises(HelmError) as caught:
        real.uninstall(unreachable_target(unused_port_url))
    assert "unknown flag" not in str(caught.value)
    assert "unreachable" in str(caught.value)
