"""Contract checks for realistic set-ups: extra secrets, strategies, testSecret, harness errors."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import buggy_contract_rotators as buggy
import multi_user_rotators as multi
import rotators
from cli_helpers import ROOT, check, from_the_repository, statuses, summary  # noqa: F401
from rotation_testkit.contract import CHECK_NAMES, RotatorUnderTest, run_checks

MULTI = "tests/multi_user_rotators.py"
MULTI_ARGS = [
    "--secret",
    json.dumps(multi.INITIAL),
    "--extra-secret",
    f"master={json.dumps(multi.MASTER)}",
    "--setup",
    f"{MULTI}:setup",
    "--probe",
    f"{MULTI}:probe",
]
ONE_AND_SEVERAL = ["--only", "one-rotation", "--only", "several-rotations"]


pytestmark = pytest.mark.usefixtures("from_the_repository")


# --- extra secrets, {arn:NAME}, the secret's name ---------------------------------------------------


def test_an_extra_secret_is_created_and_arn_references_are_replaced() -> None:
    seen: list[dict[str, str]] = []

    def setup(secret: dict[str, str]) -> None:
        seen.append(secret)
        multi.setup(secret)

    rotator = RotatorUnderTest(
        handler=multi.alternating,
        initial_secret=dict(multi.INITIAL),
        extra_secrets={"master": dict(multi.MASTER)},
        setup=setup,
        probe=multi.probe,
    )
    [result] = run_checks(rotator, ["one-rotation"])

    assert result.passed, result.message
    masterarn = seen[0]["masterarn"]
    assert masterarn.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:master-")
    assert "{arn:" not in masterarn


def test_the_cli_runs_a_multi_user_rotator_with_its_master_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys, f"{MULTI}:alternating", *MULTI_ARGS, "--strategy", "alternating-users"
    )

    assert code == 0, out
    assert set(statuses(out).values()) == {"PASS"}
    assert len(statuses(out)) == len(CHECK_NAMES)


def test_an_unknown_arn_reference_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(
        capsys, f"{MULTI}:alternating", "--secret", json.dumps(multi.INITIAL), *ONE_AND_SEVERAL
    )

    assert code == 2
    assert out == ""
    assert "refers to {arn:master}, but no such secret is given" in err
    assert "--extra-secret NAME=JSON" in err


def test_circular_arn_references_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(
        capsys,
        "tests/rotators.py:correct",
        "--extra-secret",
        'a={"other": "{arn:b}"}',
        "--extra-secret",
        'b={"other": "{arn:a}"}',
    )

    assert code == 2
    assert "in a circle (a -> b -> a)" in err


def test_a_malformed_extra_secret_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, "tests/rotators.py:correct", "--extra-secret", "master")

    assert code == 2
    assert "--extra-secret expects NAME=JSON, got 'master'" in err


def test_the_secret_name_is_the_one_given(capsys: pytest.CaptureFixture[str]) -> None:
    names: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        names.append(event["SecretId"].split(":")[-1].rsplit("-", 1)[0])
        rotators.correct(event, context)

    rotator = RotatorUnderTest(
        handler=handler,
        initial_secret={"username": "app", "password": "pw"},
        setup=buggy.setup,
        probe=buggy.probe,
        secret_name="prod/billing/db",
    )
    [result] = run_checks(rotator, ["one-rotation"])

    assert result.passed, result.message
    assert set(names) == {"prod/billing/db"}


def test_setup_may_return_the_initial_secret_to_use() -> None:
    """e.g. an access key id the protected service generated during setup."""
    probed: list[dict[str, str]] = []

    def setup(secret: dict[str, str]) -> dict[str, str]:
        rotators.reset_protected({"generated-user": "generated-password"})
        return {"username": "generated-user", "password": "generated-password"}

    def probe(secret: dict[str, str]) -> bool:
        probed.append(secret)
        return rotators.login(secret["username"], secret["password"])

    rotator = RotatorUnderTest(handler=rotators.correct, setup=setup, probe=probe)
    [result] = run_checks(rotator, ["one-rotation"])

    assert result.passed, result.message
    assert probed[0] == {"username": "generated-user", "password": "generated-password"}
    assert all(value["username"] == "generated-user" for value in probed)


# --- strategies ---------------------------------------------------------------------------------


def test_alternating_users_catches_a_rotator_that_changes_the_user_in_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys,
        f"{MULTI}:changes_user_in_use",
        *MULTI_ARGS,
        "--strategy",
        "alternating-users",
        *ONE_AND_SEVERAL,
    )

    assert code == 1
    assert statuses(out) == {"one-rotation": "FAIL", "several-rotations": "FAIL"}
    assert "refused the AWSCURRENT credentials" in out
    assert "after the setSecret step" in out
    assert "must set the new password on the other user" in out


def test_alternating_users_requires_the_user_name_to_alternate() -> None:
    rotator = RotatorUnderTest(
        handler=multi.changes_user_in_use,
        initial_secret=dict(multi.INITIAL),
        extra_secrets={"master": dict(multi.MASTER)},
        setup=multi.setup,
        probe=None,  # without a probe only the user names can tell
        strategy="alternating-users",
    )
    [result] = run_checks(rotator, ["several-rotations"])

    assert result.status == "failed"
    assert "rotation 1 of 3 kept the user name 'app'" in result.message


def test_single_user_passes_the_same_rotator_and_reports_the_login_downtime(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(capsys, f"{MULTI}:changes_user_in_use", *MULTI_ARGS, *ONE_AND_SEVERAL)

    assert code == 0, out
    assert statuses(out) == {"one-rotation": "PASS", "several-rotations": "PASS"}
    assert (
        "info: login downtime (single-user): the protected service refused the AWSCURRENT "
        "credentials from the end of setSecret until the end of finishSecret" in out
    )


def test_an_alternating_rotator_has_no_login_downtime(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = check(capsys, f"{MULTI}:alternating", *MULTI_ARGS, "--only", "one-rotation")

    assert "info: AWSCURRENT worked after every step of the rotation: no login downtime." in out


def test_an_unknown_strategy_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="strategy must be one of single-user, alternating-users"):
        RotatorUnderTest(handler=rotators.correct, strategy="round-robin")  # type: ignore[arg-type]
    code, _, err = check(capsys, "tests/rotators.py:correct", "--strategy", "round-robin")
    assert code == 2
    assert "invalid choice: 'round-robin'" in err


# --- testSecret really tests ------------------------------------------------------------------------


def test_secret_tests_pending_catches_a_test_secret_that_reads_awscurrent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The gallery's rotators import the correct one they change (as their README says).
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "password_rotator"))
    code, out, _ = check(
        capsys,
        "examples/buggy_rotators/checks_format_not_login.py:lambda_handler",
        "--setup",
        "examples/password_rotator/toy_database.py:setup",
        "--probe",
        "examples/password_rotator/toy_database.py:probe",
        "--only",
        "test-secret-tests-pending",
        "--only",
        "one-rotation",
    )

    assert code == 1
    assert statuses(out) == {"one-rotation": "PASS", "test-secret-tests-pending": "FAIL"}
    assert "testSecret does not test them" in out
    assert "VersionStage='AWSPENDING'" in out


def test_secret_tests_pending_is_not_applicable_without_a_probe() -> None:
    rotator = RotatorUnderTest(handler=rotators.correct, setup=buggy.setup)
    [result] = run_checks(rotator, ["test-secret-tests-pending"])

    assert result.status == "not applicable"
    assert not result.passed, "not applicable never counts as passed"
    assert "needs a probe" in result.message


def test_secret_tests_pending_is_not_applicable_for_a_plain_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys,
        f"{buggy.__file__}:plain_token_rotator",
        "--secret",
        '"plain-token-0"',
        "--probe",
        "tests/test_contract_setups.py:any_string",
        "--only",
        "test-secret-tests-pending",
        "--only",
        "one-rotation",
    )

    assert code == 0, out
    assert statuses(out) == {"one-rotation": "PASS", "test-secret-tests-pending": "N/A"}
    assert "already accepts the pending secret without setSecret" in out
    assert summary(out) == "1 passed, 0 failed, 1 not applicable"


def any_string(secret: Any) -> bool:
    """A probe for a token with no service behind it."""
    return isinstance(secret, str)


# --- harness errors are not rotator bugs ------------------------------------------------------------


def failing_setup(secret: Any) -> None:
    raise ConnectionError("database unreachable")


def raising_probe(secret: Any) -> bool:
    raise KeyError("password")


def rejecting_probe(secret: Any) -> bool:
    return False


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--setup", "tests/test_contract_setups.py:failing_setup"],
            "the setup function test_contract_setups:failing_setup raised ConnectionError: "
            "database unreachable",
        ),
        (
            [
                "--setup",
                f"{buggy.__file__}:setup",
                "--probe",
                "tests/test_contract_setups.py:raising_probe",
            ],
            "the probe function test_contract_setups:raising_probe raised KeyError",
        ),
        (
            [
                "--setup",
                f"{buggy.__file__}:setup",
                "--probe",
                "tests/test_contract_setups.py:rejecting_probe",
            ],
            "rejects the initial secret right after setup",
        ),
    ],
    ids=["setup-raises", "probe-raises", "probe-rejects-initial"],
)
def test_a_harness_error_is_reported_once_with_exit_2(
    capsys: pytest.CaptureFixture[str], options: list[str], expected: str
) -> None:
    code, out, err = check(capsys, "tests/rotators.py:correct", *options)

    assert code == 2
    assert err.count("harness error") == 1
    assert "not a bug of the rotator" in err
    assert expected in err
    assert "FAIL" not in out, "no check blames the rotator"
    assert "Traceback" not in err + out


def test_a_probe_that_raises_during_a_check_is_a_harness_error() -> None:
    calls = []

    def probe(secret: dict[str, str]) -> bool:
        calls.append(secret)
        if len(calls) > 1:
            raise TimeoutError("the database did not answer")
        return buggy.probe(secret)

    rotator = RotatorUnderTest(handler=rotators.correct, setup=buggy.setup, probe=probe)
    [result] = run_checks(rotator, ["one-rotation"])

    assert result.status == "harness error"
    assert "raised TimeoutError: the database did not answer" in result.message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("raise RuntimeError('no config')\n", "RuntimeError: no config"),
        ("import sys\nsys.exit(3)\n", "called sys.exit(3)"),
        ("lambda_handler = 42\n", "names a int, not a function"),
    ],
    ids=["raises", "exits", "not-callable"],
)
@pytest.mark.parametrize("form", ["file", "module"])
def test_a_target_that_cannot_be_imported_is_one_clear_message(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    expected: str,
    form: str,
) -> None:
    module = f"broken_target_{form}_{abs(hash(source))}"
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    target = (
        f"{tmp_path / module}.py:lambda_handler" if form == "file" else f"{module}:lambda_handler"
    )

    code, out, err = check(capsys, target)

    assert code == 2
    assert out == ""
    assert expected in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# --- the JUnit report, odd errors, interruptions ------------------------------------------------


def test_a_junit_path_that_is_a_directory_is_refused_before_any_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = check(capsys, "tests/rotators.py:correct", "--junit-xml", str(tmp_path))

    assert code == 2
    assert out == ""
    assert "is a directory: give a file path" in err


def test_a_junit_path_under_a_file_is_refused_before_any_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "report"
    blocker.write_text("a file, not a folder")

    code, out, err = check(
        capsys, "tests/rotators.py:correct", "--junit-xml", str(blocker / "out.xml")
    )

    assert code == 2
    assert out == ""
    assert "cannot create its folder" in err


class Halt(BaseException):
    """Not an Exception: what a careless `raise BaseException` or a gevent kill looks like."""


def raises_base_exception(event: dict[str, Any], context: Any) -> None:
    raise Halt("stop everything")


def test_a_base_exception_fails_the_check_and_the_run_still_ends_properly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "junit.xml"
    code, out, _ = check(
        capsys,
        "tests/test_contract_setups.py:raises_base_exception",
        *ONE_AND_SEVERAL,
        "--junit-xml",
        str(report),
    )

    assert code == 1
    assert statuses(out) == {"one-rotation": "FAIL", "several-rotations": "FAIL"}
    assert "Halt: stop everything" in out
    assert summary(out) == "0 passed, 2 failed"
    assert ET.parse(report).getroot().get("failures") == "2"


def interrupts(event: dict[str, Any], context: Any) -> None:
    raise KeyboardInterrupt


def test_keyboard_interrupt_stops_the_run_with_a_partial_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(capsys, "tests/test_contract_setups.py:interrupts", *ONE_AND_SEVERAL)

    assert code == 130
    assert "interrupted after 0 of 2 check(s)" in out
    assert summary(out) == "0 passed, 0 failed"


def test_not_applicable_checks_are_skipped_in_junit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "junit.xml"
    check(
        capsys,
        "tests/rotators.py:correct",
        "--setup",
        f"{buggy.__file__}:setup",
        "--only",
        "test-secret-tests-pending",
        "--junit-xml",
        str(report),
    )

    root = ET.parse(report).getroot()
    assert root.get("skipped") == "1"
    skipped = root.find("testcase/skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("not applicable: needs a probe")


# --- output a person can read -----------------------------------------------------------------------


def test_list_aligns_the_summaries_in_one_column(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(capsys, "--list")

    assert code == 0
    lines = out.splitlines()
    starts = {len(line) - len(line.split(maxsplit=1)[1]) for line in lines}
    assert len(starts) == 1, lines
    assert len(lines) == len(CHECK_NAMES)


def not_implemented(event: dict[str, Any], context: Any) -> None:
    raise NotImplementedError("write your rotation steps here")


def test_no_setup_note_when_the_function_is_not_written_yet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(capsys, "tests/test_contract_setups.py:not_implemented", *ONE_AND_SEVERAL)

    assert code == 1
    assert "NotImplementedError" in out
    assert "no --setup was given" not in out


def test_the_setup_note_still_appears_when_it_is_the_likely_cause(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(capsys, "tests/rotators.py:correct", *ONE_AND_SEVERAL)

    assert code == 1
    assert "note: no --setup was given" in out


def _no_service(client: Any, arn: str, token: str) -> None:
    """setSecret and testSecret of a rotator with no protected service: nothing to do."""


#: A rotator of a token no service checks, whose only bug is in finishSecret.
finish_bug_only = rotators.make_rotator(
    "finish_bug_only",
    setSecret=_no_service,
    testSecret=_no_service,
    finishSecret=rotators._finish_without_remove_from,
)


def test_no_setup_note_when_the_only_bug_is_in_finish_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(capsys, "tests/test_contract_setups.py:finish_bug_only", *ONE_AND_SEVERAL)

    assert code == 1
    assert statuses(out) == {"one-rotation": "FAIL", "several-rotations": "FAIL"}
    assert "finishSecret called update_secret_version_stage" in out
    assert "--setup" not in out


def test_the_setup_note_appears_when_most_checks_fail_at_the_service_and_one_passes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The example rotator without its toy database's setup: its user does not exist, so every
    # rotation fails at setSecret; no-secret-in-logs still passes.
    code, out, _ = check(
        capsys,
        "examples/password_rotator/rotator.py:lambda_handler",
        "--only",
        "one-rotation",
        "--only",
        "no-secret-in-logs",
    )

    assert code == 1
    assert statuses(out) == {"one-rotation": "FAIL", "no-secret-in-logs": "PASS"}
    assert "note: no --setup was given" in out
    assert "--setup MODULE:ATTR" in out


def test_no_setup_note_when_the_setup_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = check(
        capsys,
        "tests/rotators.py:regenerates_on_retry",
        "--setup",
        "tests/buggy_contract_rotators.py:setup",
        "--only",
        "fail-setSecret-then-retry",
    )

    assert code == 1
    assert "ResourceExistsException" in out
    assert "no --setup was given" not in out


def test_a_probe_without_setup_says_the_setup_is_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = check(
        capsys,
        "tests/rotators.py:correct",
        "--probe",
        "tests/buggy_contract_rotators.py:probe",
        "--only",
        "one-rotation",
    )

    assert code == 2
    assert "No --setup was given" in err


def test_output_piped_into_head_ends_without_a_traceback() -> None:
    command = (
        f"{sys.executable} -m rotation_testkit check tests/rotators.py:correct "
        "--only one-rotation --only several-rotations --only steps-repeated | head -1"
    )
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.stdout.startswith("rotation-testkit check tests/rotators.py:correct")
    assert "Traceback" not in result.stderr
    assert "BrokenPipeError" not in result.stderr
