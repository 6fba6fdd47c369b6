"""What the command-line tests share: running `rotation-testkit check` as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import rotators
from rotation_testkit.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def from_the_repository(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run as a user would, from the repository root with relative paths."""
    monkeypatch.chdir(ROOT)
    yield
    rotators.reset_protected()


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`rotation-testkit check ARGS...`: the exit code, standard output and standard error."""
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err
