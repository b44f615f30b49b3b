"""`modelgate probe URL`: which endpoints a server serves, and the model type."""

from __future__ import annotations

import argparse
import asyncio
import json

from modelgate.cli.common import add_api_key
from modelgate.probe import ProbeReport, probe_server
from modelgate.settings import get_settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    settings = get_settings()
    probe = commands.add_parser(
        "probe",
        help="probe which OpenAI-compatible endpoints a server serves and decide the model type",
        description=(
            "Read the served model from GET /v1/models, POST a minimal request to every known endpoint "
            "and decide the model type. Exits 0 when the server responded, 2 when it is unreachable, "
            "rejects the credentials or lists no model."
        ),
    )
    probe.add_argument("url", help="server base URL, with or without /v1 (such as http://127.0.0.1:8000)")
    probe.add_argument("--model", help="served model name to probe (default: the only model /v1/models lists)")
    add_api_key(probe)
    probe.add_argument(
        "--timeout",
        type=float,
        default=settings.probe_timeout_s,
        help=f"timeout of one request in seconds (default {settings.probe_timeout_s:g}, MODELGATE_PROBE_TIMEOUT_S)",
    )
    probe.add_argument(
        "--deadline",
        type=float,
        default=settings.probe_deadline_s,
        help=(
            "seconds the whole probe may take while it retries 429, 502, 503, 504, timeouts and "
            f"connection errors (default {settings.probe_deadline_s:g}, MODELGATE_PROBE_DEADLINE_S)"
        ),
    )
    probe.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    """Probe the server and print the report; engine errors reach the caller as ModelgateError."""
    settings = get_settings()
    report = asyncio.run(
        probe_server(
            args.url,
            model=args.model,
            api_key=args.api_key,
            timeout_s=args.timeout,
            deadline_s=args.deadline,
            max_attempts=settings.probe_max_attempts,
        )
    )

    if args.json:
        print(json.dumps(report.as_dict()))
        return 0

    print(render_table(report))
    return 0


def render_table(report: ProbeReport) -> str:
    """Return the human-readable report: model, type, capabilities and one line per endpoint."""
    capabilities = ", ".join(report.capabilities) or "none"
    lines = [
        f"model {report.model}: {report.model_type} ({report.classification.reason})",
        f"capabilities: {capabilities}",
    ]
    for path, result in report.endpoints.items():
        supported = "yes" if result.supported else "no"
        status = result.status_code if result.status_code is not None else "-"
        lines.append(f"  {path:22} {supported:3}  HTTP {status}  {result.latency_ms or 0:8.1f} ms  {result.error or ''}".rstrip())
    return "\n".join(lines)
