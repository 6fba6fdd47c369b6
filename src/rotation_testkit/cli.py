"""The `rotation-testkit` command line. ``main(argv)`` returns the exit code, so it is testable."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    # argparse exits with 2 on a usage error, which is our contract too; keep its message.
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rotation-testkit",
        description="Test AWS Secrets Manager rotation functions without AWS.",
    )
    parser.add_argument("--version", action="version", version=f"rotation-testkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="run the contract checks against a rotation function",
        description="Run every contract check against a rotation function, each in a fresh "
        "in-memory world. Exit 0 when all pass, 1 when any fails, 2 for a usage or import error.",
    )
    check.add_argument(
        "target", metavar="TARGET", nargs="?", help="module:function or path/to/file.py:function"
    )
    check.add_argument(
        "--command",
        dest="function_command",
        metavar="CMD",
        help="instead of TARGET: the command that starts the function's Lambda runtime interface "
        'client, in any language (e.g. "npx aws-lambda-ric index.handler")',
    )
    check.add_argument(
        "--cwd",
        metavar="DIR",
        help="with --command: the function's directory (LAMBDA_TASK_ROOT; default: here)",
    )
    check.add_argument(
        "--secret",
        metavar="JSON",
        help="the initial secret as JSON: an object, or a JSON string for a plain secret "
        '(default: {"username": "app", "password": "<random>"})',
    )
    check.add_argument(
        "--secret-name",
        metavar="NAME",
        default="contract/secret",
        help="the rotated secret's name (default: contract/secret)",
    )
    check.add_argument(
        "--extra-secret",
        metavar="NAME=JSON",
        action="append",
        default=[],
        help="another secret created before every check, e.g. a multi-user rotator's master "
        "secret (repeatable); in any secret's JSON, {arn:NAME} becomes the ARN of secret NAME",
    )
    check.add_argument(
        "--setup",
        metavar="MODULE:ATTR",
        help="called with the initial secret before every check; may return the initial secret "
        "to use instead (a dict or a str)",
    )
    check.add_argument(
        "--probe",
        metavar="MODULE:ATTR",
        help="called with a secret value; truthy when the protected service accepts it",
    )
    check.add_argument(
        "--strategy",
        choices=("single-user", "alternating-users"),
        default="single-user",
        help="how the rotator changes credentials: the same user's password (default), or the "
        "other of two users, so AWSCURRENT must keep working at every step",
    )
    check.add_argument(
        "--env",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="environment of the function (repeatable)",
    )
    check.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="the function's timeout (default 30)",
    )
    check.add_argument("--junit-xml", metavar="PATH", help="also write the results as JUnit XML")
    check.add_argument(
        "--only",
        metavar="CHECK",
        action="append",
        default=[],
        help="run only this check (repeatable)",
    )
    check.add_argument(
        "--package-module",
        metavar="NAME",
        action="append",
        default=[],
        help="one more module of the function's deployment package, imported afresh at each "
        "cold start (repeatable); the handler's top-level package or folder always is",
    )
    check.add_argument(
        "--disable-invariant",
        metavar="NAME",
        action="append",
        default=[],
        help="do not check this invariant (repeatable), e.g. no-secret-in-logs",
    )
    check.add_argument("--list", action="store_true", help="list the checks and exit")

    check.set_defaults(usage=check.format_usage)

    serve = commands.add_parser(
        "serve",
        help="run the in-memory world as an HTTP endpoint on loopback",
        description="Serve the in-memory Secrets Manager (and moto's other services) on "
        "127.0.0.1, for tests written in any language. Prints the endpoint; Ctrl-C stops it.",
    )
    serve.add_argument(
        "--port", type=int, default=0, help="the port to listen on (default: a free one)"
    )
    serve.add_argument(
        "--command",
        dest="function_command",
        metavar="CMD",
        help="also register a rotation function run from this command (its ARN is printed)",
    )
    serve.add_argument("--cwd", metavar="DIR", help="with --command: the function's directory")
    serve.add_argument(
        "--timeout", metavar="SECONDS", type=float, default=30.0, help="with --command: its timeout"
    )

    diagnose = commands.add_parser(
        "diagnose",
        help="explain a secret's rotation state, and its root cause, from saved AWS output",
        description="Explain saved AWS output: `aws secretsmanager describe-secret` or "
        "`list-secrets`, `list-secret-version-ids`, the rotation function's logs (`aws logs "
        "filter-log-events` / `get-log-events` JSON, or text copied from the console) and "
        "`aws cloudtrail lookup-events`, each recognised by its content. "
        "Exit 0 healthy, 1 stuck or inconsistent, 2 unreadable input.",
    )
    diagnose.add_argument(
        "files", metavar="FILE", nargs="+", help="saved output file(s); '-' reads standard input"
    )
    diagnose.add_argument(
        "--now",
        metavar="WHEN",
        help="judge dates at this moment, when the files were saved (ISO 8601 or epoch seconds; "
        "default: the current time)",
    )
    diagnose.add_argument(
        "--secret",
        metavar="NAME",
        help="the secret to diagnose (name or ARN) when the files describe several",
    )
    diagnose.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (default), json for programs",
    )
    _add_reproduce(commands)
    return parser


def _add_reproduce(commands: argparse._SubParsersAction[_Parser]) -> None:
    reproduce = commands.add_parser(
        "reproduce",
        help="replay a stuck rotation from saved AWS output with the real rotation function",
        description="Rebuild a saved stuck state, reattempt the pending rotation with the "
        "rotation function (causes outside its code applied as faults), say whether production's "
        "failure is reproduced, rehearse each unblock option on a copy, and write the incident's "
        "regression test. Exit 0 reproduced, 1 not reproduced, 2 bad input or harness error.",
    )
    reproduce.add_argument(
        "files",
        metavar="STATE [EVIDENCE ...] TARGET",
        nargs="+",
        help="saved describe-secret output; list-secret-version-ids output, the function's "
        "logs and CloudTrail events; the rotation function as module:function or "
        "path/to/file.py:function (omit it with --command)",
    )
    reproduce.add_argument(
        "--command",
        dest="function_command",
        metavar="CMD",
        help="instead of TARGET: the command that starts the function's Lambda runtime "
        "interface client, in any language",
    )
    reproduce.add_argument("--cwd", metavar="DIR", help="with --command: the function's directory")
    reproduce.add_argument(
        "--value",
        metavar="VERSION_OR_LABEL=JSON",
        action="append",
        default=[],
        help="a version's value, by version id or staging label (repeatable); the others get "
        "made-up values shaped like a given one",
    )
    reproduce.add_argument(
        "--setup", metavar="MODULE:ATTR", help="called with the AWSCURRENT value before each run"
    )
    reproduce.add_argument(
        "--probe",
        metavar="MODULE:ATTR",
        help="called with a secret value; truthy when the protected service accepts it",
    )
    reproduce.add_argument(
        "--env", metavar="KEY=VALUE", action="append", default=[], help="function environment"
    )
    reproduce.add_argument(
        "--timeout", metavar="SECONDS", type=float, default=30.0, help="the function's timeout"
    )
    reproduce.add_argument(
        "--now", metavar="WHEN", help="the clock's start, e.g. when the files were saved"
    )
    reproduce.add_argument("--write-test", metavar="PATH", help="write the regression test here")
    reproduce.add_argument("--format", choices=("text", "json"), default="text")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader went away (`rotation-testkit check ... | head`): stop quietly, as cat does.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_FAILED


def _run(argv: Sequence[str] | None) -> int:
    # Module targets resolve from the current directory whichever way the tool was started
    # (`python -m` puts it on the path; an installed script puts its own folder there instead).
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.command == "check":
        from .contract.command import run_check_command

        if args.target is None and args.function_command is None and not args.list:
            print(args.usage().rstrip(), file=sys.stderr)
            print(
                "rotation-testkit check: error: TARGET is required: give module:function or "
                'path/to/file.py:function, or --command "CMD".',
                file=sys.stderr,
            )
            return EXIT_USAGE

        return run_check_command(args)
    if args.command == "serve":
        from .serve import run_serve_command

        return run_serve_command(args)
    if args.command == "diagnose":
        from .diagnose import run_diagnose_command

        exit_code: int = run_diagnose_command(
            args.files, now=args.now, secret=args.secret, output_format=args.format
        )
        return exit_code
    if args.command == "reproduce":
        from .reproduce import run_reproduce_command

        return run_reproduce_command(args)
    parser.print_help()
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
