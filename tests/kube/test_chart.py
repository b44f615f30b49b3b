"""The modelgate-vllm chart, checked with the real helm binary: lint, schema and rendered manifests."""

import json
import subprocess

import pytest
import yaml

from tests.kube.conftest import REPO

CHART = REPO / "charts" / "modelgate-vllm"


def helm(helm_binary, tmp_path, *arguments):
    env = {"HELM_CACHE_HOME": str(tmp_path / "c"), "HELM_CONFIG_HOME": str(tmp_path / "f"), "HELM_DATA_HOME": str(tmp_path / "d"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(helm_binary), *arguments], capture_output=True, text=True, timeout=60, env=env, check=False)


def render(helm_binary, tmp_path, values=None):
    """Render the chart as release `rel` in namespace `llm` and return the manifests keyed by kind."""
    arguments = ["template", "rel", str(CHART), "--namespace", "llm"]
    if values is not None:
        values_file = tmp_path / "values.yaml"
        values_file.write_text(yaml.safe_dump(values))
        arguments += ["--values", str(values_file)]
    completed = helm(helm_binary, tmp_path, *arguments)
    assert completed.returncode == 0, completed.stderr
    manifests = {}
    for document in yaml.safe_load_all(completed.stdout):
        if document:
            manifests.setdefault(document["kind"], []).append(document)
    return manifests


def rejection(helm_binary, tmp_path, values):
    values_file = tmp_path / "bad.yaml"
    values_file.write_text(yaml.safe_dump(values))
    return helm(helm_binary, tmp_path, "template", "rel", str(CHART), "--values", str(values_file))


