"""Fixtures of the Kubernetes tests: the real helm binary, the fake API server and the fake helm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.doubles.fake_kube_api import RunningFakeApi

REPO = Path(__file__).resolve().parents[2]
FAKE_HELM = REPO / "tests" / "doubles" / "fake_helm"
NAMESPACE = "llm"


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    """The real helm: MODELGATE_HELM_PATH when set, else fetched once by scripts/get_helm.py."""
    configured = os.environ.get("MODELGATE_HELM_PATH")
    if configured and Path(configured) != FAKE_HELM:
        return Path(configured)

    completed = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "get_helm.py"), "--dest", str(REPO / ".modelgate" / "tools")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, f"fetching helm failed: {completed.stderr}"
    return Path(completed.stdout.strip())


@pytest.fixture
def fake_api():
    """A fake Kubernetes API on 127.0.0.1 with an empty cluster."""
    with RunningFakeApi() as api:
        yield api


class FakeHelmRecord:
    """Reads what the fake helm recorded."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def calls(self) -> list[dict]:
        """Return one entry per helm call, oldest first."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def commands(self) -> list[str]:
        """Return the first argv word of each call, such as ['upgrade', 'uninstall']."""
        return [call["argv"][0] for call in self.calls()]


@pytest.fixture
def fake_helm(monkeypatch, tmp_path, fake_api) -> FakeHelmRecord:
    """Point modelgate at the fake helm, which records its calls and reports them to the fake API."""
    record = tmp_path / "helm-calls.jsonl"
    monkeypatch.setenv("MODELGATE_HELM_PATH", str(FAKE_HELM))
    monkeypatch.setenv("MODELGATE_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("FAKE_HELM_RECORD", str(record))
    monkeypatch.setenv("FAKE_HELM_NOTIFY_URL", f"{fake_api.base_url}/fake/helm")
    return FakeHelmRecord(record)


@pytest.fixture
def fast_watch(monkeypatch):
    """Watcher and health settings sized for the fakes, so a test run takes seconds."""
    monkeypatch.setenv("MODELGATE_KUBE_POLL_INTERVAL_S", "0.5")
    monkeypatch.setenv("MODELGATE_KUBE_WATCH_WINDOW_S", "10")
    monkeypatch.setenv("MODELGATE_KUBE_READY_TIMEOUT_S", "30")
    monkeypatch.setenv("MODELGATE_KUBE_REQUEST_TIMEOUT_S", "5")
    monkeypatch.setenv("MODELGATE_HEALTH_TIMEOUT_S", "30")
    monkeypatch.setenv("MODELGATE_RELEASE_LOCK_TIMEOUT_S", "30")
    return monkeypatch


@pytest.fixture
def cluster_block(prefect_harness, fake_api, embedding_server):
    """A saved modelgate-cluster block pointing at the fake API, with the vLLM double as gateway."""
    from prefect_kubernetes.credentials import KubernetesClusterConfig

    from blocks.cluster import ModelgateCluster

    name = f"fake-{uuid.uuid4().hex[:8]}"
    ModelgateCluster(
        cluster_config=KubernetesClusterConfig(config=fake_api.kubeconfig(), context_name="fake"),
        namespace=NAMESPACE,
        endpoint_base_url=embedding_server.base_url,
        hf_token="hf_flowtesttoken",
    ).save(name)
    return name


def run_deploy(cluster_block, on_failure="uninstall", release="mini"):
    """Run deploy-model on the kubernetes runtime with a small benchmark load; return the final state."""
    from flows.deploy_model import deploy_model
    from flows.kube_release import KubernetesTarget
    from flows.params import BenchmarkLoad

    target = KubernetesTarget(cluster_block=cluster_block, release=release, on_failure=on_failure, values={"replicaCount": 1})
    return deploy_model(
        model="test-model", served_model_name="test-model", runtime="kubernetes", load=BenchmarkLoad(concurrency=2, num_requests=6, warmup_requests=1), kubernetes=target, return_state=True
    )
