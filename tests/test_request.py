"""The original system's request fields, as deploy-model's `request` parameter."""

import pytest
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools import validate
from prefect.utilities.schema_tools.validation import ValidationError as SchemaValidationError
from pydantic import ValidationError

from flows.deploy_model import deploy_model
from flows.kube_release import KubernetesTarget
from flows.params import BenchmarkLoad
from flows.request import DeployRequest, apply_request
from modelgate.errors import InvalidInputError
from modelgate.verify import LatencyTargets

ORIGINAL = {
    "cluster_id": "gpu-cluster",
    "endpoint_name": "bge-embeddings",
    "model": "BAAI/bge-base-en-v1.5",
    "concurrency": 100,
    "target_e2e_latency": 50,
}


def resolve(request: dict, **parameters):
    """Apply `request` to deploy-model's default parameters, overridden by `parameters`."""
    defaults = {
        "model": "all-MiniLM-L6-v2",
        "served_model_name": None,
        "runtime": "local",
        "load": BenchmarkLoad(),
        "targets": LatencyTargets(),
        "error_threshold": None,
        "kubernetes": KubernetesTarget(),
    }
    return apply_request(DeployRequest.model_validate(request), **{**defaults, **parameters})


def target_value(targets: LatencyTargets, field: str) -> float:
    """Return the value of one target, which LatencyTargets stores as a MetricTarget."""
    return targets.target(field).value


def test_original_request_maps():
    resolved = resolve(ORIGINAL)

    assert resolved.model == "BAAI/bge-base-en-v1.5"
    assert resolved.served_model_name == "bge-embeddings"
    assert resolved.load.concurrency == 100
    assert target_value(resolved.targets, "target_e2e_latency_ms") == 50


def test_cluster_id_selects_kubernetes():
    resolved = resolve(ORIGINAL)

    assert resolved.runtime == "kubernetes"
    assert resolved.kubernetes.cluster_block == "gpu-cluster"


def test_endpoint_name_names_release():
    assert resolve(ORIGINAL).kubernetes.release == "bge-embeddings"


def test_explicit_release_kept():
    resolved = resolve(ORIGINAL, kubernetes=KubernetesTarget(release="bge-v2"))

    assert resolved.kubernetes.release == "bge-v2"


def test_local_runtime_without_cluster():
    resolved = resolve({"endpoint_name": "bge"})

    assert resolved.runtime == "local"
    assert resolved.kubernetes.release == ""


def test_modelgate_spellings_accepted():
    resolved = resolve({"served_model_name": "bge", "target_e2e_latency_ms": 40, "target_ttft_ms": 200})

    assert resolved.served_model_name == "bge"
    assert target_value(resolved.targets, "target_e2e_latency_ms") == 40
    assert target_value(resolved.targets, "target_ttft_ms") == 200


def test_same_value_both_spellings():
    resolved = resolve({"target_e2e_latency": 50, "target_e2e_latency_ms": 50})

    assert target_value(resolved.targets, "target_e2e_latency_ms") == 50


def test_conflicting_spellings_rejected():
    with pytest.raises(ValidationError, match="endpoint_name='a' and served_model_name='b'"):
        DeployRequest.model_validate({"endpoint_name": "a", "served_model_name": "b"})


def test_unknown_field_named():
    with pytest.raises(ValidationError, match="simulator_id"):
        DeployRequest.model_validate({**ORIGINAL, "simulator_id": "abc"})


def test_other_load_fields_kept():
    resolved = resolve({"concurrency": 4}, load=BenchmarkLoad(num_requests=50, batch_size=8))

    assert resolved.load.num_requests == 50
    assert resolved.load.batch_size == 8


def test_error_threshold_applied():
    assert resolve({"error_threshold": 0.1}).error_threshold == 0.1


def test_throughput_target_applied():
    assert target_value(resolve({"target_throughput_per_user": 20}).targets, "target_throughput_per_user") == 20


def test_targets_block_kept():
    assert resolve({"concurrency": 4}, targets="slo-gold").targets == "slo-gold"


def test_request_targets_clash_with_block():
    with pytest.raises(InvalidInputError, match="sets target_e2e_latency_ms while targets names the saved block 'slo-gold'"):
        resolve({"target_e2e_latency": 50}, targets="slo-gold")


def test_no_request_keeps_parameters():
    resolved = apply_request(None, "m", "s", "local", BenchmarkLoad(), LatencyTargets(), 0.5, KubernetesTarget())

    assert (resolved.model, resolved.served_model_name, resolved.runtime) == ("m", "s", "local")


def test_out_of_range_load_named():
    with pytest.raises(InvalidInputError, match="concurrency: Input should be less than or equal to 4096"):
        resolve({"concurrency": 5000})


def test_schema_accepts_both_spellings():
    schema = parameter_schema(deploy_model).model_dump_for_openapi()
    parameters = {"request": {"endpoint_name": "a", "served_model_name": "a", "target_ttft": 1, "target_ttft_ms": 1}}

    assert validate(parameters, schema) == []


def test_schema_names_unknown_field():
    # The server checks run parameters this way and rejects them with HTTP 409 and this message.
    schema = parameter_schema(deploy_model).model_dump_for_openapi()

    with pytest.raises(SchemaValidationError, match=r"field 'request'. Failure reason: .*\('hf_token' was unexpected\)"):
        validate({"request": {**ORIGINAL, "hf_token": "x"}}, schema, raise_on_error=True, ignore_required=True)


def test_output_tokens_sets_load():
    resolved = resolve({**ORIGINAL, "output_tokens": 64})
    assert resolved.load.output_tokens == 64


def test_input_tokens_sets_load():
    resolved = resolve({**ORIGINAL, "input_tokens": 256})
    assert resolved.load.input_tokens == 256
