"""The benchmark job template rendered offline by prefect-kubernetes, as its worker renders it per flow run."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMPLATE = json.loads((PROJECT_DIR / "deployments" / "benchmark-job-template.json").read_text())
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def load_work_pools_script() -> Any:
    """Import deployments/work_pools.py, which is a script and not part of a package."""
    spec = importlib.util.spec_from_file_location("work_pools", PROJECT_DIR / "deployments" / "work_pools.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(values: dict[str, Any], template: dict[str, Any] = TEMPLATE) -> dict[str, Any]:
    """Return the Job manifest the Kubernetes worker would create for one flow run with `values`."""
    # A client on a port nothing listens on: the template has no block or variable references,
    # so rendering must not send a request, and one that it did send would fail the test.
    client = PrefectClient(api="http://127.0.0.1:9/api")
    configuration = asyncio.run(KubernetesWorkerJobConfiguration.from_template_and_values(template, values, client=client))
    configuration.prepare_for_flow_run(FlowRun(id=uuid4(), name="quiet-fox", flow_id=uuid4()))
    return configuration.job_manifest


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    """Return the pod spec of a Job manifest."""
    return manifest["spec"]["template"]["spec"]


def test_default_gpu_limit_zero():
    container = pod_spec(render({}))["containers"][0]

    assert container["resources"]["limits"]["nvidia.com/gpu"] == 0


@pytest.mark.parametrize("key", ["nodeSelector", "tolerations", "affinity", "serviceAccountName"])
def test_default_omits_optional(key):
    assert key not in pod_spec(render({}))


def test_default_namespace_and_image():
    manifest = render({})

    assert manifest["metadata"]["namespace"] == "modelgate"
    assert pod_spec(manifest)["containers"][0]["image"] == "modelgate:0.1.0"


def test_gpu_job_variables_applied():
    manifest = render(
        {
            "gpu_count": 1,
            "node_selector": {"nvidia.com/gpu.present": "true"},
            "tolerations": [GPU_TOLERATION],
            "namespace": "llm",
            "service_account_name": "modelgate-bench",
            "image": "registry.example.com/modelgate:1.2.3",
        }
    )
    spec = pod_spec(manifest)

    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert spec["tolerations"] == [GPU_TOLERATION]
    assert spec["serviceAccountName"] == "modelgate-bench"
    assert manifest["metadata"]["namespace"] == "llm"
    assert spec["containers"][0]["image"] == "registry.example.com/modelgate:1.2.3"


def test_affinity_applied():
    affinity = {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}

    assert pod_spec(render({"affinity": affinity}))["affinity"] == affinity


def test_every_variable_used():
    # A variable that no placeholder references has no effect on the Job.
    rendered = json.dumps(TEMPLATE["job_configuration"])
    used = set(re.findall(r"\{\{\s*([a-z_]+)\s*\}\}", rendered))

    assert set(TEMPLATE["variables"]["properties"]) - used == set()


def test_gpu_count_not_negative():
    assert TEMPLATE["variables"]["properties"]["gpu_count"]["minimum"] == 0


def test_result_storage_block_in_env():
    template = load_work_pools_script().kubernetes_template("s3-bucket/modelgate-results")
    env = pod_spec(render({}, template))["containers"][0]["env"]

    assert {"name": "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK", "value": "s3-bucket/modelgate-results"} in env


def test_result_storage_block_needs_type():
    with pytest.raises(ValueError, match="block-type/name"):
        load_work_pools_script().kubernetes_template("modelgate-results")


def test_process_pool_starts_in_checkout(tmp_path):
    template = load_work_pools_script().process_template(tmp_path)

    assert template["variables"]["properties"]["working_dir"]["default"] == str(tmp_path)
