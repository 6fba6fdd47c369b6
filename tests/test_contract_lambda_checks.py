"""The contract checks built on how Lambda runs a function: no secret in logs, cold starts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import buggy_contract_rotators as buggy
import rotators
from cli_helpers import ROOT, check, from_the_repository  # noqa: F401 (a fixture)
from rotation_testkit.contract import RotatorUnderTest, run_checks

pytestmark = pytest.mark.usefixtures("from_the_repository")

GALLERY = "examples/buggy_rotators"
TOY = "examples/password_rotator/toy_database.py"
HARNESS = ["--setup", f"{TOY}:setup", "--probe", f"{TOY}:probe"]
INITIAL = {"username": "app", "password": "initial-password-0"}


@pytest.fixture
def gallery_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # The gallery's rotators import the correct one they change (as their README says).
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "password_rotator"))


# --- no secret in logs ------------------------------------------------------------------------------


@pytest.mark.usefixtures("gallery_path")
def test_a_rotator_that_logs_its_new_secret_is_caught_naming_step_and_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys,
        f"{GALLERY}/logs_the_new_secret.py:lambda_handler",
        *HARNESS,
        "--secret",
        json.dumps(INITIAL),
        "--only",
        "no-secret-in-logs",
        "--only",
        "one-rotation",
    )

    assert code == 1
    assert "PASS  one-rotation" in out
    assert "FAIL  no-secret-in-logs" in out
    assert "during createSecret (attempt 1): the function wrote field 'password'" in out
    assert "Log the version id or the user name instead of the value" in out
    assert "'password': '***'" in out, "the logs under the check show the value masked"
    assert INITIAL["password"] not in out
    for line in out.splitlines():
        assert "'password': '" not in line or "'password': '***'" in line, line


def test_the_correct_rotator_keeps_its_secrets_out_of_its_logs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys,
        "examples/password_rotator/rotator.py:lambda_handler",
        *HARNESS,
        "--only",
        "no-secret-in-logs",
    )

    assert code == 0, out
    assert "PASS  no-secret-in-logs" in out


def logs_the_password(event: dict[str, Any], context: Any) -> None:
    """The correct rotator, printing the pending secret after testSecret."""
    rotators.correct(event, context)
    if event["Step"] == "testSecret":
        client = rotators.endpoint_client()
        try:
            pending = client.get_secret_value(
                SecretId=event["SecretId"],
                VersionId=event["ClientRequestToken"],
                VersionStage="AWSPENDING",
            )
        except client.exceptions.ClientError:
            return  # not a pending version: the correct rotator returned quietly
        print("testing", pending["SecretString"])


def test_a_leak_fails_only_its_own_check() -> None:
    rotator = RotatorUnderTest(
        handler=logs_the_password,
        initial_secret=dict(INITIAL),
        setup=buggy.setup,
        probe=buggy.probe,
    )
    results = {r.name: r for r in run_checks(rotator)}

    failed = {name for name, r in results.items() if r.status == "failed"}
    assert failed == {"no-secret-in-logs"}
    assert "during testSecret" in results["no-secret-in-logs"].message
    assert "field 'password'" in results["no-secret-in-logs"].message


# --- a cold start at every step ---------------------------------------------------------------------


@pytest.mark.usefixtures("gallery_path")
def test_a_rotator_that_keeps_state_in_memory_fails_with_cold_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys,
        f"{GALLERY}/keeps_password_in_memory.py:lambda_handler",
        *HARNESS,
        "--only",
        "cold-start-every-step",
        "--only",
        "fail-setSecret-then-retry",
    )

    assert code == 1
    assert "PASS  fail-setSecret-then-retry" in out, "warm, the bug hides"
    assert "FAIL  cold-start-every-step" in out
    assert "with a cold start at every invocation: AWSCURRENT did not move" in out
    assert "failed at setSecret (attempts 1-3): KeyError" in out


def test_the_correct_rotator_converges_with_a_cold_start_at_every_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys,
        "examples/password_rotator/rotator.py:lambda_handler",
        *HARNESS,
        "--only",
        "cold-start-every-step",
    )

    assert code == 0, out
    assert "PASS  cold-start-every-step" in out


def test_a_handler_that_cannot_be_imported_again_is_not_applicable() -> None:
    def closure(event: dict[str, Any], context: Any) -> None:
        rotators.correct(event, context)

    rotator = RotatorUnderTest(
        handler=closure, initial_secret=dict(INITIAL), setup=buggy.setup, probe=buggy.probe
    )
    [result] = run_checks(rotator, ["cold-start-every-step"])

    assert result.status == "not applicable"
    assert not result.passed
    assert "cannot be imported afresh" in result.message
    assert "closure" in result.message


# --- the pytest base class ---------------------------------------------------------------------------

CONTRACT_MODULE = """
import sys

sys.path.insert(0, {password_rotator!r})
sys.path.insert(0, {gallery!r})

import toy_database
from rotation_testkit.contract import RotatorContract


class TestGallery(RotatorContract):
    handler = "{module}:lambda_handler"

    def setup(self, secret):
        toy_database.setup(secret)

    def probe(self, secret):
        return toy_database.probe(secret)
"""


@pytest.mark.parametrize(
    ("module", "check_name"),
    [
        ("logs_the_new_secret", "no-secret-in-logs"),
        ("keeps_password_in_memory", "cold-start-every-step"),
    ],
)
def test_the_base_class_catches_each_bug_and_passes_the_correct_rotator(
    pytester: pytest.Pytester, module: str, check_name: str
) -> None:
    source = CONTRACT_MODULE.format(
        password_rotator=str(ROOT / "examples" / "password_rotator"),
        gallery=str(ROOT / GALLERY),
        module=module,
    )
    pytester.makepyfile(test_buggy=source, test_correct=source.replace(module, "rotator"))

    result = pytester.runpytest("-p", "no:cacheprovider", "-k", check_name, "-v")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*test_buggy.py::TestGallery::test_contract[[]{check_name}[]] FAILED*",
            f"*test_correct.py::TestGallery::test_contract[[]{check_name}[]] PASSED*",
        ]
    )


def test_the_base_class_skips_a_check_that_does_not_apply(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert(Path(__file__).parent)
    pytester.makepyfile(
        """
        import rotators
        from rotation_testkit.contract import RotatorContract


        def make_closure():
            def handler(event, context):
                rotators.correct(event, context)
            return handler


        class TestClosure(RotatorContract):
            handler = staticmethod(make_closure())
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "cold-start-every-step", "-rs")

    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*cold-start-every-step does not apply*cannot be imported*"])


# --- the logs under a failing check -----------------------------------------------------------------


def fails_at_set_secret(event: dict[str, Any], context: Any) -> None:
    print(f"{event['Step']} starts")
    if event["Step"] == "setSecret":
        raise ConnectionError("the database is down")
    rotators.correct(event, context)


def test_a_failing_check_shows_the_logs_of_the_failing_attempt_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = check(
        capsys,
        "tests/test_contract_lambda_checks.py:fails_at_set_secret",
        "--setup",
        f"{buggy.__file__}:setup",
        "--only",
        "one-rotation",
    )

    assert code == 1
    # The same error on the three attempts: one hint, and the logs of the last attempt.
    assert "failed at setSecret (attempts 1-3): ConnectionError: the database is down" in out
    logs = out.split("function logs (the failing attempt):", 1)[1]
    assert "createSecret, attempt 3" in logs
    assert "setSecret, attempt 3" in logs
    assert "attempt 1" not in logs
    assert "attempt 2" not in logs
    assert "setSecret starts" in logs
