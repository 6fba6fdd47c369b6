"""What the command-line tests share: running `rotation-testkit check` as a user would."""

from __future__ import annotations

import re
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


#: One line per check: ``[ 3/20] PASS  one-rotation  (0.42 s)``.
RESULT_LINE = re.compile(
    r"^\[ *(?P<number>\d+)/(?P<total>\d+)\] (?P<mark>PASS|FAIL|N/A|ERROR) +(?P<name>\S+)"
    r"  \((?P<duration>\d+(\.\d+)? s|\d+ min \d\d s)\)$"
)
#: The last line: ``19 passed, 1 failed in 3.42 s`` (", 1 not applicable" when any).
SUMMARY_LINE = re.compile(
    r"^(?P<counts>\d+ passed, \d+ failed(, \d+ not applicable)?) in \S+ (s|min \d\d s)$"
)


def statuses(out: str) -> dict[str, str]:
    """Check name -> PASS, FAIL, N/A or ERROR, from the result lines."""
    found = (RESULT_LINE.match(line) for line in out.splitlines())
    return {match["name"]: match["mark"] for match in found if match}


def summary(out: str) -> str:
    """The counts of the summary line (the last one), its total time checked and left off."""
    last = out.splitlines()[-1]
    match = SUMMARY_LINE.match(last)
    assert match is not None, f"not a summary line: {last!r}"
    return match["counts"]
