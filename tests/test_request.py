"""The original system's request fields, as deploy-model's `request` parameter."""

import pytest
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools import validate
from prefect.utilities.schema_tools.validation import ValidationError as SchemaValidationError
from pydantic import ValidationError

from flows.deploy_model import deploy_model
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
    defaults = {"model": "all-MiniLM-L6-v2", "served_model_name": None, "load": BenchmarkLoad(), "targets": LatencyTargets(), "error_threshold": 0.5}
    return apply_request(DeployRequest.model_validate(request), **{**defaults, **parameters})


def test_original_request_maps():
    resolved = resolve(ORIGINAL)

    assert resolved.model == "BAAI/bge-base-en-v1.5"
    assert resolved.served_model_name == "bge-embeddings"
    assert resolved.load.concurrency == 100
    assert resolved.targets.target_e2e_latency_ms == 50
    assert resolved.cluster_id == "gpu-cluster"


def test_modelgate_spellings_accepted():
    resolved = resolve({"served_model_name": "bge", "target_e2e_latency_ms": 40, "target_ttft_ms": 200})

    assert resolved.served_model_name == "bge"
    assert resolved.targets.target_e2e_latency_ms == 40
    assert resolved.targets.target_ttft_ms == 200


def test_same_value_both_spellings():
    resolved = resolve({"target_e2e_latency": 50, "target_e2e_latency_ms": 50})

    assert resolved.targets.target_e2e_latency_ms == 50


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
    assert resolve({"target_throughput_per_user": 20}).targets.target_throughput_per_user == 20


def test_no_request_keeps_parameters():
    resolved = apply_request(None, "m", "s", BenchmarkLoad(), LatencyTargets(), 0.5)

    assert (resolved.model, resolved.served_model_name, resolved.cluster_id) == ("m", "s", None)


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
