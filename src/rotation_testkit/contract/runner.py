"""Runs the contract checks, each in a fresh world; the engine behind `rotation-testkit check`."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..execution.lambdas import lambda_variables
from ..execution.loader import TargetError, load_callable
from ..execution.sandbox import hermetic_environ, patched_environ
from ..foundations.config import KitConfig
from ..world import World
from .checks import CHECK_NAMES, CHECKS, Check
from .scenario import ContractFailure, RotatorUnderTest, Scenario

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class CheckResult:
    name: str
    summary: str
    passed: bool
    message: str
    seconds: float
    timeline: str = ""


def select(names: Iterable[str] | None) -> list[Check]:
    wanted = list(names or [])
    unknown = [name for name in wanted if name not in CHECK_NAMES]
    if unknown:
        raise ValueError(
            f"unknown check(s) {', '.join(unknown)}; known checks: {', '.join(CHECK_NAMES)}."
        )
    return [check for check in CHECKS if not wanted or check.name in wanted]


def run_check(
    check: Check, rotator: RotatorUnderTest, config: KitConfig | None = None
) -> CheckResult:
    """One check in a fresh, hermetic world with the clock running."""
    from ..kit import RotationKit

    world = World(config or KitConfig())
    started = time.perf_counter()
    passed, message = True, "ok"
    with world.activate():
        world.start_clock()
        scenario = Scenario(world, rotator)
        try:
            scenario.prepare()
            check.run(scenario)
            scenario.require_no_violations()
        except ContractFailure as failure:
            passed, message = False, str(failure)
        except Exception as error:  # the rotator, its setup or its probe raised where it must not
            passed = False
            message = (
                f"{type(error).__name__}: {error}\n"
                + "".join(traceback.format_exception(error)[-3:]).rstrip()
            )
        timeline = "" if passed else RotationKit(world).timeline()
    return CheckResult(
        check.name, check.summary, passed, message, time.perf_counter() - started, timeline
    )


def run_checks(
    rotator: RotatorUnderTest, names: Iterable[str] | None = None, config: KitConfig | None = None
) -> list[CheckResult]:
    return [run_check(check, rotator, config) for check in select(names)]


# --- the command line -----------------------------------------------------------------------------


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


def _parse_secret(text: str | None) -> Any:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(
            f'--secret must be JSON: an object such as \'{{"username": "app", "password": "x"}}\' '
            f"or a JSON string such as '\"token-123\"' ({error})."
        ) from None
    if not isinstance(value, (dict, str)):
        raise ValueError(
            f"--secret must be a JSON object or a JSON string, got {type(value).__name__}."
        )
    return value


def run_check_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if args.list:
        for check in CHECKS:
            print(f"{check.name:32} {check.summary}", file=out)
        return EXIT_OK
    try:
        checks = select(args.only)
        env = _parse_env(args.env)
        secret = _parse_secret(args.secret)
        if args.target is None:
            raise ValueError(
                "TARGET is required: give module:function or path/to/file.py:function."
            )
        if args.timeout < 1 or args.timeout > 900:
            raise ValueError(f"--timeout must be within 1..900 seconds, got {args.timeout}.")
        # Import as Lambda does, with the function's environment already set (a module may read
        # SECRETS_MANAGER_ENDPOINT at import time), inside the hermetic environment: a client
        # built at import time gets the fake credentials, never the user's own.
        config = KitConfig()
        with patched_environ(
            {**hermetic_environ(config), **lambda_variables(config, "rotator", env)}
        ):
            handler = load_callable(args.target)
            setup = load_callable(args.setup) if args.setup else None
            probe = load_callable(args.probe) if args.probe else None
    except (TargetError, ValueError) as error:
        return _usage(str(error))
    rotator = RotatorUnderTest(
        handler=handler, setup=setup, probe=probe, env=env, timeout=args.timeout
    )
    if secret is not None:
        rotator.initial_secret = secret
    print(f"rotation-testkit check {args.target}: {len(checks)} check(s)", file=out)
    results = []
    for check in checks:
        result = run_check(check, rotator)
        results.append(result)
        print(f"{'PASS' if result.passed else 'FAIL'}  {result.name}", file=out)
        if not result.passed:
            for line in result.message.splitlines():
                print(f"      {line}", file=out)
    failed = [r for r in results if not r.passed]
    if failed and len(failed) == len(results) and setup is None:
        print(
            "note: every check failed and no --setup was given; a rotator that talks to a "
            "protected service needs --setup MODULE:ATTR to create the initial user before each check.",
            file=out,
        )
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed", file=out)
    if args.junit_xml:
        write_junit(results, args.junit_xml, suite=f"rotation-testkit check {args.target}")
    return EXIT_FAILED if failed else EXIT_OK


def write_junit(results: Sequence[CheckResult], path: str, *, suite: str) -> None:
    failures = sum(not r.passed for r in results)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            root,
            "testcase",
            classname="rotation_testkit.contract",
            name=result.name,
            time=f"{result.seconds:.3f}",
        )
        if not result.passed:
            failure = ET.SubElement(case, "failure", message=result.message.splitlines()[0][:200])
            failure.text = result.message + ("\n\n" + result.timeline if result.timeline else "")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
