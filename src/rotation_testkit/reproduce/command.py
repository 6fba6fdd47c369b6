"""``rotation-testkit reproduce``: read the options, reproduce, print, exit 0/1/2."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from ..execution.loader import TargetError
from .api import reproduce
from .report import as_json, as_text
from .reproduction import EXIT_UNUSABLE
from .values import ReproduceError, parse_value_options

__all__ = ["run_reproduce_command"]


def _env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ReproduceError(f"--env expects KEY=VALUE, got {key!r} without '='.")
        env[key] = value
    return env


def _split(args: argparse.Namespace) -> tuple[str, list[str], str | None]:
    """STATE, the EVIDENCE files and TARGET from the positional arguments."""
    files = list(args.files)
    target = None
    last = files[-1]
    if args.function_command is None and ":" in last and not os.path.exists(last):
        target = files.pop()
    if not files:
        raise ReproduceError(
            "STATE is required: the saved describe-secret output, before the evidence files "
            "and TARGET."
        )
    return files[0], files[1:], target


def _unusable(message: str, err: TextIO) -> int:
    print(f"rotation-testkit reproduce: {' '.join(message.split())}", file=err)
    return EXIT_UNUSABLE


def run_reproduce_command(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        state, evidence, target = _split(args)
        result = reproduce(
            state,
            *evidence,
            handler=target,
            command=args.function_command,
            cwd=args.cwd,
            values=parse_value_options(args.value),
            setup=args.setup,
            probe=args.probe,
            env=_env(args.env),
            timeout=args.timeout,
            now=args.now,
            write_test=args.write_test,
        )
    except (ReproduceError, TargetError) as error:
        return _unusable(str(error), err)
    except Exception as error:  # a harness error: one line, as every other refusal
        return _unusable(f"harness error: {type(error).__name__}: {error}", err)
    out.write(as_json(result) if args.format == "json" else as_text(result))
    return result.exit_code
