"""`modelgate probe URL`: which endpoints a server serves, and the model type."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from modelgate.cli.common import add_api_key, pick_model
from modelgate.probe import classify_model, probe_endpoints, results_as_dicts


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    probe = commands.add_parser("probe", help="probe which OpenAI-compatible endpoints a server serves")
    probe.add_argument("url", help="server base URL, with or without /v1")
    probe.add_argument("--model", help="served model id to probe (default: the first one /v1/models lists)")
    add_api_key(probe)
    probe.add_argument("--timeout", type=float, default=30.0, help="timeout of one probe request in seconds (default 30)")
    probe.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    """Probe the server and print the report."""

    async def probe() -> dict[str, Any]:
        model = await pick_model(args.url, args.model, args.api_key)
        results = await probe_endpoints(args.url, model, args.api_key, args.timeout)
        return {
            "model": model,
            "model_type": classify_model({path: result.supported for path, result in results.items()}),
            "endpoints": {path: result.supported for path, result in results.items()},
            "details": results_as_dicts(results),
        }

    report = asyncio.run(probe())
    if args.json:
        print(json.dumps(report))
        return 0

    print(f"model {report['model']}: {report['model_type']}")
    for path, details in report["details"].items():
        supported = "yes" if details["supported"] else "no"
        print(f"  {path:24} {supported:3}  status {details['status_code']}  {details['error'] or ''}")
    return 0
