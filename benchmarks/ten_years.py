"""Ten years of daily rotation (3,650 rotations) on the fake clock.

The rotator is the minimal one (``_minimal_rotator.py``: one client built at import time) unless
``--rotator example`` picks the example rotator (a client per step and a toy database).

rotation-testkit: ``World()``, ``world.activate()``, ``world.start_clock()``, ``rotate_secret`` with
``AutomaticallyAfterDays=1``, then ``world.clock.advance(days=365)`` once per simulated year. After
each year the script records the wall and CPU time the year took, the rotations performed
(``RotationSucceeded`` events of that year, cross-checked against a counter of finishSecret steps
that returned normally), the number of versions the secret keeps, and memory:

- by default, the retained size of the world's state (history, invocation log, secret versions:
  ``sys.getsizeof`` summed over everything reachable from each; for a log longer than 2,000
  entries, estimated from 2,000 of them) and the process's resident set size, read before that walk;
- with ``--tracemalloc``, also tracemalloc's current traced memory after each year and its peak.
  Tracing every allocation makes this code about 5x slower, so the run takes ~10 minutes and its
  times are not comparable with an untraced run.

Plain moto: the same rotator hand-driven (see ``_rotation.hand_rotation``) under ``freeze_time``
moving one day before each rotation, for one simulated year by default. The cost per rotation gives
the ratio, and an extrapolated ten-year time (a lower bound: moto keeps every version forever).

Run: ``.venv/bin/python benchmarks/ten_years.py [--quick] [--json PATH] [--tracemalloc]
[--rotator minimal|example]``.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import sys
import tracemalloc
import types
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import _common
import _rotation
import boto3
from _common import REGION, Timer, median, ms, print_table, ratio
from _rotation import SECRET_NAME, Rotator, hand_rotation
from freezegun import freeze_time
from moto import mock_aws

from rotation_testkit.config import KitConfig
from rotation_testkit.world import World

NAME = "ten_years"
DAYS_PER_YEAR = 365
START = datetime(2025, 1, 1, 9, 0, tzinfo=timezone.utc)
MIB = 1024 * 1024
LOG_SAMPLE = 2000
POINTER = 8

# --- memory -------------------------------------------------------------------------------------

_NOT_STATE = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType)


def retained_bytes(root: object, seen: set[int]) -> int:
    """``sys.getsizeof`` summed over the objects reachable from ``root`` not yet in ``seen``.

    Classes, modules and functions are shared program text, not state, and are not followed.
    """
    total = 0
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _NOT_STATE):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def log_bytes(entries: Sequence[object], seen: set[int]) -> int:
    """The retained size of a log (history, invocations): its entries plus a pointer each.

    Exact up to ``LOG_SAMPLE`` entries; beyond, estimated from that many evenly spaced entries, so
    that measuring does not itself take tens of MiB (a ``seen`` entry per object walked) and distort
    the resident set size read afterwards.
    """
    count = len(entries)
    if count <= LOG_SAMPLE:
        return sum(retained_bytes(entry, seen) for entry in entries) + POINTER * count
    step = count / LOG_SAMPLE
    sampled = sum(retained_bytes(entries[int(i * step)], seen) for i in range(LOG_SAMPLE))
    return int(sampled * count / LOG_SAMPLE) + POINTER * count


def resident_set_bytes() -> tuple[int | None, int | None]:
    """The process's current and peak resident set size (Linux; None elsewhere)."""
    current = peak = None
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    current = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
    except OSError:
        pass
    return current, peak


