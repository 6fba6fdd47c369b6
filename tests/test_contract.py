"""The contract checks: the correct rotator passes them all; each buggy rotator is caught, with a
message in its own terms; and ``RotatorContract`` turns them into one pytest test per check."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import buggy_contract_rotators as buggy
import rotators
from rotation_testkit.contract import (
    CHECK_NAMES,
    CHECKS,
    CheckResult,
    RotatorUnderTest,
    run_checks,
)

TESTS = Path(__file__).resolve().parent
INITIAL = {"username": "app", "password": "initial-password", "host": "db.internal"}
RETRY_CHECKS = {
    "steps-repeated",
    "fail-setSecret-then-retry",
    "fail-testSecret-then-retry",
    "fail-finishSecret-then-retry",
    "crash-after-createSecret-then-retry",
    "crash-after-setSecret-then-retry",
    "crash-after-testSecret-then-retry",
    "timeout",
    "cold-start-every-step",  # it retries after a crash after each step, too
}


@pytest.fixture(autouse=True)
def _empty_protected_service() -> Iterator[None]:
    yield
    rotators.reset_protected()


def under_test(handler: Any, **overrides: Any) -> RotatorUnderTest:
    """A rotator over rotators.PROTECTED, with setup and probe."""
    settings: dict[str, Any] = {
        "initial_secret": INITIAL,
        "setup": buggy.setup,
        "probe": buggy.probe,
        **overrides,
    }
    return RotatorUnderTest(handler=handler, **settings)


def run(handler: Any, *names: str, **overrides: Any) -> dict[str, CheckResult]:
    results = run_checks(under_test(handler, **overrides), names or None)
    return {result.name: result for result in results}


def failed(results: dict[str, CheckResult]) -> set[str]:
    return {name for name, result in results.items() if result.status == "failed"}


# --- (a) the correct rotator ------------------------------------------------------------------------


def test_the_correct_rotator_passes_every_check() -> None:
    results = run(rotators.correct)

    assert list(results) == list(CHECK_NAMES)
    assert not failed(results), "\n\n".join(
        f"{r.name}: {r.message}" for r in results.values() if not r.passed
    )
    assert all(r.message == "ok" and r.timeline == "" for r in results.values())


def test_the_check_names_are_unique_and_each_has_a_summary() -> None:
    assert len(set(CHECK_NAMES)) == len(CHECK_NAMES) == len(CHECKS)
    assert all(check.summary.endswith(".") for check in CHECKS)


def test_setup_gets_the_initial_secret_before_every_check() -> None:
    received: list[Any] = []

    def setup(secret: Any) -> None:
        received.append(secret)
        buggy.setup(secret)

    run(rotators.correct, "one-rotation", "unknown-token-refused", setup=setup)

    assert received == [INITIAL, INITIAL]
    assert received[0] is not INITIAL, "setup must get a copy it may change"


def test_a_handler_named_by_a_module_function_string_is_imported() -> None:
    assert not failed(run("rotators:correct", "one-rotation", "steps-repeated"))


def test_a_plain_string_secret_reaches_setup_and_probe_as_a_str() -> None:
    seen: list[Any] = []

    def probe(secret: Any) -> bool:
        seen.append(secret)
        return isinstance(secret, str)  # a token with no service behind it: any str will do

    results = run(
        buggy.plain_token_rotator,
        initial_secret="plain-token-0",
        setup=seen.append,
        probe=probe,
    )

    assert not failed(results), [r.message for r in results.values() if not r.passed]
    assert seen[0] == "plain-token-0"
    assert all(isinstance(value, str) for value in seen)


def test_a_setup_that_raises_fails_the_check_with_its_error() -> None:
    def setup(secret: Any) -> None:
        raise ConnectionError("database unreachable")

    result = run(rotators.correct, "one-rotation", setup=setup)["one-rotation"]

    assert not result.passed
    assert "ConnectionError: database unreachable" in result.message


# --- (b) the buggy rotators of rotators.py ---------------------------------------------------------


def test_regenerates_on_retry_fails_every_check_that_retries_from_create_secret() -> None:
    results = run(rotators.regenerates_on_retry)

    assert failed(results) == RETRY_CHECKS
    message = results["fail-setSecret-then-retry"].message
    assert "AWSCURRENT did not move" in message
    assert "createSecret wrote a new value into a version that already had one" in message
    assert "get_secret_value(VersionId=token, VersionStage='AWSPENDING')" in message
    assert "generate only on ResourceNotFoundException" in message
    assert "ResourceExistsException" in message
    assert results["fail-setSecret-then-retry"].timeline  # the failure shows what happened


def test_forgets_remove_from_version_fails_one_rotation() -> None:
    message = run(rotators.forgets_remove_from_version, "one-rotation")["one-rotation"].message

    assert "finishSecret called update_secret_version_stage without the right" in message
    assert "RemoveFromVersionId" in message
    # The same error on each of the three attempts is one line.
    assert "failed at finishSecret (attempts 1-3): InvalidParameterException" in message
    assert message.count("RemoveFromVersionId can't be empty") == 1


def test_never_finishes_leaves_awscurrent_where_it_was() -> None:
    results = run(rotators.never_finishes, "one-rotation", "rotate-immediately-false")

    assert failed(results) == {"one-rotation"}
    message = results["one-rotation"].message
    assert message.startswith("after one rotation: AWSCURRENT did not move to a new version.")
    assert "failed at finishSecret" in message


def test_puts_current_early_breaks_current_moves_only_in_finish() -> None:
    # Without a probe the rotation ends in a valid state: only the invariant catches it.
    message = run(rotators.puts_current_early, "one-rotation", probe=None)["one-rotation"].message

    assert "invariant 'current-moves-only-in-finish' violated" in message
    assert "during createSecret" in message
    assert "it may only move to the token" in message


def test_puts_current_early_names_the_invariant_also_when_the_probe_fails_first() -> None:
    # With a probe, the protected service refusing the new credentials is reported first; the
    # broken invariant, the cause, must still be named so the reader knows where to look.
    message = run(rotators.puts_current_early, "one-rotation")["one-rotation"].message

    assert "refuses the new AWSCURRENT credentials" in message
    assert "AWSCURRENT moved from" in message
    assert "during createSecret" in message
    assert "current-moves-only-in-finish" in message


# --- (b) the buggy rotators of buggy_contract_rotators.py -----------------------------------------


def test_a_rotator_that_skips_the_token_check_fails_unknown_token_refused() -> None:
    results = run(buggy.skips_token_check)

    assert failed(results) == {"unknown-token-refused"}
    message = results["unknown-token-refused"].message
    assert "createSecret accepted a token the secret does not know" in message
    assert "VersionIdsToStages" in message


def test_a_rotator_that_raises_for_the_current_token_fails_current_token_noop() -> None:
    results = run(buggy.raises_when_already_current)

    assert failed(results) == {"current-token-noop"}
    message = results["current-token-noop"].message
    assert "createSecret invoked with the token that is already AWSCURRENT" in message
    assert "raised ValueError: it must return quietly" in message
    assert "not set as AWSPENDING" in message  # the rotator's own error, as a hint


def test_a_set_secret_applying_another_password_is_caught_by_the_probe() -> None:
    results = run(buggy.sets_other_password, "one-rotation", "fail-testSecret-then-retry")

    assert failed(results) == {"one-rotation", "fail-testSecret-then-retry"}
    message = results["one-rotation"].message
    assert "the protected service refuses the new AWSCURRENT credentials" in message
    assert "applied something else than what createSecret stored" in message


def test_without_a_probe_the_swallowed_test_secret_error_goes_unnoticed() -> None:
    # Why --probe matters: the rotation "succeeds" and only the protected service knows better.
    assert not failed(run(buggy.sets_other_password, "one-rotation", probe=None))


def test_a_pending_secret_that_drops_a_json_key_breaks_pending_keeps_json_keys() -> None:
    results = run(buggy.drops_json_key, "one-rotation", "rotate-immediately-false")

    assert failed(results) == {"one-rotation"}
    message = results["one-rotation"].message
    assert "invariant 'pending-keeps-json-keys' violated" in message
    assert "during createSecret" in message
    assert "lacks the key(s) host" in message


def test_a_dropped_json_key_needs_an_initial_secret_that_has_it() -> None:
    secret = {"username": "app", "password": "initial-password"}
    assert not failed(run(buggy.drops_json_key, "one-rotation", initial_secret=secret))


def test_a_test_secret_that_refuses_a_copy_of_current_fails_rotate_immediately_false() -> None:
    results = run(buggy.rejects_test_rotation)

    assert failed(results) == {"rotate-immediately-false"}
    message = results["rotate-immediately-false"].message
    assert "RotateImmediately=false: testSecret failed on a copy of the current secret" in message
    assert "the pending password is the current one" in message


# --- (c) RotatorContract, through pytester ----------------------------------------------------------


@pytest.fixture
def contract_tests(pytester: pytest.Pytester) -> pytest.Pytester:
    """pytester with tests/ importable, so generated modules can use rotators.py."""
    pytester.syspathinsert(TESTS)
    return pytester


CORRECT_MODULE = """
    import rotators
    from rotation_testkit.contract import RotatorContract


    class TestCorrect(RotatorContract):
        handler = rotators.correct
        initial_secret = {"username": "app", "password": "initial-password"}

        def setup(self, secret):
            rotators.reset_protected({secret["username"]: secret["password"]})

        def probe(self, secret):
            return rotators.login(secret["username"], secret["password"])
