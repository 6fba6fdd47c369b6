"""`rotation-testkit check --command CMD`: the contract checks against a function run out of process."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from cli_helpers import RESULT_LINE, summary
from rotation_testkit.cli import main

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "runtime_fixtures"
PYTHON_EXAMPLE = ROOT / "examples" / "other_languages" / "python"
MINI = f"{shlex.quote(sys.executable)} {shlex.quote(str(FIXTURES / 'mini_runtime.py'))}"


def test_a_command_passes_the_checks(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "check",
            "--command",
            f"{MINI} rotator.lambda_handler",
            "--cwd",
            str(PYTHON_EXAMPLE),
            "--only",
            "one-rotation",
            "--only",
            "crash-after-setSecret-then-retry",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "rotation-testkit check --command" in out
    # Each line counts, names, judges and times its check; the summary gives the total time.
    lines = [RESULT_LINE.match(line) for line in out.splitlines()]
    shown = [(m["number"], m["total"], m["mark"], m["name"]) for m in lines if m]
    assert shown == [
        ("1", "2", "PASS", "one-rotation"),
        ("2", "2", "PASS", "crash-after-setSecret-then-retry"),
    ]
    assert summary(out) == "2 passed, 0 failed"


def test_an_init_error_is_reported_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "check",
            "--command",
            f"{MINI} broken_at_import.handler",
            "--cwd",
            str(FIXTURES),
            "--only",
            "one-rotation",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  one-rotation" in out
    assert "note: the function failed to initialise (an init error" in out
    assert "the configuration file is missing" in out
    assert "no --setup was given" not in out  # a setup would not help a function that cannot load


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["check", "tests/rotators.py:rotate", "--command", "python -m awslambdaric m.h"],
            "either TARGET or --command, not both",
        ),
        (
            ["check", "--command", "no-such-runtime-program-xyz index.handler"],
            "cannot run 'no-such-runtime-program-xyz'",
        ),
        (
            ["check", "--command", "python -m awslambdaric m.h", "--cwd", "/no/such"],
            "does not exist",
        ),
        (["check", "--command", ""], "the command is empty"),
    ],
)
def test_a_bad_command_is_a_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_neither_target_nor_command_mentions_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "TARGET is required" in err
    assert "--command" in err
