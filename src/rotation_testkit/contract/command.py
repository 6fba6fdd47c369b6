"""`rotation-testkit check`: read the options, run the checks, print one line per check.

Each line counts (``[3/20]``), names the check, gives its result and how long it took; the last
line sums the results up with the total time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ..execution.commands import INIT_FAILURE, check_command
from ..execution.lambdas import lambda_variables
from ..execution.loader import TargetError, load_callable
from ..execution.sandbox import hermetic_environ, patched_environ
from ..foundations import user_input
from ..foundations.config import KitConfig
from .checks import CHECKS, Check
from .junit import require_writable, write_junit
from .runner import FUNCTION_COULD_NOT_RUN, CheckResult, run_check, select
from .scenario import RotatorUnderTest
from .secrets import SecretSetupError, as_text, creation_order
from .setup_note import NOTE as SETUP_NOTE

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_MARKS = {"passed": "PASS", "failed": "FAIL", "not applicable": "N/A", "harness error": "ERROR"}


def _usage(message: str) -> int:
    print(f"rotation-testkit check: {message}", file=sys.stderr)
    return EXIT_USAGE


def _parse_env(pairs: Sequence[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--env expects KEY=VALUE, got {pair!r}.")
        env[key] = value
    return env


def _parse_secret(text: str | None, option: str = "--secret") -> Any:
    return None if text is None else user_input.secret_json(text, option)


def _parse_extra_secrets(pairs: Sequence[str]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ValueError(
                f"--extra-secret expects NAME=JSON, got {pair!r}; for example "
                '--extra-secret \'master={"username": "admin", "password": "x"}\'.'
            )
        user_input.secret_name(name, "--extra-secret NAME")
        if name in extra:
            raise ValueError(f"--extra-secret {name!r} is given twice.")
        extra[name] = _parse_secret(text, f"--extra-secret {name}")
    return extra


def _build_rotator(args: argparse.Namespace) -> RotatorUnderTest:
    """The rotator and its harness, as the options describe them (ValueError/TargetError if not)."""
    env = _parse_env(args.env)
    user_input.secret_name(args.secret_name)
    secret = _parse_secret(args.secret)
    extra = _parse_extra_secrets(args.extra_secret)
    command = getattr(args, "function_command", None)
    if args.target is None and command is None:
        raise ValueError(
            "TARGET is required: give module:function or path/to/file.py:function, or "
            '--command "CMD" for a function run by a Lambda runtime interface client.'
        )
    if args.target is not None and command is not None:
        raise ValueError("give either TARGET or --command, not both.")
    if command is not None:
        check_command(command, getattr(args, "cwd", None))
    if not 1 <= args.timeout <= 900:
        raise ValueError(f"--timeout must be within 1..900 seconds, got {args.timeout}.")
    # Import as Lambda does, with the function's environment already set (a module may read
    # SECRETS_MANAGER_ENDPOINT at import time), inside the hermetic environment: a client
    # built at import time gets the fake credentials, never the user's own.
    config = KitConfig()
    with patched_environ({**hermetic_environ(config), **lambda_variables(config, "rotator", env)}):
        handler = load_callable(args.target) if command is None else ""
        setup = load_callable(args.setup) if args.setup else None
        probe = load_callable(args.probe) if args.probe else None
    rotator = RotatorUnderTest(
        handler=handler,
        setup=setup,
        probe=probe,
        env=env,
        timeout=args.timeout,
        secret_name=args.secret_name,
        extra_secrets=extra,
        strategy=args.strategy,
        command=command,
        cwd=getattr(args, "cwd", None),
        package_modules=tuple(getattr(args, "package_module", ())),
    )
    if secret is not None:
        rotator.initial_secret = secret
    # Unknown or circular {arn:NAME} references are a usage error, found before any check runs.
    creation_order(
        {**{n: as_text(v) for n, v in extra.items()}, args.secret_name: rotator.secret_string()}
    )
    return rotator


def _config(args: argparse.Namespace) -> KitConfig:
    """The world's settings the options name (ConfigError, a ValueError, for an unknown one)."""
    disabled = list(getattr(args, "disable_invariant", ()))
    return KitConfig().updated(disabled_invariants=disabled) if disabled else KitConfig()


