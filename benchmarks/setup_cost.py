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
``pytest -q -p no:cacheprovider`` in a subprocess: one using the ``secretsmanager`` fixture, one
using ``@mock_aws`` and ``boto3.client`` directly. Each file is run with 1 and with M tests; the
per-test cost is the difference divided by M - 1, which leaves out interpreter start-up, imports
and collection.

Run: ``.venv/bin/python benchmarks/setup_cost.py [--quick] [--json PATH]``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from contextlib import ExitStack
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


def run_pytest(path: Path, kind: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``pytest -q -p no:cacheprovider`` run of ``path``."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if kind == "moto":
        command += ["-p", "no:rotation_testkit"]  # plain moto: the plugin is not installed
    command.append(path.name)
    cpu0, w0 = _children_cpu(), _common.wall()
    done = subprocess.run(command, cwd=path.parent, env=env, capture_output=True, text=True)
    elapsed, cpu_used = _common.wall() - w0, _children_cpu() - cpu0
    if done.returncode != 0:
        raise SystemExit(f"pytest failed on {path.name}:\n{done.stdout}\n{done.stderr}")
    return elapsed, cpu_used


def under_pytest(tests: int, repeats: int) -> dict[str, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # every repeat does the same work
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="rotation-testkit-bench-") as tmp:
        directory = Path(tmp)
        # An empty configuration: no ini file of an enclosing directory applies.
        (directory / "pytest.ini").write_text("[pytest]\n")
        files = {
            (kind, count): write_test_file(directory, kind, count)
            for kind in ("kit", "moto")
            for count in (1, tests)
        }
        for (kind, _count), path in files.items():  # warm the file system cache
            run_pytest(path, kind, env)
        samples: dict[tuple[str, int], list[tuple[float, float]]] = {key: [] for key in files}
        for _ in range(repeats):
            for (kind, count), path in files.items():
                samples[(kind, count)].append(run_pytest(path, kind, env))
    for kind in ("kit", "moto"):
        one = samples[(kind, 1)]
        many = samples[(kind, tests)]
        wall_one, wall_many = median([w for w, _ in one]), median([w for w, _ in many])
        cpu_one, cpu_many = median([c for _, c in one]), median([c for _, c in many])
        results[kind] = {
            "tests": tests,
            "repeats": repeats,
            "run_1_test_s": wall_one,
            f"run_{tests}_tests_s": wall_many,
            "per_test_s": (wall_many - wall_one) / (tests - 1),
            "per_test_cpu_s": (cpu_many - cpu_one) / (tests - 1),
        }
    return results


# --- report -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = _common.parser(__doc__.splitlines()[0])
    parser.add_argument("-n", "--repeats", type=int, help="in-process cycles per variant")
    parser.add_argument("--tests", type=int, default=50, help="tests per generated pytest file")
    parser.add_argument("--pytest-repeats", type=int, help="runs of each pytest file")
    parser.add_argument("--no-pytest", action="store_true", help="skip the pytest-level runs")
    args = parser.parse_args(argv)
    repeats = args.repeats or (20 if args.quick else 200)
    pytest_repeats = args.pytest_repeats or (1 if args.quick else 3)
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
        print_table(
            f"pytest -q -p no:cacheprovider, files of 1 and {args.tests} trivial tests, "
            f"median of {pytest_repeats} run(s)",
            ["variant", "1 test", f"{args.tests} tests", "per test", "per test cpu"],
            [
                [
                    label,
                    ms(r["run_1_test_s"]),
                    ms(r[f"run_{args.tests}_tests_s"]),
                    ms(r["per_test_s"]),
                    ms(r["per_test_cpu_s"]),
                ]
                for label, r in (("secretsmanager fixture", pk), ("@mock_aws + boto3", pm))
            ],
        )
        ratios["pytest_per_test_kit_over_moto_wall"] = ratio(pk["per_test_s"], pm["per_test_s"])
        ratios["pytest_per_test_kit_over_moto_cpu"] = ratio(
            pk["per_test_cpu_s"], pm["per_test_cpu_s"]
        )
        print(
            "ratio kit/moto (per test under pytest): "
            f"wall {ratios['pytest_per_test_kit_over_moto_wall']:.2f}, "
            f"cpu {ratios['pytest_per_test_kit_over_moto_cpu']:.2f}"
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
