"""`modelgate verify SUMMARY.json --targets FILE`: check a saved benchmark summary and exit 1 on a failed verdict."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modelgate.cli.common import EXIT_FAILED_VERDICT
from modelgate.errors import InvalidInputError
from modelgate.verify import MODEL_TYPES, LatencyTargets, Verdict, verify_latency


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register the subcommand."""
    verify = commands.add_parser(
        "verify", help="check a benchmark summary (the output of `modelgate bench --json`) against targets; exit 1 on a failed verdict"
    )
    verify.add_argument("summary", type=Path, help="benchmark summary JSON file")
    add_targets_options(verify, required=True)
    verify.add_argument("--model-type", choices=MODEL_TYPES, help="model type (default: the summary's model_type)")
    verify.add_argument("--requests", type=Path, help="per-request records (Parquet); a statistic missing from the summary is computed from them")
    verify.add_argument("--json", action="store_true", help="print the verdict as one JSON object")


def add_targets_options(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """Add --targets and --error-threshold, shared with `modelgate bench`."""
    parser.add_argument(
        "--targets",
        type=Path,
        required=required,
        help='targets file, JSON or YAML, such as {"target_e2e_latency_ms": {"value": 50, "statistic": "p99"}, "max_failure_rate": 0.01}',
    )
    parser.add_argument("--error-threshold", type=float, help="allowed relative excess over a target (default: the targets file's, else 0.5)")


def run(args: argparse.Namespace) -> int:
    """Check the summary; exit 0 on a pass and 1 on a failed verdict."""
    summary = read_json_object(args.summary, "summary")
    model_type = args.model_type or summary.get("model_type")
    if model_type not in MODEL_TYPES:
        raise InvalidInputError(
            f"summary {args.summary} has model_type={model_type!r}; pass --model-type with one of {', '.join(MODEL_TYPES)}"
        )

    requests = None
    if args.requests is not None:
        from modelgate.report.records import read_records

        requests = read_records(str(args.requests))

    verdict = verify_latency(summary, read_targets(args.targets), model_type, args.error_threshold, requests)
    print(json.dumps(verdict.as_dict()) if args.json else format_verdict(verdict))
    return 0 if verdict.passed else EXIT_FAILED_VERDICT


def read_targets(path: Path) -> LatencyTargets:
    """Read a targets file (JSON, or YAML by its .yaml/.yml suffix) and validate it.

    Raises:
        InvalidInputError: the file is missing, unreadable, or has an unknown field or a bad value.
    """
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(_read_text(path, "targets"))
        except yaml.YAMLError as error:
            raise InvalidInputError(f"targets file {path} is not valid YAML: {error}") from error
    else:
        data = read_json_object(path, "targets")
    if not isinstance(data, dict):
        raise InvalidInputError(f"targets file {path} must hold one object of targets, not {type(data).__name__}")

    try:
        return LatencyTargets.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors())
        raise InvalidInputError(f"targets file {path} is invalid: {problems}") from error


def read_json_object(path: Path, kind: str) -> dict[str, Any]:
    """Read a JSON file that contains one object."""
    try:
        data = json.loads(_read_text(path, kind))
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"{kind} file {path} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise InvalidInputError(f"{kind} file {path} must hold one JSON object, not {type(data).__name__}")
    return data


def format_verdict(verdict: Verdict) -> str:
    """Return the verdict as one line per check and a last line with the outcome."""
    lines = [f"{check.status:14} {check.reason}" for check in verdict.checks]
    failed = len(verdict.failed_checks)
    lines.append(f"verdict: {'pass' if verdict.passed else f'fail ({failed} of {len(verdict.checks)} checks failed)'}")
    return "\n".join(lines)


def _read_text(path: Path, kind: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(f"{kind} file {path} cannot be read: {error.strerror}") from error
