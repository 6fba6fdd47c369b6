"""Per-test set-up cost: rotation-testkit's world versus plain moto, in one process and under pytest.

In-process, each variant runs N times, interleaved round by round so that a change in machine load
affects all of them alike:

- ``rotation-testkit``: ``World().activate()``, ``world.client()`` and a first ``create_secret``
  (what the ``secretsmanager`` fixture does for a test), then leaving the block;
- ``moto``: ``with mock_aws():``, ``boto3.client("secretsmanager", region_name=...)`` and a first
  ``create_secret``, with moto's default configuration (which resets boto3's default session, so
  every test builds a new session and parses the service model again);
- ``moto, session reused`` (for reference): moto told not to reset boto3's default session
  (``{"core": {"reset_boto3_session": False}}``) and one ``boto3.Session`` reused by every test.

Under pytest, two generated files of trivial tests (each creates one secret) are run with
``pytest -q -p no:cacheprovider -p no:hypothesispytest`` in a subprocess: one using the
``secretsmanager`` fixture, one using ``@mock_aws`` and ``boto3.client`` directly. Each file is
run with 1 and with M tests (101 by default), and a probe plugin loaded with ``-p`` reads
``time.process_time()`` inside the pytest process: from ``pytest_sessionstart`` to the last
``pytest_unconfigure``, and around each test's protocol. The per-test cost is the session of M
tests minus the session of 1, without each session's first test (which pays the one-off imports),
divided by M - 1: it counts collecting each test, its set-up, call, teardown and report, and
nothing of the interpreter's start-up. The second test's start to the last test's end, divided by
M - 1, is printed too (the tests' protocols only), and so is the former whole-process difference,
for comparison.

Run: ``.venv/bin/python benchmarks/setup_cost.py [--quick] [--json PATH]``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common
import boto3
from _common import REGION, Timer, median, ms, p90, print_table, ratio
from moto import mock_aws

from rotation_testkit.world import World

NAME = "setup_cost"
SECRET_NAME = "bench/setup"


# --- in-process -------------------------------------------------------------------------------


def kit_cycle(setup: Timer, teardown: Timer) -> None:
    with ExitStack() as stack, setup.measure():
        world = World()
        stack.enter_context(world.activate())
        world.client().create_secret(Name=SECRET_NAME, SecretString="x")
        active = stack.pop_all()  # still open: leaving it is timed as the teardown
    with teardown.measure():
        active.close()


def moto_cycle(setup: Timer, teardown: Timer) -> None:
    with ExitStack() as stack, setup.measure():
        stack.enter_context(mock_aws())
        client = boto3.client("secretsmanager", region_name=REGION)
        client.create_secret(Name=SECRET_NAME, SecretString="x")
        active = stack.pop_all()
    with teardown.measure():
        active.close()


_REUSED_SESSION: list[boto3.Session] = []


def moto_reused_session_cycle(setup: Timer, teardown: Timer) -> None:
    with ExitStack() as stack, setup.measure():
        stack.enter_context(mock_aws(config={"core": {"reset_boto3_session": False}}))
        if not _REUSED_SESSION:
            _REUSED_SESSION.append(boto3.Session(region_name=REGION))
        client = _REUSED_SESSION[0].client("secretsmanager", region_name=REGION)
        client.create_secret(Name=SECRET_NAME, SecretString="x")
        active = stack.pop_all()
    with teardown.measure():
        active.close()


VARIANTS: dict[str, Callable[[Timer, Timer], None]] = {
    "rotation-testkit": kit_cycle,
    "moto": moto_cycle,
    "moto, session reused": moto_reused_session_cycle,
}


def in_process(repeats: int, warmup: int) -> dict[str, dict[str, Any]]:
    timers = {name: (Timer(), Timer()) for name in VARIANTS}
    names = list(VARIANTS)
    for round_ in range(warmup + repeats):
        # Rotate the order every round: no variant always runs right after another.
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            setup, teardown = (Timer(), Timer()) if round_ < warmup else timers[name]
            VARIANTS[name](setup, teardown)
    results: dict[str, dict[str, Any]] = {}
    for name, (setup, teardown) in timers.items():
        totals = [s.wall + t.wall for s, t in zip(setup.samples, teardown.samples, strict=True)]
        cpu_totals = [s.cpu + t.cpu for s, t in zip(setup.samples, teardown.samples, strict=True)]
        results[name] = {
            "runs": len(totals),
            "setup_median_s": median(setup.walls()),
            "setup_p90_s": p90(setup.walls()),
            "teardown_median_s": median(teardown.walls()),
            "total_median_s": median(totals),
            "total_p90_s": p90(totals),
            "total_cpu_median_s": median(cpu_totals),
        }
    return results


# --- under pytest ------------------------------------------------------------------------------

KIT_TEST = """
def test_{n}(secretsmanager):
    secretsmanager.create_secret(Name="bench/secret", SecretString="x")
