import pytest

from modelgate.errors import InvalidInputError
from modelgate.events import MAX_EVENT_BYTES, PAYLOAD_KEYS, model_registered, parse_model_registered

RESOURCE = {"prefect.resource.id": "model.BAAI/bge-base-en-v1.5", "prefect.resource.name": "BAAI/bge-base-en-v1.5"}
PAYLOAD = {
    "served_model_name": "bge",
    "runtime": "local",
    "targets": {"target_e2e_latency_ms": 50},
    "load": {"concurrency": 100},
    "request": None,
}


def test_resource_id_prefixed():
    assert model_registered("BAAI/bge-base-en-v1.5").resource() == RESOURCE


def test_payload_has_every_key():
    assert tuple(model_registered("m").payload()) == PAYLOAD_KEYS


def test_flow_parameters_add_model():
    event = parse_model_registered(RESOURCE, PAYLOAD)

    assert event.flow_parameters() == {"model": "BAAI/bge-base-en-v1.5", **PAYLOAD}


@pytest.mark.parametrize("key", PAYLOAD_KEYS)
def test_missing_key_named(key):
    payload = {name: value for name, value in PAYLOAD.items() if name != key}

    with pytest.raises(InvalidInputError, match=f"missing {key}"):
        parse_model_registered(RESOURCE, payload)


def test_unknown_key_named():
    with pytest.raises(InvalidInputError, match="unknown keys cluster_size"):
        parse_model_registered(RESOURCE, {**PAYLOAD, "cluster_size": 3})


def test_payload_must_be_object():
    with pytest.raises(InvalidInputError, match="JSON object, not list"):
        parse_model_registered(RESOURCE, [PAYLOAD])


@pytest.mark.parametrize("key", ["targets", "load"])
def test_object_keys_checked(key):
    with pytest.raises(InvalidInputError, match=f"{key} must be a JSON object"):
        parse_model_registered(RESOURCE, {**PAYLOAD, key: 50})


def test_blank_served_name_rejected():
    with pytest.raises(InvalidInputError, match="served_model_name"):
        parse_model_registered(RESOURCE, {**PAYLOAD, "served_model_name": " "})


def test_runtime_must_be_string():
    with pytest.raises(InvalidInputError, match="runtime must be a string"):
        parse_model_registered(RESOURCE, {**PAYLOAD, "runtime": None})


def test_resource_prefix_required():
    with pytest.raises(InvalidInputError, match="must start with 'model.'"):
        parse_model_registered({**RESOURCE, "prefect.resource.id": "bge"}, PAYLOAD)


def test_resource_name_required():
    with pytest.raises(InvalidInputError, match="prefect.resource.name"):
        parse_model_registered({"prefect.resource.id": "model.bge"}, PAYLOAD)


def test_resource_id_matches_name():
    with pytest.raises(InvalidInputError, match="does not match its name"):
        parse_model_registered({**RESOURCE, "prefect.resource.id": "model.other"}, PAYLOAD)


def test_empty_model_rejected():
    with pytest.raises(InvalidInputError, match="model reference"):
        model_registered("")


def test_oversized_event_rejected():
    with pytest.raises(InvalidInputError, match=f"at most {MAX_EVENT_BYTES}"):
        model_registered("m", load={"prompt": "x" * MAX_EVENT_BYTES})


def test_non_json_value_rejected():
    with pytest.raises(InvalidInputError, match="not JSON-serialisable"):
        model_registered("m", targets={"target_e2e_latency_ms": {1, 2}})


def test_request_object_kept():
    request = {"endpoint_name": "bge-embeddings", "concurrency": 100}

    assert parse_model_registered(RESOURCE, {**PAYLOAD, "request": request}).payload()["request"] == request


def test_request_must_be_object():
    with pytest.raises(InvalidInputError, match="request must be a JSON object"):
        parse_model_registered(RESOURCE, {**PAYLOAD, "request": "bge"})
