"""Command-line values are checked as AWS would check them, with one line each, before anything
runs: ports, secret names, secret JSON (UTF-8, size, nesting)."""

from __future__ import annotations

import pytest

from rotation_testkit.cli import main

TARGET = "tests/rotators.py:correct"


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured.out
    assert "Traceback" not in captured.err
    assert captured.out == ""  # no check ran
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize("port", ["-1", "70000", "65536"])
def test_a_port_out_of_range_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], port: str
) -> None:
    line = one_line_error(capsys, ["serve", "--port", port])
    assert line == (
        f"rotation-testkit serve: --port must be within 1..65535 (or 0 for a free port), got {port}."
    )


@pytest.mark.parametrize("name", ["", "has space", "x" * 513, "semi;colon"])
def test_a_secret_name_aws_refuses_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    line = one_line_error(capsys, ["check", TARGET, "--secret-name", name])
    assert "--secret-name must be 1 to 512 characters" in line


def test_an_extra_secret_name_aws_refuses_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = one_line_error(capsys, ["check", TARGET, "--extra-secret", 'a b={"k": "v"}'])
    assert "--extra-secret NAME must be 1 to 512 characters" in line


@pytest.mark.parametrize(
    "secret",
    ['"\\ud800"', '{"password": "\\udfff"}', '{"\\ud800": "v"}', "\udcff"],
    ids=["escaped", "escaped-in-object", "escaped-key", "undecodable-argument"],
)
def test_a_lone_surrogate_in_the_secret_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    line = one_line_error(capsys, ["check", TARGET, "--secret", secret])
    assert "UTF-8" in line
    assert "\\udcff" not in line  # the value itself is not quoted


def test_deeply_nested_secret_json_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = one_line_error(capsys, ["check", TARGET, "--secret", "[" * 20000 + "]" * 20000])
    assert "nests 20000 levels deep; at most 64 are accepted" in line


def test_a_secret_past_awss_quota_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    line = one_line_error(capsys, ["check", TARGET, "--secret", '"' + "x" * 70000 + '"'])
    assert "AWS stores at most 65536 bytes" in line


def test_nesting_inside_strings_does_not_count(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "check",
            TARGET,
            "--only",
            "one-rotation",
            "--secret",
            '{"username": "app", "password": "' + "[{" * 100 + '\\"x"}',
        ]
    )
    captured = capsys.readouterr()
    assert code != 2, captured.err  # accepted: the check ran
    assert "1 check(s)" in captured.out


def test_serve_with_a_missing_program_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line = one_line_error(capsys, ["serve", "--command", "no-such-runtime-program-xyz h.h"])
    assert "cannot run 'no-such-runtime-program-xyz'" in line