"""

MOTO_HEADER = """
import boto3
from moto import mock_aws
"""

MOTO_TEST = """
@mock_aws
def test_{n}():
    client = boto3.client("secretsmanager", region_name="{region}")
    client.create_secret(Name="bench/secret", SecretString="x")
"""

#: Where the probe writes what it measured (an environment variable of the pytest subprocess).
PROBE_OUTPUT = "SETUP_COST_PROBE_OUTPUT"
PROBE_MODULE = "setup_cost_probe"

# Loaded with ``-p``: records the CPU (and wall) clock inside the pytest process, so interpreter
# start-up and plugin loading (hundreds of milliseconds that vary from run to run) stay out.
PROBE = """
import json
import os
import time

import pytest

_session = {}
_protocol_starts = []
_protocol_ends = []


def _now():
    return [time.process_time(), time.perf_counter()]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    _session["start"] = _now()


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    _session["collected"] = _now()


# Outermost: a test's whole protocol (set-up, call, teardown, their reports and output).
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    _protocol_starts.append(_now())
    try:
        return (yield)
    finally:
        _protocol_ends.append(_now())


# Last of all: after the terminal summary and every other plugin's unconfigure.
@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    end = _now()
    with open(os.environ["__OUTPUT__"], "w") as out:
        json.dump(
            {
                "session": [_session["start"], end],
                "collected": _session["collected"],
                "protocol_starts": _protocol_starts,
                "protocol_ends": _protocol_ends,
            },
            out,
        )
""".replace("__OUTPUT__", PROBE_OUTPUT)


#: Hypothesis's plugin imports the hypothesis package at the end of every session: about a second
#: of CPU, the same with 1 test or 101 but different from run to run, and neither variant's.
PYTEST_OPTIONS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


def write_test_file(directory: Path, kind: str, count: int) -> Path:
    path = directory / f"test_{kind}_{count}.py"
    if kind == "kit":
        body = "".join(KIT_TEST.format(n=n) for n in range(count))
    else:
        body = MOTO_HEADER + "".join(MOTO_TEST.format(n=n, region=REGION) for n in range(count))
    path.write_text(textwrap.dedent(body))
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class PytestRun:
    """One pytest subprocess: CPU and wall seconds of the session and of the whole process."""

    tests: int
    session_cpu: float  # pytest_sessionstart to the last pytest_unconfigure, in the process
    session_wall: float
    #: The first test's protocol, which also pays the one-off work (imports, the first session).
    first_cpu: float
    first_wall: float
    process_cpu: float  # the whole subprocess, interpreter start-up included
    #: Second test's protocol start to the last one's end (None with fewer than two tests).
    loop_cpu: float | None
    loop_wall: float | None


def run_pytest(path: Path, kind: str, env: dict[str, str]) -> PytestRun:
    """Run ``pytest -q`` on ``path`` with the probe; what it measured."""
    command = [sys.executable, "-m", "pytest", "-q", *PYTEST_OPTIONS, "-p", PROBE_MODULE]
    if kind == "moto":
        command += ["-p", "no:rotation_testkit"]  # plain moto: the plugin is not installed
    command.append(path.name)
    output = path.parent / f"probe-{path.stem}.json"
    output.unlink(missing_ok=True)
    cpu0 = _children_cpu()
    done = subprocess.run(
        command,
        cwd=path.parent,
        env={**env, PROBE_OUTPUT: str(output)},
        capture_output=True,
        text=True,
        check=False,
    )
    process_cpu = _children_cpu() - cpu0
    if done.returncode != 0 or not output.exists():
        raise SystemExit(f"pytest failed on {path.name}:\n{done.stdout}\n{done.stderr}")
    probe = json.loads(output.read_text())
    (start_cpu, start_wall), (end_cpu, end_wall) = probe["session"]
    starts, ends = probe["protocol_starts"], probe["protocol_ends"]
    if len(ends) < 2:
        loop_cpu = loop_wall = None
    else:
        # Counted, not named: pytest-randomly may run the tests in any order.
        loop_cpu, loop_wall = ends[-1][0] - starts[1][0], ends[-1][1] - starts[1][1]
    return PytestRun(
        tests=len(ends),
        session_cpu=end_cpu - start_cpu,
        session_wall=end_wall - start_wall,
        first_cpu=ends[0][0] - starts[0][0],
        first_wall=ends[0][1] - starts[0][1],
        process_cpu=process_cpu,
        loop_cpu=loop_cpu,
        loop_wall=loop_wall,
    )


def _session_after_first(run: PytestRun, *, wall: bool = False) -> float:
    """The session without its first test, whose one-off work (imports) varies from run to run."""
    return run.session_wall - run.first_wall if wall else run.session_cpu - run.first_cpu


def _per_test(
    one: list[PytestRun], many: list[PytestRun], value: Callable[[PytestRun], float], tests: int
) -> list[float]:
    """Each repeat's figure: its run of ``tests`` tests minus its run of 1, / (tests - 1)."""
    return [(value(m) - value(o)) / (tests - 1) for o, m in zip(one, many, strict=True)]


