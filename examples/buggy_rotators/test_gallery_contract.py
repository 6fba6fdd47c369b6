"""The contract checks against the gallery: which checks catch which bug.

``test_buggy_rotators.py`` exposes each bug with the fault that triggers it; this module runs every
contract check on each rotator of the gallery instead, with the toy database as the protected
service, and pins down which checks fail. The correct rotator (examples/password_rotator) passes
them all.

| Module | Failing checks | Why |
| --- | --- | --- |
| `finish_without_remove_from_version` | every check but `rotate-immediately-false` and `test-secret-tests-pending` | Each rotation fails at finishSecret with `InvalidParameterException` (`RemoveFromVersionId` can't be empty), so AWSCURRENT never moves. The two others never reach finishSecret: they run testSecret, which is correct. |
| `forgets_current_check` | `current-token-noop`, `crash-after-finishSecret-then-retry`, `cold-start-every-step` (its crash after finishSecret), `rotate-immediately-false` | Without the "already AWSCURRENT: return" check, a step invoked with the current token raises ("not set as AWSPENDING"); after a crash that followed finishSecret's work, every retry fails so the rotation is never reported as succeeded. Its testSecret also insists the AWSCURRENT password stop working, which a test rotation's copy of the current secret never does. |
| `regenerates_password_on_retry` | `steps-repeated`, `fail-{setSecret,testSecret,finishSecret}-then-retry`, `crash-after-{createSecret,setSecret,testSecret}-then-retry`, `timeout`, `cold-start-every-step` | Once createSecret has stored the pending value, running it again with the same token writes another password into that version: `ResourceExistsException` on every retry. A fault before createSecret ran (`fail-createSecret`) or after the rotation finished (`crash-after-finishSecret`) does not rerun it over a stored value. |
| `set_secret_not_idempotent` | `steps-repeated`, `fail-{testSecret,finishSecret}-then-retry`, `crash-after-{setSecret,testSecret}-then-retry`, `timeout`, `cold-start-every-step` | Once setSecret has changed the password, running it again logs in with the AWSCURRENT password, which no longer works: `LoginFailed` on every retry. Only a rerun after setSecret did its work exposes it. |
| `checks_format_not_login` | `test-secret-tests-pending` | testSecret checks that the pending secret is well formed but never logs in with it. Only a rotation where setSecret did not apply the new password exposes it, which is what that check arranges. |
| `logs_the_new_secret` | `no-secret-in-logs` | createSecret logs the pending value, password included. Everything works; the password leaks to CloudWatch Logs at every rotation. The finding names the step and the field, never the value. |
| `keeps_password_in_memory` | `cold-start-every-step` | createSecret keeps the new password in a module global and setSecret applies it from there. A warm execution environment hides it, even across retries; in a new environment setSecret fails with `KeyError`, on every retry. |
| `swallows_errors` | `unknown-token-refused`, `test-secret-tests-pending` | The handler turns its own errors into a success: its "no stage for rotation" error, and testSecret's failed login with credentials setSecret never applied. The fault checks do not catch it: their faults fail the invocation around the handler, where nothing swallows them, and boto3 retries the throttled calls. A failing call inside a step is what exposes it in `test_buggy_rotators.py`. |

"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

import pytest
import toy_database

from rotation_testkit.contract import CHECK_NAMES, CheckResult, RotatorUnderTest, run_checks

INITIAL_SECRET = {"username": "app", "password": "initial-password", "host": "db.internal"}


def caught(checks: list[str], cause: str) -> dict[str, str]:
    return dict.fromkeys(checks, cause)


# module -> {each check that fails: a piece of text its explanation contains}
CAUGHT_BY: dict[str, dict[str, str]] = {
    "finish_without_remove_from_version": caught(
        [
            name
            for name in CHECK_NAMES
            if name
            not in (
                "rotate-immediately-false",
                "test-secret-tests-pending",
                "no-secret-in-logs",
            )
        ],
        "RemoveFromVersionId",
    ),
    "forgets_current_check": {
        "current-token-noop": "already AWSCURRENT",
        "crash-after-finishSecret-then-retry": "never succeeded",
        "cold-start-every-step": "never succeeded",
        "rotate-immediately-false": "the old password",
    },
    "regenerates_password_on_retry": caught(
        [
            "steps-repeated",
            "fail-setSecret-then-retry",
            "fail-testSecret-then-retry",
            "fail-finishSecret-then-retry",
            "crash-after-createSecret-then-retry",
            "crash-after-setSecret-then-retry",
            "crash-after-testSecret-then-retry",
            "timeout",
            "cold-start-every-step",
        ],
        "ResourceExistsException",
    ),
    "set_secret_not_idempotent": caught(
        [
            "steps-repeated",
            "fail-testSecret-then-retry",
            "fail-finishSecret-then-retry",
            "crash-after-setSecret-then-retry",
            "crash-after-testSecret-then-retry",
            "timeout",
            "cold-start-every-step",
        ],
        "LoginFailed",
    ),
    "checks_format_not_login": {"test-secret-tests-pending": "testSecret does not test them"},
    "logs_the_new_secret": {"no-secret-in-logs": "wrote field 'password' of contract/secret"},
    "keeps_password_in_memory": {"cold-start-every-step": "KeyError"},
    "swallows_errors": {
        "unknown-token-refused": "accepted a token the secret does not know",
        "test-secret-tests-pending": "testSecret does not test them",
    },
}


@functools.cache
def results(module_name: str) -> dict[str, CheckResult]:
    """Every check's result for one module's rotator (run once per module)."""
    module = importlib.import_module(module_name)
    rotator = RotatorUnderTest(
        handler=module.lambda_handler,
        setup=toy_database.setup,
        probe=toy_database.probe,
        initial_secret=dict(INITIAL_SECRET),
    )
    # What the rotators log is captured per invocation, as CloudWatch Logs would hold it.
    return {result.name: result for result in run_checks(rotator)}


def failed(module_name: str) -> set[str]:
    return {name for name, result in results(module_name).items() if result.status == "failed"}


def test_the_correct_rotator_passes_every_check():
    assert failed("rotator") == set(), {
        name: results("rotator")[name].message for name in failed("rotator")
    }


@pytest.mark.parametrize("module_name", sorted(CAUGHT_BY))
def test_the_checks_that_catch_each_bug_fail(module_name: str):
    expected = CAUGHT_BY[module_name]

    assert failed(module_name) == set(expected), (
        f"{module_name}: the failing checks changed; update the table in this module's docstring "
        "and in README.md"
    )
    for name, cause in expected.items():
        assert cause in results(module_name)[name].message, results(module_name)[name].message


def test_every_gallery_module_is_in_the_table():
    here = Path(__file__).parent
    modules = {
        path.stem for path in here.glob("*.py") if not path.stem.startswith(("test_", "conftest"))
    }
    assert modules == set(CAUGHT_BY)
