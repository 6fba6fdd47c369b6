"""What loading the plugin costs a pytest run that never uses it.

A directory holds one trivial test that uses nothing of rotation-testkit. ``pytest -q -p
no:cacheprovider`` runs it in a subprocess, in two pairs of variants, alternating run by run so
that a change in machine load affects all alike:

- every installed plugin, with rotation-testkit (as for any project that installs it) and without it
  (``-p no:rotation_testkit``);
- no plugin but this one (``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 -p rotation_testkit.plugin``) and no
  plugin at all: the same difference, without the start-up time of other plugins (hypothesis alone
  takes seconds to import), so less disturbed by a busy machine.

The cost of the plugin is the difference of the medians within a pair, in wall and CPU time (the
CPU time of the pytest subprocesses).

It also lists what importing the plugin imports: neither boto3, botocore nor moto should be among
them (those are imported when a test first uses the kit).

Run: ``.venv/bin/python benchmarks/plugin_load.py [--quick] [--json PATH] [--runs N]``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _common
from _common import median, ms, print_table, ratio

NAME = "plugin_load"
TRIVIAL_TEST = "def test_nothing():\n    assert 1 + 1 == 2\n"
HEAVY = ("boto3", "botocore", "moto", "freezegun", "responses", "requests", "werkzeug")
# name: (extra pytest arguments, autoload installed plugins)
VARIANTS: dict[str, tuple[list[str], bool]] = {
    "all plugins, with rotation-testkit": ([], True),
    "all plugins, -p no:rotation_testkit": (["-p", "no:rotation_testkit"], True),
    "only rotation-testkit": (["-p", "rotation_testkit.plugin"], False),
    "no plugin": ([], False),
}
PAIRS = {
    "all_plugins": ("all plugins, with rotation-testkit", "all plugins, -p no:rotation_testkit"),
    "isolated": ("only rotation-testkit", "no plugin"),
}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_pytest(directory: Path, variant: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one pytest run of the trivial test."""
    extra, autoload = VARIANTS[variant]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    env = dict(env)
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    cpu0, w0 = _children_cpu(), _common.wall()
    done = subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True)
    elapsed, cpu_used = _common.wall() - w0, _children_cpu() - cpu0
    if done.returncode != 0:
        raise SystemExit(f"pytest failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, cpu_used


def imported_by_the_plugin(env: dict[str, str]) -> list[str]:
    """Top-level packages that importing the plugin adds to what pytest already imported."""
    code = (
        "import sys, pytest\n"
        "before = set(sys.modules)\n"
        "import rotation_testkit.plugin\n"
        "print('\\n'.join(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def main(argv: list[str] | None = None) -> int:
    parser = _common.parser(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="pytest runs per variant")
    args = parser.parse_args(argv)
    runs = args.runs or (6 if args.quick else 30)
    _common.print_header(NAME, args)
    # Bytecode is cached as in an installed package: without it every run would compile the
    # plugin's modules (and pytest would rewrite its asserts) again.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "PYTEST_")) and k != "PYTHONDONTWRITEBYTECODE"
    }

    packages = imported_by_the_plugin(env)
    heavy = sorted(set(packages) & set(HEAVY))
    print(f"importing the plugin adds the packages: {', '.join(packages)}")
    print(f"of which boto3, botocore, moto and their kind: {', '.join(heavy) or 'none'}")

    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="rotation-testkit-bench-") as tmp:
        directory = Path(tmp)
        (directory / "pytest.ini").write_text("[pytest]\n")  # no enclosing ini file applies
        (directory / "test_trivial.py").write_text(TRIVIAL_TEST)
        names = list(VARIANTS)
        for name in names:  # warm the file system cache
            run_pytest(directory, name, env)
        for round_ in range(runs):
            shift = round_ % len(names)  # no variant always runs right after another
            for name in names[shift:] + names[:shift]:
                samples[name].append(run_pytest(directory, name, env))

    results: dict[str, dict[str, Any]] = {
        name: {
            "runs": len(values),
            "wall_median_s": median([w for w, _ in values]),
            "wall_min_s": min(w for w, _ in values),
            "cpu_median_s": median([c for _, c in values]),
            "cpu_min_s": min(c for _, c in values),
        }
        for name, values in samples.items()
    }
    costs: dict[str, dict[str, float]] = {}
    for pair, (with_name, without_name) in PAIRS.items():
        with_, without = results[with_name], results[without_name]
        costs[pair] = {
            "added_wall_s": with_["wall_median_s"] - without["wall_median_s"],
            "added_cpu_s": with_["cpu_median_s"] - without["cpu_median_s"],
            "added_wall_min_s": with_["wall_min_s"] - without["wall_min_s"],
            "added_cpu_min_s": with_["cpu_min_s"] - without["cpu_min_s"],
            "with_over_without_wall": ratio(with_["wall_median_s"], without["wall_median_s"]),
            "with_over_without_cpu": ratio(with_["cpu_median_s"], without["cpu_median_s"]),
        }
    print_table(
        f"pytest -q -p no:cacheprovider on one trivial test, {runs} interleaved runs per variant",
        ["variant", "wall med", "wall min", "cpu med", "cpu min"],
        [
            [
                name,
                ms(r["wall_median_s"]),
                ms(r["wall_min_s"]),
                ms(r["cpu_median_s"]),
                ms(r["cpu_min_s"]),
            ]
            for name, r in results.items()
        ],
    )
    for pair, cost in costs.items():
        print(
            f"{pair}: the plugin adds {ms(cost['added_wall_s'])} wall, "
            f"{ms(cost['added_cpu_s'])} cpu per run (with/without: "
            f"{cost['with_over_without_wall']:.3f} wall, {cost['with_over_without_cpu']:.3f} cpu); "
            f"between the fastest runs: {ms(cost['added_wall_min_s'])} wall, "
            f"{ms(cost['added_cpu_min_s'])} cpu"
        )
    print(f"load average at end: {_common.load_average()}")
    _common.write_json(
        args.json,
        NAME,
        args,
        {"imported_packages": packages, "variants": results, "plugin_cost": costs},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