"""


def test_a_contract_subclass_collects_one_test_per_check(contract_tests: pytest.Pytester) -> None:
    contract_tests.makepyfile(test_generated_contract=CORRECT_MODULE)

    result = contract_tests.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")

    collected = [line for line in result.outlines if "::" in line]
    assert collected == [
        f"test_generated_contract.py::TestCorrect::test_contract[{name}]" for name in CHECK_NAMES
    ]


def test_every_contract_test_passes_for_the_correct_rotator(
    contract_tests: pytest.Pytester,
) -> None:
    contract_tests.makepyfile(test_generated_contract=CORRECT_MODULE)

    result = contract_tests.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=len(CHECK_NAMES))


def test_a_buggy_rotator_fails_the_checks_that_expose_it_with_the_explanation(
    contract_tests: pytest.Pytester,
) -> None:
    contract_tests.makepyfile(
        test_generated_contract=CORRECT_MODULE.replace("TestCorrect", "TestRegenerates").replace(
            "rotators.correct", "rotators.regenerates_on_retry"
        )
    )

    result = contract_tests.runpytest(
        "-v", "-p", "no:cacheprovider", "-k", "one-rotation or fail-setSecret-then-retry"
    )

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*TestRegenerates::test_contract?one-rotation? PASSED*",
            "*TestRegenerates::test_contract?fail-setSecret-then-retry? FAILED*",
            "*contract check 'fail-setSecret-then-retry' failed: setSecret fails once;*",
            "*get_secret_value(VersionId=token, VersionStage='AWSPENDING')*",
        ]
    )
    output = result.stdout.str()
    assert "rotation_testkit/contract/base.py" not in output, "no traceback into the kit"


def test_skip_checks_skips_the_named_checks_with_a_reason(
    contract_tests: pytest.Pytester,
) -> None:
    contract_tests.makepyfile(
        test_generated_contract="""
        import buggy_contract_rotators as buggy
        from rotation_testkit.contract import RotatorContract


        class TestNoTestRotation(RotatorContract):
            handler = buggy.rejects_test_rotation
            skip_checks = ("rotate-immediately-false",)

            def setup(self, secret):
                buggy.setup(secret)

            def probe(self, secret):
                return buggy.probe(secret)
        """
    )

    result = contract_tests.runpytest(
        "-rs", "-p", "no:cacheprovider", "-k", "rotate-immediately-false or one-rotation"
    )

    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*rotate-immediately-false is listed in TestNoTestRotation.skip_checks*"]
    )


def test_setup_and_probe_can_be_fixtures(contract_tests: pytest.Pytester) -> None:
    contract_tests.makeconftest(
        """
        import pytest
        import buggy_contract_rotators as buggy

        SETUP_CALLS = []


        @pytest.fixture
        def contract_setup():
            def setup(secret):
                SETUP_CALLS.append(secret)
                buggy.setup(secret)
            return setup


        @pytest.fixture
        def contract_probe():
            return buggy.probe
        """
    )
    contract_tests.makepyfile(
        test_generated_contract="""
        from conftest import SETUP_CALLS
        from rotation_testkit.contract import RotatorContract


        class TestCorrect(RotatorContract):
            handler = "rotators:correct"
            initial_secret = {"username": "svc", "password": "first"}


        class TestOtherPassword(RotatorContract):
            handler = "buggy_contract_rotators:sets_other_password"


        def test_setup_ran_before_each_check():
            assert SETUP_CALLS[0] == {"username": "svc", "password": "first"}
        """
    )

    result = contract_tests.runpytest("-v", "-p", "no:cacheprovider", "-k", "one-rotation or ran")

    # The correct rotator needs setup to rotate; the other one is caught only through the probe.
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*TestCorrect::test_contract?one-rotation? PASSED*",
            "*TestOtherPassword::test_contract?one-rotation? FAILED*",
            "*the protected service refuses the new AWSCURRENT credentials*",
        ]
    )


def test_a_contract_without_a_handler_says_what_to_set(contract_tests: pytest.Pytester) -> None:
    contract_tests.makepyfile(
        test_generated_contract="""
        from rotation_testkit.contract import RotatorContract


        class TestForgotHandler(RotatorContract):
            pass
        """
    )

    result = contract_tests.runpytest("-p", "no:cacheprovider", "-k", "one-rotation")

    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["*TestForgotHandler must set `handler` to the rotation function or a 'module:function'*"]
    )


def test_the_base_class_itself_is_not_collected(contract_tests: pytest.Pytester) -> None:
    contract_tests.makepyfile(
        test_generated_contract=textwrap.dedent(
            """
            from rotation_testkit.contract import RotatorContract


            def test_nothing():
                assert RotatorContract.handler is None
            """
        )
    )

    result = contract_tests.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


def test_the_rotation_testkit_marker_on_the_class_sets_each_check_world(
    contract_tests: pytest.Pytester,
) -> None:
    contract_tests.makepyfile(
        test_generated_contract="""
        import pytest
        import buggy_contract_rotators as buggy
        from rotation_testkit.contract import RotatorContract


        class Hooks:
            initial_secret = {"username": "app", "password": "first", "host": "db.internal"}

            def setup(self, secret):
                buggy.setup(secret)

            def probe(self, secret):
                return buggy.probe(secret)


        @pytest.mark.rotation_testkit(max_attempts=1)
        class TestNoRetry(Hooks, RotatorContract):
            handler = "rotators:correct"


        @pytest.mark.rotation_testkit(disabled_invariants=["pending-keeps-json-keys"])
        class TestKeysMayGo(Hooks, RotatorContract):
            handler = buggy.drops_json_key
        """
    )

    result = contract_tests.runpytest(
        "-v", "-p", "no:cacheprovider", "-k", "fail-setSecret-then-retry or one-rotation"
    )

    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*TestNoRetry::test_contract?fail-setSecret-then-retry? FAILED*"])