def run_check_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if args.list:
        width = max(len(check.name) for check in CHECKS) + 2
        for check in CHECKS:
            print(f"{check.name:<{width}}{check.summary}", file=out)
        return EXIT_OK
    try:
        checks = select(args.only)
        rotator = _build_rotator(args)
        config = _config(args)
        if args.junit_xml:
            require_writable(args.junit_xml)
    except (TargetError, SecretSetupError, ValueError) as error:
        return _usage(str(error))
    print(f"rotation-testkit check {_what(args)}: {len(checks)} check(s)", file=out)
    out.flush()
    results: list[CheckResult] = []
    started = time.perf_counter()
    try:
        for number, check in enumerate(checks, start=1):
            hung = next((r for r in results if r.hung), None)
            result = _not_run(check, hung, args) if hung else run_check(check, rotator, config)
            if result.status == "harness error":
                return _harness_error(result, rotator, out)
            results.append(result)
            _print_result(result, number, len(checks), out)
    except KeyboardInterrupt:
        print(f"interrupted after {len(results)} of {len(checks)} check(s)", file=out)
        _finish(results, rotator, args, out, time.perf_counter() - started)
        return EXIT_INTERRUPTED
    return _finish(results, rotator, args, out, time.perf_counter() - started)


def _print_result(result: CheckResult, number: int, total: int, out: TextIO) -> None:
    """``[ 3/20] PASS  name  (0.42 s)``, then why it did not pass, its notes and its logs."""
    counter = f"[{number:>{len(str(total))}}/{total}]"
    print(
        f"{counter} {_MARKS[result.status]:<6}{result.name}  ({duration(result.seconds)})",
        file=out,
    )
    indent = " " * (len(counter) + 1 + 6)
    lines = [] if result.status == "passed" else result.message.splitlines()
    lines += [f"info: {line}" for line in result.info]
    for line in lines:
        print(f"{indent}{line}", file=out)
    if result.logs:
        print(f"{indent}function logs (the failing attempt):", file=out)
        for line in result.logs.splitlines():
            print(f"{indent}  {line}", file=out)
    out.flush()  # a check of a function in another language takes seconds: show each one


def duration(seconds: float) -> str:
    """A check's or a run's duration as people read it: "0.42 s", "12.3 s", "3 min 05 s"."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _not_run(check: Check, hung: CheckResult, args: argparse.Namespace) -> CheckResult:
    """A check after one where the function hung: running it would only hang again."""
    return CheckResult(
        check.name,
        check.summary,
        False,
        f"not run: the function hung past its {args.timeout:g} s timeout in real time in the "
        f"check {hung.name!r}; fix that first.",
        0.0,
        status="failed",
    )


def _harness_error(result: CheckResult, rotator: RotatorUnderTest, out: TextIO) -> int:
    missing_setup = (
        "\nNo --setup was given: the protected service does not know the initial secret's user "
        "until --setup MODULE:ATTR creates it."
        if rotator.setup is None and rotator.probe is not None
        else ""
    )
    print(
        f"rotation-testkit check: harness error in check {result.name!r}, not a bug of the "
        f"rotator: {result.message}{missing_setup}\nNo check was judged: "
        f"{_what_to_fix(result)} and run again.",
        file=sys.stderr,
    )
    out.flush()
    return EXIT_USAGE


def _what_to_fix(result: CheckResult) -> str:
    if result.message.startswith(FUNCTION_COULD_NOT_RUN):
        return "fix the command (or install what it runs)"
    return "fix what it names (the target, the --setup/--probe functions)"


def _finish(
    results: list[CheckResult],
    rotator: RotatorUnderTest,
    args: argparse.Namespace,
    out: TextIO,
    seconds: float,
) -> int:
    failed = [r for r in results if r.status == "failed"]
    not_applicable = [r for r in results if r.status == "not applicable"]
    if rotator.setup is None and any(r.service_unprepared for r in failed):
        print(SETUP_NOTE, file=out)
    _note_init_failure(failed, out)
    summary = f"{len(results) - len(failed) - len(not_applicable)} passed, {len(failed)} failed"
    if not_applicable:
        summary += f", {len(not_applicable)} not applicable"
    print(f"{summary} in {duration(seconds)}", file=out)
    if args.junit_xml:
        write_junit(results, args.junit_xml, suite=f"rotation-testkit check {_what(args)}")
    return EXIT_FAILED if failed else EXIT_OK


def _what(args: argparse.Namespace) -> str:
    command = getattr(args, "function_command", None)
    return str(args.target) if command is None else f"--command {command!r}"


def _note_init_failure(failed: list[CheckResult], out: TextIO) -> None:
    """A function that cannot even load fails every check the same way: say so once."""
    for result in failed:
        line = next((x for x in result.message.splitlines() if INIT_FAILURE in x), None)
        if line is not None:
            print(
                "note: the function failed to initialise (an init error, before any handler ran): "
                f"{line.strip()}\nCheck the handler name, the working directory (--cwd) and that "
                "the function's dependencies are installed there.",
                file=out,
            )
            return