def under_pytest(tests: int, repeats: int) -> dict[str, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # every repeat does the same work
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="rotation-testkit-bench-") as tmp:
        directory = Path(tmp)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [tmp, env.get("PYTHONPATH")]))
        # An empty configuration: no ini file of an enclosing directory applies.
        (directory / "pytest.ini").write_text("[pytest]\n")
        (directory / f"{PROBE_MODULE}.py").write_text(PROBE)
        files = {
            (kind, count): write_test_file(directory, kind, count)
            for kind in ("kit", "moto")
            for count in (1, tests)
        }
        for (kind, count), path in files.items():  # warm the file system cache
            if count == 1:
                run_pytest(path, kind, env)
        samples: dict[tuple[str, int], list[PytestRun]] = {key: [] for key in files}
        for _ in range(repeats):
            for (kind, count), path in files.items():
                run = run_pytest(path, kind, env)
                if run.tests != count:
                    raise SystemExit(f"{path.name}: pytest ran {run.tests} tests, not {count}")
                samples[(kind, count)].append(run)
    for kind in ("kit", "moto"):
        one, many = samples[(kind, 1)], samples[(kind, tests)]
        session = _per_test(one, many, _session_after_first, tests)
        results[kind] = {
            "tests": tests,
            "repeats": repeats,
            "session_1_test_cpu_s": median([r.session_cpu for r in one]),
            f"session_{tests}_tests_cpu_s": median([r.session_cpu for r in many]),
            "first_test_cpu_s": median([r.first_cpu for r in many]),
            # The headline: everything a test adds to a session (collecting it, its protocol, its
            # report), nothing of the start-up or of the first test's one-off work.
            "per_test_session_cpu_s": median(session),
            "per_test_session_cpu_runs_s": session,
            "per_test_session_wall_s": median(
                _per_test(one, many, lambda r: _session_after_first(r, wall=True), tests)
            ),
            # The tests' protocols only, second to last: leaves out collecting each test.
            "per_test_in_loop_cpu_s": median([r.loop_cpu or 0.0 for r in many]) / (tests - 1),
            "per_test_in_loop_wall_s": median([r.loop_wall or 0.0 for r in many]) / (tests - 1),
            # The former method, whole processes: start-up noise divided by tests - 1.
            "process_1_test_cpu_s": median([r.process_cpu for r in one]),
            f"process_{tests}_tests_cpu_s": median([r.process_cpu for r in many]),
            "per_test_process_cpu_s": median(_per_test(one, many, lambda r: r.process_cpu, tests)),
        }
    return results


