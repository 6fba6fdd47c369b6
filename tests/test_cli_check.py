"""`rotation-testkit check`: exit codes, output, options, JUnit XML, and the installed commands."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import rotators
from cli_helpers import (  # noqa: F401 (a fixture)
    RESULT_LINE,
    ROOT,
    SUMMARY_LINE,
    check,
    from_the_repository,
    statuses,
    summary,
)
from rotation_testkit.cli import main
from rotation_testkit.contract import CHECK_NAMES

EXAMPLE = "examples/password_rotator/rotator.py:lambda_handler"
EXAMPLE_SETUP = "examples/password_rotator/toy_database.py:setup"
EXAMPLE_PROBE = "examples/password_rotator/toy_database.py:probe"
BUGGY = "tests/buggy_contract_rotators.py"
PROTECTED_ADAPTERS = ["--setup", f"{BUGGY}:setup", "--probe", f"{BUGGY}:probe"]
FAST = ["--only", "one-rotation"]


pytestmark = pytest.mark.usefixtures("from_the_repository")


def result_lines(out: str) -> dict[str, str]:
    """Check name -> PASS or FAIL, from the result lines."""
    return {name: mark for name, mark in statuses(out).items() if mark in ("PASS", "FAIL")}


# --- exit 0 and exit 1 ----------------------------------------------------------------------------


def test_the_example_rotator_passes_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, EXAMPLE, "--setup", EXAMPLE_SETUP, "--probe", EXAMPLE_PROBE)

    assert code == 0, out
    assert err == ""
    assert out.splitlines()[0] == f"rotation-testkit check {EXAMPLE}: {len(CHECK_NAMES)} check(s)"
    assert result_lines(out) == dict.fromkeys(CHECK_NAMES, "PASS")
    assert summary(out) == f"{len(CHECK_NAMES)} passed, 0 failed"


def test_each_line_counts_names_judges_and_times_its_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys,
        "tests/rotators.py:never_finishes",
        *PROTECTED_ADAPTERS,
        "--only",
        "one-rotation",
        "--only",
        "rotate-immediately-false",
    )

    assert code == 1
    lines = out.splitlines()
    matches = [RESULT_LINE.match(line) for line in lines]
    shown = [(m["number"], m["total"], m["mark"], m["name"]) for m in matches if m]
    assert shown == [
        ("1", "2", "FAIL", "one-rotation"),
        ("2", "2", "PASS", "rotate-immediately-false"),
    ]
    # The reasons of a failure sit under its line, past the counter.
    failing = next(i for i, line in enumerate(lines) if "FAIL  one-rotation" in line)
    assert lines[failing + 1].startswith(" " * len("[1/2] FAIL  "))
    assert SUMMARY_LINE.match(lines[-1]), lines[-1]


def test_a_buggy_rotator_exits_1_with_a_line_per_check_and_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = check(
        capsys,
        "tests/rotators.py:regenerates_on_retry",
        *PROTECTED_ADAPTERS,
        "--only",
        "one-rotation",
        "--only",
        "fail-setSecret-then-retry",
        "--only",
        "rotate-immediately-false",
    )

    assert code == 1
    assert err == ""
    assert result_lines(out) == {
        "one-rotation": "PASS",
        "fail-setSecret-then-retry": "FAIL",
        "rotate-immediately-false": "PASS",
    }
    lines = out.splitlines()
    failing = next(i for i, line in enumerate(lines) if "FAIL  fail-setSecret-then-retry" in line)
    why = lines[failing + 1 :]
    assert why[0].strip() == (
        "after fail_step('setSecret') and the service's retry: AWSCURRENT did not move to a new "
        "version."
    )
    assert "get_secret_value(VersionId=token, VersionStage='AWSPENDING')" in why[1]
    assert summary(out) == "2 passed, 1 failed"


def test_every_check_failing_without_setup_suggests_setup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(capsys, "tests/rotators.py:correct", *FAST)

    assert code == 1
    assert "no --setup was given" in out
    assert "--setup MODULE:ATTR" in out


# --- exit 2: usage and import errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["no_such_module_for_rotation:lambda_handler"],
            "cannot import module 'no_such_module_for_rotation': No module named "
            "'no_such_module_for_rotation'. Is it installed, or on PYTHONPATH?",
            id="missing-module",
        ),
        pytest.param(
            ["tests/no_such_rotator.py:lambda_handler"],
            "no such file: ",
            id="missing-file",
        ),
        pytest.param(
            ["tests/rotators.py:no_such_handler"],
            "'tests/rotators.py' has no attribute 'no_such_handler': check the name after the colon.",
            id="missing-attribute",
        ),
        pytest.param(
            ["tests/rotators.py:PROTECTED"],
            "'tests/rotators.py:PROTECTED' names a dict, not a function.",
            id="not-callable",
        ),
        pytest.param(
            ["tests/rotators.py"],
            "expected 'module:function' or 'path/to/file.py:function', got 'tests/rotators.py'.",
            id="no-colon",
        ),
        pytest.param(
            ["tests/rotators.py:correct", "--setup", f"{BUGGY}:no_such_setup"],
            "has no attribute 'no_such_setup'",
            id="missing-setup",
        ),
        pytest.param(
            ["tests/rotators.py:correct", "--secret", "{username: app}"],
            "--secret must be JSON: an object such as",
            id="invalid-json",
        ),
        pytest.param(
            ["tests/rotators.py:correct", "--secret", "42"],
            "--secret must be a JSON object or a JSON string, got int.",
            id="json-number",
        ),
        pytest.param(
            ["tests/rotators.py:correct", "--env", "DB_ENGINE"],
            "--env expects KEY=VALUE, got 'DB_ENGINE'.",
            id="env-without-equals",
        ),
        pytest.param(
            ["tests/rotators.py:correct", "--env", "=toy"],
            "--env expects KEY=VALUE, got '=toy'.",
            id="env-without-key",
        ),
        pytest.param(
            ["tests/rotators.py:correct", "--only", "one-rotation", "--only", "two-rotations"],
            "unknown check(s) two-rotations; known checks: one-rotation, several-rotations",
            id="unknown-check",
        ),
        pytest.param(
            ["tests/rotators.py:correct", "--timeout", "0"],
            "--timeout must be within 1..900 seconds, got 0.0.",
            id="timeout-zero",
        ),
        pytest.param(
            ["tests/rotators.py:correct", "--timeout", "901"],
            "--timeout must be within 1..900 seconds, got 901.0.",
            id="timeout-too-long",
        ),
    ],
)
def test_a_usage_or_import_error_exits_2_and_says_what_to_fix(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = check(capsys, *args)

    assert code == 2
    assert out == "", "no check may run"
    assert err.startswith("rotation-testkit check: ")
    assert message in err


def test_an_import_error_inside_the_target_module_is_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken_rotator.py"
    broken.write_text("import no_such_dependency_of_the_rotator\n")

    code, _, err = check(capsys, f"{broken}:lambda_handler")

    assert code == 2
    assert "importing" in err
    assert "ModuleNotFoundError: No module named 'no_such_dependency_of_the_rotator'" in err


def test_a_missing_target_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys)

    assert code == 2
    assert out == ""
    assert "usage: rotation-testkit check" in err
    assert "TARGET is required" in err


def test_a_non_numeric_timeout_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, "tests/rotators.py:correct", "--timeout", "soon")

    assert code == 2
    assert "argument --timeout: invalid float value: 'soon'" in err


def test_no_command_prints_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "check" in capsys.readouterr().out


# --- the options ------------------------------------------------------------------------------------


def test_list_prints_every_check_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--list", "unused:target"])
    out = capsys.readouterr().out

    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == list(CHECK_NAMES)
    assert "One rotation succeeds and leaves a valid state." in out


def test_a_plain_string_secret(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, f"{BUGGY}:plain_token_rotator", "--secret", '"plain-token"', *FAST)

    assert code == 0, out


def test_the_default_secret_is_a_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    # The plain-token rotator refuses JSON, so without --secret it fails at createSecret.
    code, out, _ = check(capsys, f"{BUGGY}:plain_token_rotator", *FAST)

    assert code == 1
    assert "plain_token_rotator rotates a plain-string secret, not JSON" in out


def test_a_json_secret_reaches_setup_as_a_dict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(
        capsys,
        "tests/rotators.py:correct",
        *PROTECTED_ADAPTERS,
        "--secret",
        '{"username": "reporting", "password": "first-password"}',
        *FAST,
    )

    assert code == 0, out
    assert list(rotators.PROTECTED) == ["reporting"]


def test_env_reaches_the_function_environment(capsys: pytest.CaptureFixture[str]) -> None:
    target = f"{BUGGY}:needs_env"

    without, out, _ = check(capsys, target, *PROTECTED_ADAPTERS, *FAST)
    assert without == 1
    assert "DB_ENGINE must be 'toy', got None" in out

    code, out, _ = check(
        capsys, target, *PROTECTED_ADAPTERS, "--env", "DB_ENGINE=toy", "--env", "X=a=b", *FAST
    )
    assert code == 0, out
    assert "DB_ENGINE" not in os.environ, "the function's environment must not leak"


def test_timeout_sets_the_function_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    target = f"{BUGGY}:slow_set_secret"  # setSecret sleeps 10 s on the fake clock

    code, out, _ = check(capsys, target, *PROTECTED_ADAPTERS, "--timeout", "5", *FAST)
    assert code == 1
    assert (
        "failed at setSecret (attempts 1-3): TaskTimedOut: Task timed out after 5.00 seconds" in out
    )

    code, out, _ = check(capsys, target, *PROTECTED_ADAPTERS, "--timeout", "15", *FAST)
    assert code == 0, out


def test_junit_xml_has_one_testcase_per_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"

    code, _, _ = check(
        capsys,
        "tests/rotators.py:forgets_remove_from_version",
        *PROTECTED_ADAPTERS,
        "--only",
        "one-rotation",
        "--only",
        "current-token-noop",
        "--only",
        "rotate-immediately-false",
        "--junit-xml",
        str(report),
    )

    assert code == 1
    suite = ET.parse(report).getroot()
    assert suite.tag == "testsuite"
    assert (
        suite.get("name") == "rotation-testkit check tests/rotators.py:forgets_remove_from_version"
    )
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    assert float(suite.get("time", "-1")) >= 0
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["one-rotation", "current-token-noop", "rotate-immediately-false"]
    assert all(case.get("classname") == "rotation_testkit.contract" for case in cases.values())
    failures = suite.findall("testcase/failure")
    assert len(failures) == 2  # a rotator that cannot rotate cannot be checked for no-op steps
    failure = cases["one-rotation"].find("failure")
    assert failure is not None
    assert failure.get("message") == "after one rotation: AWSCURRENT did not move to a new version."
    assert "RemoveFromVersionId" in (failure.text or "")
    assert "finishSecret" in (failure.text or "")  # the timeline of what happened
    assert cases["rotate-immediately-false"].find("failure") is None


def test_junit_xml_of_a_passing_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "report.xml"

    code, _, _ = check(
        capsys,
        EXAMPLE,
        "--setup",
        EXAMPLE_SETUP,
        "--probe",
        EXAMPLE_PROBE,
        *FAST,
        "--junit-xml",
        str(report),
    )

    assert code == 0
    suite = ET.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
    assert suite.find("testcase/failure") is None


def test_junit_xml_creates_the_report_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # CI jobs write to paths such as reports/contract.xml before reports/ exists (pytest's own
    # --junit-xml creates it): the run must not end in a traceback after every check has run.
    report = tmp_path / "reports" / "contract.xml"

    code, _, err = check(
        capsys, f"{BUGGY}:plain_token_rotator", "--secret", '"t"', *FAST, "--junit-xml", str(report)
    )

    assert (code, err) == (0, "")
    assert ET.parse(report).getroot().get("tests") == "1"


def test_the_target_is_imported_in_a_hermetic_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client built when the module is imported must get the fake credentials and reach the
    # in-memory service, even with a profile in the environment that does not exist here.
    path = rotators.write_import_time_rotator(tmp_path, "cli_import_time_rotator")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile-on-this-machine")
    monkeypatch.delitem(sys.modules, "cli_import_time_rotator", raising=False)

    code, out, _ = check(capsys, f"{path}:lambda_handler", *PROTECTED_ADAPTERS, *FAST)

    assert code == 0, out
    assert sys.modules["cli_import_time_rotator"].IMPORTED
    assert os.environ["AWS_PROFILE"] == "no-such-profile-on-this-machine", "restored afterwards"


def test_a_module_target_on_the_path(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "tests"))

    code, out, _ = check(capsys, "rotators:correct", *PROTECTED_ADAPTERS, *FAST)

    assert code == 0, out


# --- the installed commands -------------------------------------------------------------------------


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_rotation_testkit_command() -> None:
    script = Path(sys.executable).with_name("rotation-testkit")
    assert script.exists(), f"{script} is not installed: pip install -e ."

    done = _run(str(script), "check", EXAMPLE, "--setup", EXAMPLE_SETUP, "--probe", EXAMPLE_PROBE)

    assert done.returncode == 0, done.stdout + done.stderr
    assert summary(done.stdout) == f"{len(CHECK_NAMES)} passed, 0 failed"


def test_python_dash_m_rotation_testkit() -> None:
    done = _run(
        sys.executable,
        "-m",
        "rotation_testkit",
        "check",
        "tests/rotators.py:never_finishes",
        *PROTECTED_ADAPTERS,
        *FAST,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  one-rotation" in done.stdout
    assert summary(done.stdout) == "0 passed, 1 failed"

    usage = _run(sys.executable, "-m", "rotation_testkit", "check", "tests/rotators.py:nope")
    assert usage.returncode == 2
    assert "has no attribute 'nope'" in usage.stderr


def test_the_target_is_imported_with_the_function_s_environment_set(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Lambda sets SECRETS_MANAGER_ENDPOINT (and the function's own variables) before it imports
    # the module, so a rotator may read them at import time.
    module = tmp_path / "reads_env_at_import.py"
    module.write_text(
        "import os\n"
        "ENDPOINT = os.environ['SECRETS_MANAGER_ENDPOINT']\n"
        "FLAVOUR = os.environ['ROTATOR_FLAVOUR']\n"
        "from rotators import correct\n"
        "def lambda_handler(event, context):\n"
        "    return correct(event, context)\n"
    )

    code, out, err = check(
        capsys,
        f"{module}:lambda_handler",
        "--env",
        "ROTATOR_FLAVOUR=toy",
        "--setup",
        "tests/buggy_contract_rotators.py:setup",
        "--only",
        "one-rotation",
    )

    assert err == ""
    assert code == 0, out
    assert "PASS  one-rotation" in out


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.004, "0.00 s"), (8.123, "8.12 s"), (12.34, "12.3 s"), (185.2, "3 min 05 s")],
)
def test_durations_read_as_people_read_them(seconds: float, shown: str) -> None:
    from rotation_testkit.contract.command import duration

    assert duration(seconds) == shown
