"""Helpers shared by the benchmark scripts: clocks, statistics, tables, JSON output.

Not a benchmark itself. The scripts import it as ``_common`` (Python puts the script's directory
first on ``sys.path``), so they stay runnable as ``.venv/bin/python benchmarks/NAME.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DIR = ROOT / "examples" / "password_rotator"
REGION = "us-east-1"


def _bind(clock: Callable[[], float]) -> Callable[[], float]:
    # freezegun replaces every module attribute that *is* time.perf_counter (and friends) while
    # time is frozen; a closure over the real function is out of its reach, so these clocks keep
    # measuring real time inside the kit's fake clock and under freeze_time.
    def read() -> float:
        return clock()

    return read


#: Wall-clock seconds (what a developer waits for).
wall = _bind(time.perf_counter)
#: CPU seconds of this process (less disturbed by other processes on a shared machine).
cpu = _bind(time.process_time)


@dataclass
class Sample:
    """Wall and CPU seconds of one measured piece of work."""

    wall: float
    cpu: float


@dataclass
class Timer:
    """Collects samples; ``with timer.measure():`` times one piece of work."""

    samples: list[Sample] = field(default_factory=list)

    @contextmanager
    def measure(self) -> Iterator[None]:
        w0, c0 = wall(), cpu()
        try:
            yield
        finally:
            self.samples.append(Sample(wall() - w0, cpu() - c0))

    def walls(self) -> list[float]:
        return [s.wall for s in self.samples]

    def cpus(self) -> list[float]:
        return [s.cpu for s in self.samples]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p90(values: Sequence[float]) -> float:
    """The 90th percentile (linear interpolation between the closest ranks)."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain fixed-width table; the first column is left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        parts = [row[0].ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(parts)

    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="fewer repetitions: a smoke run")
    p.add_argument("--json", metavar="PATH", type=Path, help="also write the results as JSON")
    return p


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    """What the numbers depend on: versions, machine, and how busy it was."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "packages": {
            name: _version(name)
            for name in ("rotation-testkit", "moto", "boto3", "botocore", "freezegun", "pytest")
        },
    }


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_header(name: str, args: argparse.Namespace) -> None:
    env = environment()
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    mode = "quick" if getattr(args, "quick", False) else "default"
    options = " ".join(
        f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}")
        for key, value in vars(args).items()
        if key not in ("quick", "json") and value not in (None, False, 0)
    )
    if options:
        mode += f", {options}"
    print(f"{name} ({mode} run) - Python {env['python']}, {env['cpu_count']} CPUs")
    print(packages)
    print(f"load average at start: {load_average()}")


def write_json(
    path: Path | None, name: str, args: argparse.Namespace, data: dict[str, Any]
) -> None:
    if path is None:
        return
    parameters = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    document = {
        "benchmark": name,
        "parameters": parameters,
        "environment": environment(),
        **data,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    print(f"\nJSON written to {path}")


def use_example_rotator() -> None:
    """Make ``rotator`` and ``toy_database`` (examples/password_rotator) importable."""
    if str(EXAMPLE_DIR) not in sys.path:
        sys.path.insert(0, str(EXAMPLE_DIR))


def hermetic_aws_environment() -> None:
    """Drop the developer's AWS settings so plain moto measures the same thing on every machine.

    (rotation-testkit does this by itself; plain moto would otherwise read profiles and files.)
    """
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[key]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@contextmanager
def counting_api_calls() -> Iterator[list[str]]:
    """Record the name of every boto3 API call made in the block (by any client)."""
    import botocore.client

    calls: list[str] = []
    base: Any = botocore.client.BaseClient
    original = base._make_api_call

    def counted(self: Any, operation_name: str, api_params: Any) -> Any:
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    base._make_api_call = counted
    try:
        yield calls
    finally:
        base._make_api_call = original