# --- report -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = _common.parser(__doc__.splitlines()[0])
    parser.add_argument("-n", "--repeats", type=int, help="in-process cycles per variant")
    parser.add_argument("--tests", type=int, help="tests per generated pytest file (default 101)")
    parser.add_argument("--pytest-repeats", type=int, help="runs of each pytest file")
    parser.add_argument("--no-pytest", action="store_true", help="skip the pytest-level runs")
    args = parser.parse_args(argv)
    repeats = args.repeats or (20 if args.quick else 200)
    pytest_repeats = args.pytest_repeats or (1 if args.quick else 3)
    args.tests = args.tests or (21 if args.quick else 101)
    if args.tests < 2:
        parser.error("--tests takes at least 2: the per-test cost is a difference with 1 test")
    _common.print_header(NAME, args)
    _common.hermetic_aws_environment()

    cycles = in_process(repeats, warmup=3)
    kit, moto = cycles["rotation-testkit"], cycles["moto"]
    rows = [
        [
            name,
            ms(r["setup_median_s"]),
            ms(r["setup_p90_s"]),
            ms(r["teardown_median_s"]),
            ms(r["total_median_s"]),
            ms(r["total_p90_s"]),
            ms(r["total_cpu_median_s"]),
            f"{ratio(kit['total_median_s'], r['total_median_s']):.2f}",
        ]
        for name, r in cycles.items()
    ]
    print_table(
        f"In-process set-up + first create_secret + teardown, {repeats} cycles each (interleaved)",
        [
            "variant",
            "setup med",
            "setup p90",
            "teardown",
            "total med",
            "total p90",
            "cpu med",
            "kit/x",
        ],
        rows,
    )
    ratios = {
        "in_process_kit_over_moto_wall": ratio(kit["total_median_s"], moto["total_median_s"]),
        "in_process_kit_over_moto_cpu": ratio(
            kit["total_cpu_median_s"], moto["total_cpu_median_s"]
        ),
    }
    print(
        f"ratio kit/moto (median set-up+teardown): wall {ratios['in_process_kit_over_moto_wall']:.2f}"
        f", cpu {ratios['in_process_kit_over_moto_cpu']:.2f}  (< 1 means the kit is cheaper)"
    )

    pytest_results: dict[str, dict[str, Any]] = {}
    if not args.no_pytest:
        pytest_results = under_pytest(args.tests, pytest_repeats)
        pk, pm = pytest_results["kit"], pytest_results["moto"]
        n = args.tests
        print_table(
            f"pytest -q {' '.join(PYTEST_OPTIONS)}, files of 1 and {n} trivial tests, CPU measured in the "
            f"pytest process, median of {pytest_repeats} run(s)",
            ["variant", "session 1", f"session {n}", "per test", "in loop", "whole process"],
            [
                [
                    label,
                    ms(r["session_1_test_cpu_s"]),
                    ms(r[f"session_{n}_tests_cpu_s"]),
                    ms(r["per_test_session_cpu_s"]),
                    ms(r["per_test_in_loop_cpu_s"]),
                    ms(r["per_test_process_cpu_s"]),
                ]
                for label, r in (("secretsmanager fixture", pk), ("@mock_aws + boto3", pm))
            ],
        )
        print(
            "per test: the session (sessionstart to unconfigure) of the file of "
            f"{n} minus that of the file of 1, / {n - 1}; in loop: the second test's start to the "
            f"last test's end, / {n - 1}; whole process: the former method (subprocess CPU, "
            "interpreter start-up included)."
        )
        ratios["pytest_per_test_session_kit_over_moto_cpu"] = ratio(
            pk["per_test_session_cpu_s"], pm["per_test_session_cpu_s"]
        )
        ratios["pytest_per_test_session_kit_over_moto_wall"] = ratio(
            pk["per_test_session_wall_s"], pm["per_test_session_wall_s"]
        )
        ratios["pytest_per_test_in_loop_kit_over_moto_cpu"] = ratio(
            pk["per_test_in_loop_cpu_s"], pm["per_test_in_loop_cpu_s"]
        )
        ratios["pytest_per_test_process_kit_over_moto_cpu"] = ratio(
            pk["per_test_process_cpu_s"], pm["per_test_process_cpu_s"]
        )
        runs = ", ".join(
            f"{ratio(k, m):.3f}"
            for k, m in zip(
                pk["per_test_session_cpu_runs_s"], pm["per_test_session_cpu_runs_s"], strict=True
            )
        )
        print(
            "ratio kit/moto (per test under pytest, CPU): "
            f"{ratios['pytest_per_test_session_kit_over_moto_cpu']:.3f} (each run: {runs}); "
            f"in loop {ratios['pytest_per_test_in_loop_kit_over_moto_cpu']:.3f}; "
            f"whole process {ratios['pytest_per_test_process_kit_over_moto_cpu']:.3f}; "
            f"wall {ratios['pytest_per_test_session_kit_over_moto_wall']:.3f}"
        )
    print(f"load average at end: {_common.load_average()}")
    _common.write_json(
        args.json,
        NAME,
        args,
        {"in_process": cycles, "pytest": pytest_results, "ratios": ratios},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
