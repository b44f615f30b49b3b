"""Entry point of the `modelgate` console script."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from pydantic import ValidationError

from modelgate.cli.common import EXIT_ERROR
from modelgate.errors import ModelgateError

# Subcommand name -> module in modelgate.cli with `add_parser(commands)` and `run(args) -> int`.
SUBCOMMANDS = ("probe", "bench", "deploy", "verify", "register")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="modelgate", description="Deploy, probe, benchmark and verify model servers.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine steps to stderr")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"modelgate.cli.{name}").add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; an engine error prints one line on stderr and exits 2."""
    try:
        args = build_parser().parse_args(argv)
    except ValidationError as error:
        print(f"modelgate: invalid setting: {describe_validation_error(error)}", file=sys.stderr)
        return EXIT_ERROR
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return importlib.import_module(f"modelgate.cli.{args.command}").run(args)
    except ModelgateError as error:
        print(f"modelgate {args.command}: {error}", file=sys.stderr)
        return EXIT_ERROR
    except ValidationError as error:
        # Option values checked by the parameter models (BenchmarkLoad, LatencyTargets, settings).
        print(f"modelgate {args.command}: invalid input: {describe_validation_error(error)}", file=sys.stderr)
        return EXIT_ERROR


def describe_validation_error(error: ValidationError) -> str:
    """Return one line per invalid field: its name, the value given and what is wrong with it."""
    problems: dict[str, str] = {}
    for item in error.errors():
        # Union members (a class name, or pydantic's constrained-float) are not names a user typed.
        parts = [str(part) for part in item["loc"] if not str(part)[:1].isupper() and not str(part).startswith(("constrained-", "function-"))]
        field = ".".join(parts) or error.title
        if error.title == "ModelgateSettings":
            field = f"MODELGATE_{field.upper()}"
        problems[field] = f"{field}={item.get('input')!r}: {item['msg']}"
    return "; ".join(problems.values())


if __name__ == "__main__":
    sys.exit(main())
