"""`modelgate register MODEL`: emit the `model.registered` event that starts deploy-model.

Prefect is imported only here and in the other subcommands that talk to Prefect.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from typing import Any

from modelgate.errors import InvalidInputError, ModelgateError
from modelgate.events import MODEL_REGISTERED, ModelRegistered, model_registered

# Flags that set one field of the `targets` or `load` payload object: (flag, payload key, field, type).
TARGET_FLAGS = (
    ("--target-e2e-latency-ms", "target_e2e_latency_ms", float, "mean end-to-end latency target in ms"),
    ("--target-ttft-ms", "target_ttft_ms", float, "mean time to first token target in ms (LLMs)"),
    ("--target-tpot-ms", "target_tpot_ms", float, "mean time per output token target in ms (LLMs)"),
    ("--target-throughput-per-user", "target_throughput_per_user", float, "minimum output tokens per second per request (LLMs)"),
)
LOAD_FLAGS = (
    ("--concurrency", "concurrency", int, "benchmark requests in flight at once"),
    ("--num-requests", "num_requests", int, "measured benchmark requests"),
    ("--batch-size", "batch_size", int, "inputs per embeddings request"),
    ("--input-tokens", "input_tokens", int, "approximate tokens per input"),
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    register = commands.add_parser(
        "register",
        help=f"emit {MODEL_REGISTERED} so the deploy-model trigger starts a run",
        description=(
            f"Emit the {MODEL_REGISTERED} event to the Prefect server at PREFECT_API_URL. The deploy-model "
            "deployment's trigger starts a run with the model and payload as parameters. The payload is "
            "checked against the deploy-model parameters first."
        ),
    )
    register.add_argument("model", help="model folder, packaged model name or hub id, as the deploy-model `model` parameter")
    register.add_argument("--served-model-name", help="name clients use (default: the model's name)")
    register.add_argument("--runtime", default="local", help="where the model server runs (default local)")
    register.add_argument("--targets", type=_json_object, default={}, help="latency targets as one JSON object; the flags below override its fields")
    register.add_argument("--load", type=_json_object, default={}, help="benchmark load as one JSON object; the flags below override its fields")
    for flag, field, kind, text in TARGET_FLAGS + LOAD_FLAGS:
        register.add_argument(flag, dest=field, type=kind, help=text)
    register.add_argument(
        "--request",
        type=_json_object,
        help="the original system's request fields as one JSON object, such as "
        "'{\"endpoint_name\": \"bge\", \"concurrency\": 100, \"target_e2e_latency\": 50}'",
    )
    register.add_argument("--dry-run", action="store_true", help="check and print the event without emitting it")


def run(args: argparse.Namespace) -> int:
    """Build the event, check it against deploy-model's parameters, emit it and print its id."""
    event = model_registered(
        args.model,
        served_model_name=args.served_model_name,
        runtime=args.runtime,
        targets=_with_flags(args.targets, args, TARGET_FLAGS),
        load=_with_flags(args.load, args, LOAD_FLAGS),
        request=args.request,
    )
    if args.request and args.request.get("model") not in (None, args.model):
        raise InvalidInputError(
            f"the request's model {args.request['model']!r} differs from MODEL {args.model!r}; the event's resource "
            "names the model, so pass the same value or leave model out of the request"
        )
    check_fits_deploy_model(event)

    if args.dry_run:
        print(json.dumps({"event": MODEL_REGISTERED, "resource": event.resource(), "payload": event.payload()}, indent=2))
        return 0

    event_id = asyncio.run(emit(event))
    print(f"emitted {MODEL_REGISTERED} for {event.resource()['prefect.resource.id']} with id {event_id}")
    return 0


def check_fits_deploy_model(event: ModelRegistered) -> None:
    """Check the parameters the trigger will render, the way the server and the flow check them.

    The server validates run parameters against the deployment's JSON schema, and the flow
    validates them again with pydantic. A payload that fails either check would make the
    automation fail later, where the sender does not see it.

    Raises:
        InvalidInputError: listing each parameter that does not fit.
    """
    from jsonschema.exceptions import best_match
    from prefect.exceptions import ParameterTypeError
    from prefect.utilities.callables import parameter_schema
    from prefect.utilities.schema_tools import validate

    from flows.deploy_model import deploy_model

    parameters = event.flow_parameters()
    errors = validate(parameters, parameter_schema(deploy_model).model_dump_for_openapi())
    if errors:
        # best_match picks the branch of an anyOf (such as `request` or null) that explains the error.
        reported = [best_match([error]) for error in errors]
        problems = "\n".join(f" - {error.json_path.removeprefix('$.')}: {error.message}" for error in reported)
        raise InvalidInputError(f"{MODEL_REGISTERED} payload does not fit the deploy-model parameters:\n{problems}")

    # Prefect also logs this validation error at ERROR level, which would repeat the message below.
    flows_logger = logging.getLogger("prefect.flows")
    level = flows_logger.level
    flows_logger.setLevel(logging.CRITICAL)
    try:
        deploy_model.validate_parameters(parameters)
    except ParameterTypeError as error:
        raise InvalidInputError(f"{MODEL_REGISTERED} payload does not fit the deploy-model parameters: {error}") from None
    finally:
        flows_logger.setLevel(level)


async def emit(event: ModelRegistered) -> str:
    """Send the event over Prefect's events websocket and return its id."""
    from prefect.events import Event
    from prefect.events.clients import get_events_client
    from prefect.settings import PREFECT_API_URL

    # Without an API URL Prefect would start a temporary server that no trigger watches.
    if not PREFECT_API_URL.value():
        raise ModelgateError(
            "PREFECT_API_URL is not set; set it to the API of the Prefect server that runs the deploy-model "
            "trigger, such as http://127.0.0.1:4200/api"
        )

    prefect_event = Event(event=MODEL_REGISTERED, resource=event.resource(), payload=event.payload())
    try:
        async with get_events_client(reconnection_attempts=2) as client:
            await client.emit(prefect_event)
    except OSError as error:
        raise ModelgateError(f"could not send {MODEL_REGISTERED} to the Prefect server: {error}; check PREFECT_API_URL") from error
    return str(prefect_event.id)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"invalid JSON ({error}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object such as '{{\"concurrency\": 4}}', not {text!r}")
    return value


def _with_flags(base: dict[str, Any], args: argparse.Namespace, flags: tuple) -> dict[str, Any]:
    merged = dict(base)
    for _flag, field, _kind, _text in flags:
        value = getattr(args, field)
        if value is not None:
            merged[field] = value
    return merged
