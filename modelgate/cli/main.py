"""Entry point of the `modelgate` console script."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

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
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return importlib.import_module(f"modelgate.cli.{args.command}").run(args)
    except ModelgateError as error:
        print(f"modelgate {args.command}: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
