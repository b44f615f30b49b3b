"""The `model.registered` event contract: its name, resource and payload.

A model registry (or `modelgate register`) emits this event to Prefect. The `deploy-model`
deployment's trigger in prefect.yaml matches it and renders the flow parameters from it:
`model` from the resource name and one parameter per payload key. The trigger renders each
`{{ event.payload.<key> }}` with `| tojson`, so a missing key fails the automation action and
a JSON value keeps its type. That is why every payload key is mandatory here, with `null` or
`{}` where nothing is set.

This module checks the shape of the event only. Whether `targets`, `load` and `runtime` hold
values the flow accepts is checked against the flow's own parameters by `modelgate register`,
because the engine does not import the flows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelgate.errors import InvalidInputError

MODEL_REGISTERED = "model.registered"
RESOURCE_ID_PREFIX = "model."
PAYLOAD_KEYS = ("served_model_name", "runtime", "targets", "load", "request")

# Prefect's server rejects larger events (PREFECT_SERVER_EVENTS_MAXIMUM_SIZE_BYTES, 1.5 MB in 3.9).
MAX_EVENT_BYTES = 1_500_000


@dataclass(frozen=True)
class ModelRegistered:
    """One `model.registered` event: the model reference plus the payload keys."""

    model: str
    served_model_name: str | None = None
    runtime: str = "local"
    targets: dict[str, Any] = field(default_factory=dict)
    load: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] | None = None

    def resource(self) -> dict[str, str]:
        """Return the Prefect resource: the id the trigger matches and the name it reads."""
        return {"prefect.resource.id": f"{RESOURCE_ID_PREFIX}{self.model}", "prefect.resource.name": self.model}

    def payload(self) -> dict[str, Any]:
        """Return the payload with every contract key present."""
        return {
            "served_model_name": self.served_model_name,
            "runtime": self.runtime,
            "targets": dict(self.targets),
            "load": dict(self.load),
            "request": None if self.request is None else dict(self.request),
        }

    def flow_parameters(self) -> dict[str, Any]:
        """Return the `deploy-model` parameters the trigger renders from this event."""
        return {"model": self.model, **self.payload()}


def model_registered(
    model: str,
    served_model_name: str | None = None,
    runtime: str = "local",
    targets: Mapping[str, Any] | None = None,
    load: Mapping[str, Any] | None = None,
    request: Mapping[str, Any] | None = None,
) -> ModelRegistered:
    """Build an event and check its shape.

    Raises:
        InvalidInputError: the model is empty, a value has the wrong JSON type, or the event
            is larger than the Prefect server accepts.
    """
    return parse_model_registered(
        {"prefect.resource.id": f"{RESOURCE_ID_PREFIX}{model}", "prefect.resource.name": model},
        {
            "served_model_name": served_model_name,
            "runtime": runtime,
            "targets": dict(targets or {}),
            "load": dict(load or {}),
            "request": None if request is None else dict(request),
        },
    )


def parse_model_registered(resource: Mapping[str, Any], payload: Any) -> ModelRegistered:
    """Check a received or hand-written event against the contract and return it.

    Args:
        resource: the event's resource labels.
        payload: the event's payload, a JSON object with exactly the keys in PAYLOAD_KEYS.

    Raises:
        InvalidInputError: naming the key that is missing, unknown or of the wrong type.
    """
    model = _model_from_resource(resource)
    if not isinstance(payload, Mapping):
        raise InvalidInputError(f"{MODEL_REGISTERED} payload must be a JSON object, not {type(payload).__name__}")

    missing = [key for key in PAYLOAD_KEYS if key not in payload]
    if missing:
        raise InvalidInputError(
            f"{MODEL_REGISTERED} payload is missing {', '.join(missing)}; every key of "
            f"{', '.join(PAYLOAD_KEYS)} is required (use null or {{}} where nothing is set)"
        )
    unknown = sorted(set(payload) - set(PAYLOAD_KEYS))
    if unknown:
        raise InvalidInputError(
            f"{MODEL_REGISTERED} payload has unknown keys {', '.join(unknown)}; the keys are {', '.join(PAYLOAD_KEYS)}"
        )

    served_model_name = payload["served_model_name"]
    if served_model_name is not None and (not isinstance(served_model_name, str) or not served_model_name.strip()):
        raise InvalidInputError(f"served_model_name must be a non-empty string or null, not {served_model_name!r}")
    if not isinstance(payload["runtime"], str):
        raise InvalidInputError(f"runtime must be a string such as 'local', not {payload['runtime']!r}")
    for key in ("targets", "load"):
        if not isinstance(payload[key], Mapping):
            raise InvalidInputError(f"{key} must be a JSON object (use {{}} for the defaults), not {payload[key]!r}")
    if payload["request"] is not None and not isinstance(payload["request"], Mapping):
        raise InvalidInputError(f"request must be a JSON object with the original request fields, or null, not {payload['request']!r}")

    event = ModelRegistered(
        model=model,
        served_model_name=served_model_name,
        runtime=payload["runtime"],
        targets=dict(payload["targets"]),
        load=dict(payload["load"]),
        request=None if payload["request"] is None else dict(payload["request"]),
    )
    _check_size(event)
    return event


def _model_from_resource(resource: Mapping[str, Any]) -> str:
    resource_id = resource.get("prefect.resource.id")
    if not isinstance(resource_id, str) or not resource_id.startswith(RESOURCE_ID_PREFIX):
        raise InvalidInputError(
            f"{MODEL_REGISTERED} resource id must start with {RESOURCE_ID_PREFIX!r}, not {resource_id!r}"
        )

    model = resource.get("prefect.resource.name")
    if not isinstance(model, str) or not model.strip():
        raise InvalidInputError(
            f"{MODEL_REGISTERED} resource needs prefect.resource.name set to the model reference "
            "(a model folder, a packaged model name or a hub id)"
        )
    if resource_id != f"{RESOURCE_ID_PREFIX}{model}":
        raise InvalidInputError(
            f"{MODEL_REGISTERED} resource id {resource_id!r} does not match its name {model!r}; "
            f"the id must be {RESOURCE_ID_PREFIX!r} followed by the name"
        )
    return model


def _check_size(event: ModelRegistered) -> None:
    try:
        size = len(json.dumps({"resource": event.resource(), "payload": event.payload()}).encode())
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{MODEL_REGISTERED} payload is not JSON-serialisable: {error}") from error
    if size > MAX_EVENT_BYTES:
        raise InvalidInputError(
            f"{MODEL_REGISTERED} event is {size} bytes; the Prefect server accepts at most {MAX_EVENT_BYTES}"
        )
