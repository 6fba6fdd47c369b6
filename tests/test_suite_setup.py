"""How the project's own suite runs: in parallel by default, in random order, as README says."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_suite_runs_in_parallel_by_default_and_in_random_order() -> None:
    project = _pyproject()
    options = shlex.split(project["tool"]["pytest"]["ini_options"]["addopts"])
    assert options[options.index("-n") + 1] == "auto"
    dev = " ".join(project["project"]["optional-dependencies"]["dev"])
    assert "pytest-xdist" in dev
    assert "pytest-randomly" in dev
