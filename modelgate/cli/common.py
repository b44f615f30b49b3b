"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import os

from modelgate.endpoints import ServerAddress, make_client
from modelgate.errors import ModelgateError
from modelgate.health import list_models

EXIT_FAILED_VERDICT = 1
EXIT_ERROR = 2


def add_api_key(parser: argparse.ArgumentParser) -> None:
    """Add --api-key; the value may also come from MODELGATE_API_KEY so it stays out of shell history."""
    parser.add_argument("--api-key", default=os.environ.get("MODELGATE_API_KEY"), help="bearer token (default: $MODELGATE_API_KEY)")


async def pick_model(url: str, model: str | None, api_key: str | None) -> str:
    """Return `model` when the server lists it, else the first model listed; fail when it lists none."""
    async with make_client(api_key, timeout_s=30.0) as client:
        models = await list_models(client, ServerAddress.parse(url))
    if model is not None:
        if model not in models:
            raise ModelgateError(f"model {model!r} is not served by {url}; it serves {', '.join(models)}; pass one of these as --model")
        return model
    if not models:
        raise ModelgateError(f"{url} lists no model at /v1/models")
    return models[0]