def container(manifests):
    return manifests["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]


def test_lint_strict_passes(helm_binary, tmp_path):
    completed = helm(helm_binary, tmp_path, "lint", "--strict", str(CHART))
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_default_render_has_workload(helm_binary, tmp_path):
    manifests = render(helm_binary, tmp_path)
    assert sorted(manifests) == ["Deployment", "Pod", "Service"]


def test_args_carry_serve_options(helm_binary, tmp_path):
    values = {
        "model": {"name": "Qwen/Qwen2.5-0.5B-Instruct", "servedName": "qwen", "runner": "pooling"},
        "engine": {"dtype": "bfloat16", "maxModelLen": 4096, "tensorParallelSize": 2, "gpuMemoryUtilization": 0.85,
                   "extraArgs": ["--max-num-seqs", "64", "--enable-prefix-caching"]},
    }
    args = container(render(helm_binary, tmp_path, values))["args"]
    assert args == [
        "Qwen/Qwen2.5-0.5B-Instruct", "--served-model-name", "qwen", "--host", "0.0.0.0", "--port", "8000",
        "--dtype", "bfloat16", "--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.85",
        "--max-model-len", "4096", "--runner", "pooling", "--max-num-seqs", "64", "--enable-prefix-caching",
    ]


def test_command_is_vllm_serve(helm_binary, tmp_path):
    assert container(render(helm_binary, tmp_path))["command"] == ["vllm", "serve"]


def test_gpu_limit_follows_tensor_parallel(helm_binary, tmp_path):
    limits = container(render(helm_binary, tmp_path, {"engine": {"tensorParallelSize": 4}}))["resources"]["limits"]
    assert limits == {"nvidia.com/gpu": 4}


def test_gpu_resource_name_configurable(helm_binary, tmp_path):
    values = {"gpu": {"resourceName": "amd.com/gpu", "count": 2}, "resources": {"limits": {"memory": "32Gi"}}}
    limits = container(render(helm_binary, tmp_path, values))["resources"]["limits"]
    assert limits == {"amd.com/gpu": 2, "memory": "32Gi"}


def test_zero_gpus_drop_gpu_flags(helm_binary, tmp_path):
    rendered = container(render(helm_binary, tmp_path, {"gpu": {"count": 0}}))
    assert "resources" not in rendered
    assert "--gpu-memory-utilization" not in rendered["args"]


def test_probes_gate_liveness_on_startup(helm_binary, tmp_path):
    rendered = container(render(helm_binary, tmp_path))
    startup = rendered["startupProbe"]
    assert startup["httpGet"] == {"path": "/health", "port": "http"}
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800
    assert "initialDelaySeconds" not in rendered["livenessProbe"]


@pytest.mark.parametrize("probe", ["startupProbe", "readinessProbe", "livenessProbe"])
def test_probe_timeouts_above_one_second(helm_binary, tmp_path, probe):
    assert container(render(helm_binary, tmp_path))[probe]["timeoutSeconds"] > 1


def test_progress_deadline_exceeds_startup_budget(helm_binary, tmp_path):
    deployment = render(helm_binary, tmp_path)["Deployment"][0]
    assert deployment["spec"]["progressDeadlineSeconds"] > 1800


def test_standard_labels_present(helm_binary, tmp_path):
    labels = render(helm_binary, tmp_path)["Deployment"][0]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/instance"] == "rel"
    assert labels["app.kubernetes.io/name"] == "modelgate-vllm"
    assert labels["app.kubernetes.io/component"] == "model-server"
    assert labels["app.kubernetes.io/managed-by"] == "Helm"


def test_service_selects_only_server(helm_binary, tmp_path):
    manifests = render(helm_binary, tmp_path)
    selector = manifests["Service"][0]["spec"]["selector"]
    test_labels = manifests["Pod"][0]["metadata"]["labels"]
    assert not all(test_labels.get(key) == value for key, value in selector.items())


def test_volumes_cache_and_shm(helm_binary, tmp_path):
    spec = render(helm_binary, tmp_path)["Deployment"][0]["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    assert volumes["model-cache"]["emptyDir"] == {}
    assert volumes["shm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "2Gi"}


def test_pvc_cache_is_kept(helm_binary, tmp_path):
    manifests = render(helm_binary, tmp_path, {"modelCache": {"type": "pvc", "pvc": {"size": "200Gi"}}})
    claim = manifests["PersistentVolumeClaim"][0]
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claim["spec"]["resources"]["requests"]["storage"] == "200Gi"


def test_hf_token_comes_from_secret(helm_binary, tmp_path):
    manifests = render(helm_binary, tmp_path, {"hfToken": {"value": "hf_testtoken"}})
    env = {item["name"]: item for item in container(manifests)["env"]}
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "rel-hf-token", "key": "token"}
    assert "hf_testtoken" not in json.dumps(manifests["Deployment"])


def test_existing_secret_creates_none(helm_binary, tmp_path):
    manifests = render(helm_binary, tmp_path, {"hfToken": {"existingSecret": "shared-hf", "value": "ignored"}})
    assert "Secret" not in manifests


def test_scheduling_values_pass_through(helm_binary, tmp_path):
    values = {
        "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L4"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}},
    }
    spec = render(helm_binary, tmp_path, values)["Deployment"][0]["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == values["nodeSelector"]
    assert spec["tolerations"] == values["tolerations"]
    assert spec["affinity"] == values["affinity"]


def test_ingress_routes_to_service(helm_binary, tmp_path):
    manifests = render(helm_binary, tmp_path, {"ingress": {"enabled": True, "host": "models.example.com", "className": "nginx"}})
    rule = manifests["Ingress"][0]["spec"]["rules"][0]
    assert rule["host"] == "models.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "rel", "port": {"name": "http"}}


def test_helm_test_checks_models(helm_binary, tmp_path):
    pod = render(helm_binary, tmp_path, {"model": {"servedName": "mini"}})["Pod"][0]
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert "/v1/models" in pod["spec"]["containers"][0]["args"][0]
    assert pod["spec"]["containers"][0]["env"][0]["value"] == '"id":"mini"'


def test_dry_run_install_without_cluster(helm_binary, tmp_path):
    completed = helm(helm_binary, tmp_path, "install", "rel", str(CHART), "--namespace", "llm", "--dry-run=client")
    assert completed.returncode == 0, completed.stderr
    assert "Dry run complete" in completed.stdout or "pending-install" in completed.stdout


@pytest.mark.parametrize(
    ("values", "path"),
    [
        ({"replicaCount": 0}, "/replicaCount"),
        ({"probes": {"readiness": {"periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 3}}}, "/probes/readiness/timeoutSeconds"),
        ({"model": {"name": ""}}, "/model/name"),
        ({"model": {"runner": "embed"}}, "/model/runner"),
        ({"engine": {"gpuMemoryUtilization": 1.5}}, "/engine/gpuMemoryUtilization"),
        ({"engine": {"dtype": "int3"}}, "/engine/dtype"),
        ({"modelCache": {"type": "existingClaim"}}, "/modelCache"),
        ({"replicas": 2}, "replicas"),
    ],
)
def test_schema_rejects_bad_values(helm_binary, tmp_path, values, path):
    completed = rejection(helm_binary, tmp_path, values)
    assert completed.returncode != 0
    assert "values don't meet the specifications of the schema" in completed.stderr
    assert path in completed.stderr
