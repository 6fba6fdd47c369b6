"""The `rotation-testkit` command line. ``main(argv)`` returns the exit code, so it is testable."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rotation-testkit",
        description="Test AWS Secrets Manager rotation functions without AWS.",
    )
    parser.add_argument("--version", action="version", version=f"rotation-testkit {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    return EXIT_OK  # pragma: no cover - every command returns above


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