def mib(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < MIB:
        return f"{value / 1024:.0f} KiB"
    return f"{value / MIB:.1f} MiB"


# --- rotation-testkit ---------------------------------------------------------------------------


class FinishCounter:
    """The rotator, counting finishSecret steps that returned normally."""

    def __init__(self, rotator: Rotator) -> None:
        self.finished = 0
        self.handler = rotator.handler

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        result = self.handler(event, context)
        if event.get("Step") == "finishSecret":
            self.finished += 1
        return result


def kit_years(
    rotator: Rotator, years: int, config: KitConfig, trace: bool, profile_days: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    _rotation.reset_database()
    world = World(config)
    handler = FinishCounter(rotator)
    rows: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    with world.activate():
        world.start_clock()
        client = world.client()
        client.create_secret(Name=SECRET_NAME, SecretString=_rotation.INITIAL)
        arn = world.lambdas.register(handler, name="password-rotator")
        if trace:
            tracemalloc.start()
        first = Timer()
        with first.measure():
            client.rotate_secret(
                SecretId=SECRET_NAME,
                RotationLambdaARN=arn,
                RotationRules={"AutomaticallyAfterDays": 1},
            )
        initial = len(world.history.events("RotationSucceeded"))
        for year in range(1, years + 1):
            rows.append(_simulate_year(world, handler, year))
        traced_peaks = [r["traced_peak_bytes"] for r in rows if r["traced_peak_bytes"] is not None]
        summary["tracemalloc_peak_bytes"] = max(traced_peaks) if traced_peaks else None
        tracemalloc.stop()
        summary.update(
            # The simulation only: the memory measurements between the years are left out.
            wall_s=first.samples[0].wall + sum(r["wall_s"] for r in rows),
            cpu_s=first.samples[0].cpu + sum(r["cpu_s"] for r in rows),
            rotations=initial + sum(r["rotations"] for r in rows),
            rotations_counted_by="RotationSucceeded events"
            if all(r["rotation_succeeded_events"] is not None for r in rows)
            else "finishSecret steps that returned (the history dropped events)",
            finish_steps=handler.finished,
            failed=sum(r["failed"] for r in rows),
            history_dropped=world.history.dropped,
        )
        _rotation.check_database(client, "rotation-testkit", rotator.name)
        if profile_days:
            profile = cProfile.Profile()
            profile.enable()
            world.clock.advance(days=profile_days)
            profile.disable()
            print(f"\ncProfile of {profile_days} more simulated days, top 25 by own time:")
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    summary["peak_rss_bytes"] = resident_set_bytes()[1]
    return rows, summary


def _simulate_year(world: World, handler: FinishCounter, year: int) -> dict[str, Any]:
    year_start = world.clock.now()
    finished_before = handler.finished
    timer = Timer()
    with timer.measure():
        world.clock.advance(days=DAYS_PER_YEAR)
    succeeded = [e for e in world.history.events("RotationSucceeded") if e.time > year_start]
    failed = [e for e in world.history.events("RotationFailed") if e.time > year_start]
    events = list(world.history)
    secret = world.find_secret(SECRET_NAME)
    assert secret is not None
    finish_steps = handler.finished - finished_before
    # Counting in the history is exact while a year's events fit in it (history_limit).
    exact = bool(events) and events[0].time <= year_start
    del events
    gc.collect()
    # Read the process's memory before walking the state: the walk allocates.
    traced = tracemalloc.get_traced_memory() if tracemalloc.is_tracing() else None
    rss = resident_set_bytes()[0]
    seen: set[int] = set()
    row: dict[str, Any] = {
        "year": year,
        "wall_s": timer.samples[0].wall,
        "cpu_s": timer.samples[0].cpu,
        "rotations": len(succeeded) if exact else finish_steps,
        "rotation_succeeded_events": len(succeeded) if exact else None,
        "finish_steps": finish_steps,
        "failed": len(failed),
        "versions": len(secret.versions),
        "history_events": len(world.history),
        "invocations_kept": len(world.lambdas.invocations()),
        "history_bytes": log_bytes(list(world.history), seen),
        "invocations_bytes": log_bytes(world.lambdas.invocations(), seen),
        "versions_bytes": retained_bytes(secret.versions, seen),
        "rss_bytes": rss,
        "traced_bytes": traced[0] if traced else None,
        "traced_peak_bytes": traced[1] if traced else None,
    }
    del seen
    gc.collect()
    if traced:
        tracemalloc.reset_peak()  # the next year's peak must not include the walk
    print(
        f"  year {year:2d}: {row['rotations']} rotations in {row['wall_s']:.1f} s, "
        f"{row['versions']} versions, {row['history_events']} events kept",
        flush=True,
    )
    return row


# --- plain moto ---------------------------------------------------------------------------------


def moto_days(rotator: Rotator, days: int) -> dict[str, Any]:
    _rotation.reset_database()
    timer = Timer()
    with freeze_time(START) as frozen, _rotation.lambda_environment(), mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arn = _rotation.moto_setup(client)
        for _ in range(days):
            frozen.tick(timedelta(days=1))
            with timer.measure():
                hand_rotation(client, arn, rotator.handler)
        _rotation.check_database(client, "moto", rotator.name)
        versions = len(
            client.list_secret_version_ids(SecretId=arn, IncludeDeprecated=True)["Versions"]
        )
    walls, cpus = timer.walls(), timer.cpus()
    quarter = max(1, days // 4)
    return {
        "rotations": days,
        "wall_s": sum(walls),
        "cpu_s": sum(timer.cpus()),
        "per_rotation_median_s": median(walls),
        "per_rotation_mean_s": sum(walls) / days,
        # CPU time: a trend is visible through other processes' noise.
        "per_rotation_cpu_first_quarter_median_s": median(cpus[:quarter]),
        "per_rotation_cpu_last_quarter_median_s": median(cpus[-quarter:]),
        "versions_kept": versions,
    }


# --- report -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = _common.parser(__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, help="simulated years (default 10; 1 with --quick)")
    parser.add_argument(
        "--moto-days", type=int, help="hand-driven daily rotations on moto (default 365)"
    )
    parser.add_argument(
        "--history-limit", type=int, help="the world's history_limit (default: the kit's default)"
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="trace allocations (about 5x slower)"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="DAYS", help="profile DAYS more days at the end"
    )
    parser.add_argument(
        "--rotator", choices=sorted(_rotation.ROTATORS), default="minimal", help="default: minimal"
    )
    args = parser.parse_args(argv)
    rotator = _rotation.ROTATORS[args.rotator]()
    years = args.years or (1 if args.quick else 10)
    moto_rotations = args.moto_days or (100 if args.quick else DAYS_PER_YEAR)
    config = KitConfig(clock_start=START)
    if args.history_limit is not None:
        config = config.updated(history_limit=args.history_limit)
    _common.print_header(NAME, args)
    print(f"history_limit={config.history_limit}, version_retention={config.version_retention}")
    _common.hermetic_aws_environment()

    print(f"rotator: {rotator.description}")
    print(f"\nrotation-testkit: {years} simulated year(s) of daily rotation")
    rows, kit = kit_years(rotator, years, config, args.tracemalloc, args.profile)
    print(f"plain moto: {moto_rotations} hand-driven daily rotations under freeze_time")
    moto = moto_days(rotator, moto_rotations)

    print_table(
        f"rotation-testkit, {years} year(s) of daily rotation, year by year",
        [
            "year",
            "rotations",
            "wall",
            "ms/rot.",
            "cpu ms/rot.",
            "versions",
            "events",
            "history",
            "inv. log",
            "versions",
            "RSS",
            "traced",
        ],
        [
            [
                r["year"],
                r["rotations"],
                f"{r['wall_s']:.1f} s",
                f"{r['wall_s'] / max(1, r['rotations']) * 1000:.1f}",
                f"{r['cpu_s'] / max(1, r['rotations']) * 1000:.1f}",
                r["versions"],
                r["history_events"],
                mib(r["history_bytes"]),
                mib(r["invocations_bytes"]),
                mib(r["versions_bytes"]),
                mib(r["rss_bytes"]),
                mib(r["traced_bytes"]),
            ]
            for r in rows
        ],
    )
    kit_per_rotation = kit["wall_s"] / kit["rotations"]
    kit_cpu_per_rotation = kit["cpu_s"] / kit["rotations"]
    moto_per_rotation = moto["per_rotation_mean_s"]
    moto_cpu_per_rotation = moto["cpu_s"] / moto["rotations"]
    ratios = {
        "per_rotation_kit_over_moto_wall": ratio(kit_per_rotation, moto_per_rotation),
        "per_rotation_kit_over_moto_cpu": ratio(kit_cpu_per_rotation, moto_cpu_per_rotation),
    }
    first, last = rows[0], rows[-1]
    memory_rows: list[list[object]] = []
    for label, row in (("year 1", first), (f"year {last['year']}", last)):
        if row is last and len(rows) == 1:
            break
        memory_rows.append([f"state kept after {label}", mib(_state(row)), ""])
        memory_rows.append([f"tracemalloc current after {label}", mib(row["traced_bytes"]), ""])
    memory_rows.append(["tracemalloc peak", mib(kit["tracemalloc_peak_bytes"]), ""])
    memory_rows.append(["peak RSS (whole process)", mib(kit["peak_rss_bytes"]), ""])
    print_table(
        "Summary",
        ["", "rotation-testkit", "plain moto"],
        [
            ["rotations", kit["rotations"], moto["rotations"]],
            ["wall time", f"{kit['wall_s']:.1f} s", f"{moto['wall_s']:.1f} s"],
            ["per rotation (mean)", ms(kit_per_rotation), ms(moto_per_rotation)],
            ["per rotation, cpu", ms(kit_cpu_per_rotation), ms(moto_cpu_per_rotation)],
            [
                "cpu per rotation, early / late (*)",
                f"{ms(first['cpu_s'] / max(1, first['rotations']))} / "
                f"{ms(last['cpu_s'] / max(1, last['rotations']))}",
                f"{ms(moto['per_rotation_cpu_first_quarter_median_s'])} / "
                f"{ms(moto['per_rotation_cpu_last_quarter_median_s'])}",
            ],
            [
                f"{years * DAYS_PER_YEAR} rotations (moto extrapolated)",
                f"{kit['wall_s']:.1f} s",
                f"{moto_per_rotation * years * DAYS_PER_YEAR:.1f} s",
            ],
            ["versions kept at the end", last["versions"], moto["versions_kept"]],
            ["RotationFailed events", kit["failed"], ""],
            *memory_rows,
        ],
    )
    print(
        "(*) rotation-testkit: mean of the first / last simulated year; "
        "moto: median of the first / last quarter of its rotations"
    )
    print(
        f"ratio kit/moto per rotation: wall {ratios['per_rotation_kit_over_moto_wall']:.2f}, "
        f"cpu {ratios['per_rotation_kit_over_moto_cpu']:.2f}"
    )
    print(f"rotations counted by: {kit['rotations_counted_by']}")
    if args.tracemalloc:
        print("note: tracemalloc slowed the kit's run about 5x; its times and ratios are distorted")
    if kit["finish_steps"] != kit["rotations"]:
        print(f"warning: {kit['finish_steps']} finishSecret steps for {kit['rotations']} rotations")
    print(f"load average at end: {_common.load_average()}")
    _common.write_json(
        args.json,
        NAME,
        args,
        {"rotation_testkit": {"summary": kit, "years": rows}, "moto": moto, "ratios": ratios},
    )
    return 0


def _state(row: dict[str, Any]) -> int:
    return int(row["history_bytes"] + row["invocations_bytes"] + row["versions_bytes"])


if __name__ == "__main__":
    raise SystemExit(main())
