"""The assert_* helpers of ``rotation_testkit.assertions``: each passes on the right state and fails
on the wrong one with a message saying what was expected and what happened.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

import pytest

import rotation_testkit.assertions
import rotators
from rotation_testkit.assertions import (
    Attempt,
    assert_not_stuck,
    assert_retried,
    assert_rotated,
    assert_valid_labels,
    rotation_attempts,
)
from rotation_testkit.history import Event
from rotation_testkit.invariants import short_id

RULES = {"AutomaticallyAfterDays": 30}
ALL_STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]
A = "aaaaaaaa-0000-4000-8000-000000000000"
B = "bbbbbbbb-0000-4000-8000-000000000000"
C = "cccccccc-0000-4000-8000-000000000000"


def rotate(client, lambda_arn: str, secret_id: str = "app/db") -> str:
    return client.rotate_secret(
        SecretId=secret_id, RotationLambdaARN=lambda_arn, RotationRules=RULES
    )["VersionId"]


def current_version(client, secret_id: str = "app/db") -> str:
    version = rotators.holder(client, secret_id, "AWSCURRENT")
    assert version is not None
    return version


class StubClient:
    """describe_secret only, for label states the service itself never lets happen."""

    def __init__(self, stages: dict[str, list[str]]) -> None:
        self.stages = stages

    def describe_secret(self, SecretId: str) -> dict:
        return {
            "ARN": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SecretId}-AbCdEf",
            "VersionIdsToStages": self.stages,
        }


def failure(function, *args, **kwargs) -> str:
    """The message of the AssertionError raised, each line stripped (pytest's assertion rewriting
    indents the lines of a multi-line message)."""
    with pytest.raises(AssertionError) as raised:
        function(*args, **kwargs)
    return "\n".join(line.strip() for line in str(raised.value).splitlines())


# --- assert_valid_labels ----------------------------------------------------------------------------


def test_valid_labels_pass_on_a_new_secret_and_after_rotations(
    secretsmanager, secret, rotation_lambdas
):
    assert_valid_labels(secretsmanager, "app/db")
    arn = rotation_lambdas.register(rotators.correct)
    rotate(secretsmanager, arn)
    rotate(secretsmanager, arn)

    assert_valid_labels(secretsmanager, "app/db")
    assert_valid_labels(secretsmanager, secret)  # by ARN, too


def test_valid_labels_pass_during_a_rotation(secretsmanager, secret, rotation_lambdas):
    # AWSPENDING on its own version is a valid state (a rotation in progress or stuck).
    rotate(secretsmanager, rotation_lambdas.register(rotators.fails_at("setSecret")))

    assert_valid_labels(secretsmanager, "app/db")


def test_a_label_on_two_versions_fails() -> None:
    client = StubClient({A: ["AWSCURRENT"], B: ["AWSPENDING"], C: ["AWSPENDING"]})

    message = failure(assert_valid_labels, client, "app/db")

    assert message.startswith(
        "expected valid staging labels on 'app/db', but AWSPENDING is on both bbbbbbbb and cccccccc"
    )
    assert "Labels: aaaaaaaa: AWSCURRENT, bbbbbbbb: AWSPENDING, cccccccc: AWSPENDING" in message


def test_a_label_twice_on_one_version_fails() -> None:
    message = failure(assert_valid_labels, StubClient({A: ["AWSCURRENT", "AWSCURRENT"]}), "app/db")

    assert "AWSCURRENT appears twice on aaaaaaaa" in message


def test_no_current_fails() -> None:
    message = failure(assert_valid_labels, StubClient({A: ["AWSPREVIOUS"]}), "app/db")

    assert "but no version carries AWSCURRENT" in message


def test_two_currents_fail_without_saying_there_is_none() -> None:
    message = failure(
        assert_valid_labels, StubClient({A: ["AWSCURRENT"], B: ["AWSCURRENT"]}), "app/db"
    )

    assert "AWSCURRENT is on both aaaaaaaa and bbbbbbbb" in message
    assert "no version carries AWSCURRENT" not in message


def test_previous_on_the_current_version_fails(secretsmanager, secret, rotation_lambdas) -> None:
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))
    current = current_version(secretsmanager)
    previous = rotators.holder(secretsmanager, "app/db", "AWSPREVIOUS")
    secretsmanager.update_secret_version_stage(
        SecretId="app/db",
        VersionStage="AWSPREVIOUS",
        MoveToVersionId=current,
        RemoveFromVersionId=previous,
    )

    message = failure(assert_valid_labels, secretsmanager, "app/db")

    assert "AWSPREVIOUS is on the AWSCURRENT version" in message
    assert f"Labels: {short_id(current)}: " in message


# --- assert_not_stuck -----------------------------------------------------------------------------


def test_not_stuck_passes_before_and_after_a_rotation(secretsmanager, secret, rotation_lambdas):
    assert_not_stuck(secretsmanager, "app/db")
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert_not_stuck(secretsmanager, "app/db")


def test_stuck_fails_with_the_exact_command_that_unblocks_it(
    secretsmanager, secret, rotation_lambdas
):
    original = current_version(secretsmanager)
    token = rotate(secretsmanager, rotation_lambdas.register(rotators.fails_at("setSecret")))

    message = failure(assert_not_stuck, secretsmanager, "app/db")

    assert message.startswith(
        f"expected 'app/db' not to be stuck, but AWSPENDING is on {short_id(token)} while "
        f"AWSCURRENT is on {short_id(original)}: the next RotateSecret fails with "
        '"A previous rotation isn\'t complete".'
    )
    command = (
        f"aws secretsmanager update-secret-version-stage --secret-id {secret} "
        f"--version-stage AWSPENDING --remove-from-version-id {token}"
    )
    assert message.endswith(f"To unblock: {command}")

    # Running that command (here, its API call) unblocks the secret.
    secretsmanager.update_secret_version_stage(
        SecretId=secret, VersionStage="AWSPENDING", RemoveFromVersionId=token
    )
    assert_not_stuck(secretsmanager, "app/db")
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))
    assert_rotated(secretsmanager, "app/db", since_version=original)


# --- assert_rotated -------------------------------------------------------------------------------


def test_rotated_passes_after_a_rotation(secretsmanager, secret, rotation_lambdas):
    original = current_version(secretsmanager)
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert_rotated(secretsmanager, "app/db")
    assert_rotated(secretsmanager, "app/db", since_version=original)


def test_rotated_fails_on_a_secret_never_rotated(secretsmanager, secret):
    current = current_version(secretsmanager)

    message = failure(assert_rotated, secretsmanager, "app/db")

    assert message.startswith(
        "expected 'app/db' to have rotated away from its first version, but AWSCURRENT is on "
        f"{short_id(current)}. Labels: {short_id(current)}: AWSCURRENT"
    )


def test_rotated_fails_when_current_is_still_the_version_given(
    secretsmanager, secret, rotation_lambdas
):
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))
    current = current_version(secretsmanager)

    message = failure(assert_rotated, secretsmanager, "app/db", since_version=current)

    assert message.startswith(
        f"expected 'app/db' to have rotated away from {short_id(current)}, but AWSCURRENT is on "
        f"{short_id(current)}."
    )


def test_rotated_fails_when_the_old_version_is_not_previous(
    secretsmanager, secret, rotation_lambdas
):
    original = current_version(secretsmanager)
    arn = rotation_lambdas.register(rotators.correct)
    rotate(secretsmanager, arn)
    rotate(secretsmanager, arn)  # the original version is now deprecated

    message = failure(assert_rotated, secretsmanager, "app/db", since_version=original)

    assert message.startswith(
        f"expected the old version {short_id(original)} to carry AWSPREVIOUS after rotating, "
        "but labels are: "
    )


def _create_same_value(client, arn: str, token: str) -> None:
    current = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=current, VersionStages=["AWSPENDING"]
    )


@pytest.mark.rotation_testkit(disabled_invariants=["new-value-differs"])
def test_rotated_fails_when_only_the_labels_moved(secretsmanager, secret, rotation_lambdas):
    original = current_version(secretsmanager)
    handler = rotators.make_rotator("same_value", createSecret=_create_same_value)
    token = rotate(secretsmanager, rotation_lambdas.register(handler))

    message = failure(assert_rotated, secretsmanager, "app/db")

    assert message.startswith(
        f"expected a new value in {short_id(token)}, but it is identical to the value of "
        f"{short_id(original)} (values not shown): the rotation changed labels only."
    )


def test_rotated_fails_when_the_rotation_is_stuck(secretsmanager, secret, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas.register(rotators.fails_at("finishSecret")))

    message = failure(assert_rotated, secretsmanager, "app/db")

    assert "not to be stuck, but AWSPENDING is on" in message
    assert "To unblock: aws secretsmanager update-secret-version-stage" in message


# --- rotation_attempts ----------------------------------------------------------------------------


def test_rotation_attempts_lists_each_attempt_with_its_steps(
    secretsmanager, secret, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.fail_step("testSecret")
    token = rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    first, second = rotation_attempts(rotation_kit, "app/db")

    assert (first.number, first.token) == (1, token)
    assert first.steps == ["createSecret", "setSecret", "testSecret"]
    assert first.failed_step == "testSecret"
    assert first.error is not None
    assert first.error.startswith("InjectedStepFailure: testSecret failed before the handler ran")
    assert not first.succeeded
    assert (second.number, second.token, second.steps) == (2, token, ALL_STEPS)
    assert (second.failed_step, second.error) == (None, None)
    assert second.succeeded


def test_rotation_attempts_is_empty_without_rotation(secretsmanager, secret, rotation_kit):
    assert rotation_attempts(rotation_kit, "app/db") == []


def test_rotation_attempts_of_two_rotations_and_two_secrets(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    secretsmanager.create_secret(Name="other", SecretString=json.dumps({"username": "x"}))
    arn = rotation_lambdas.register(rotators.correct)
    first = rotate(secretsmanager, arn)
    second = rotate(secretsmanager, arn)
    rotate(secretsmanager, rotation_lambdas.register(rotators.fails_at("createSecret")), "other")

    found = rotation_attempts(rotation_kit, secret)  # by ARN as well as by name

    assert [(a.number, a.token, a.succeeded) for a in found] == [
        (1, first, True),
        (1, second, True),
    ]
    assert len(rotation_attempts(rotation_kit, "other")) == 3


def test_a_test_rotation_is_not_counted_into_the_last_attempt(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    rotate(secretsmanager, arn)
    # RotateImmediately=False runs testSecret alone, on a version of its own.
    secretsmanager.rotate_secret(SecretId="app/db", RotateImmediately=False)

    (attempt,) = rotation_attempts(rotation_kit, "app/db")

    assert attempt.steps == ALL_STEPS


# --- assert_retried -------------------------------------------------------------------------------


def test_retried_passes_on_a_retried_rotation(
    secretsmanager, secret, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.fail_step("setSecret")
    token = rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    found = assert_retried(rotation_kit, "app/db")
    assert_retried(rotation_kit, "app/db", attempts=2, succeeded=True)
    assert_retried(rotation_kit, secret, attempts=2, same_token=True)

    assert [a.token for a in found] == [token, token]
    assert all(isinstance(a, Attempt) for a in found)


def test_retried_passes_on_a_rotation_that_never_succeeded(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotate(secretsmanager, rotation_lambdas.register(rotators.fails_at("testSecret")))

    assert_retried(
        rotation_kit, "app/db", attempts=rotation_kit.config.max_attempts, succeeded=False
    )


def test_retried_fails_without_a_retry(secretsmanager, secret, rotation_lambdas, rotation_kit):
    token = rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    message = failure(assert_retried, rotation_kit, "app/db")

    assert message.startswith(
        "expected the rotation of 'app/db' to be retried, got:\n"
        f"attempt 1 token {short_id(token)}: createSecret > setSecret > testSecret > finishSecret"
    )


def test_retried_fails_without_any_attempt(secretsmanager, secret, rotation_kit):
    message = failure(assert_retried, rotation_kit, "app/db")

    assert message.startswith("expected the rotation of 'app/db' to be retried, got:\n(no attempt)")


def test_retried_fails_on_another_number_of_attempts(
    secretsmanager, secret, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.fail_step("setSecret")
    token = rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    message = failure(assert_retried, rotation_kit, "app/db", attempts=3)

    assert message.startswith(
        "expected 3 attempt(s) on 'app/db', got:\n"
        f"attempt 1 token {short_id(token)}: createSecret > setSecret  FAILED at setSecret: "
        "InjectedStepFailure: setSecret failed before the handler ran"
    )
    assert (
        f"\nattempt 2 token {short_id(token)}: createSecret > setSecret > testSecret > finishSecret"
        in message
    )


def test_retried_fails_on_the_wrong_outcome(
    secretsmanager, secret, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.fail_step("setSecret")
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    message = failure(assert_retried, rotation_kit, "app/db", succeeded=False)

    assert message.startswith("expected the last attempt to fail, got:\nattempt 1 token ")


def test_retried_fails_when_the_attempts_use_different_tokens(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    first, second = rotate(secretsmanager, arn), rotate(secretsmanager, arn)

    message = failure(assert_retried, rotation_kit, "app/db", attempts=2)

    assert message.startswith("expected every attempt to reuse one token, got:\n")
    assert f"token {short_id(first)}" in message
    assert f"token {short_id(second)}" in message
    assert_retried(rotation_kit, "app/db", attempts=2, same_token=False)


class EventsKit:
    """Just enough of a RotationKit for rotation_attempts: a fixed list of events."""

    def __init__(self, events: list[Event]) -> None:
        self._events = events

    def events(self, name=None, *, secret_id=None) -> list[Event]:
        return self._events


def test_retried_fails_when_an_attempt_does_not_restart_at_create_secret() -> None:
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    kit = EventsKit(
        [
            Event("RotationStarted", now, version_id=A, attempt=1),
            Event("Invoke", now, version_id=A, step="createSecret", attempt=1),
            Event("RotationFailed", now, version_id=A, step="createSecret", attempt=1, error="E"),
            Event("RotationStarted", now, version_id=A, attempt=2),
            Event("Invoke", now, version_id=A, step="setSecret", attempt=2),
        ]
    )

    message = failure(assert_retried, kit, "app/db")

    assert message.startswith(
        "expected every attempt to restart at createSecret, got:\n"
        "attempt 1 token aaaaaaaa: createSecret  FAILED at createSecret: E\n"
        "attempt 2 token aaaaaaaa: setSecret"
    )


# --- assertion rewriting ----------------------------------------------------------------------------


def test_the_assertions_module_is_registered_for_rewriting() -> None:
    from _pytest.assertion.rewrite import AssertionRewritingHook

    hooks = [hook for hook in sys.meta_path if isinstance(hook, AssertionRewritingHook)]
    assert hooks, "pytest's assertion rewriter is not installed"
    assert any("rotation_testkit.assertions" in hook._must_rewrite for hook in hooks)
    # And it was imported through the rewriter: rewritten modules carry pytest's helpers.
    assert "@py_builtins" in vars(rotation_testkit.assertions)


RETRIED_TEST = """
def correct(event, context):
    import boto3

    client = boto3.client("secretsmanager")
    arn, token = event["SecretId"], event["ClientRequestToken"]
    if event["Step"] == "createSecret":
        client.put_secret_value(
            SecretId=arn, ClientRequestToken=token, SecretString="new", VersionStages=["AWSPENDING"]
        )
    elif event["Step"] == "finishSecret":
        stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
        current = next(v for v, labels in stages.items() if "AWSCURRENT" in labels)
        client.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
            RemoveFromVersionId=current,
        )


def test_retried(rotation_kit, secretsmanager, rotation_lambdas):
    import sys

    from rotation_testkit.assertions import assert_retried

    assert "@py_builtins" in vars(sys.modules["rotation_testkit.assertions"])
    secretsmanager.create_secret(Name="app/db", SecretString="old")
    secretsmanager.rotate_secret(
        SecretId="app/db",
        RotationLambdaARN=rotation_lambdas.register(correct),
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    assert_retried(rotation_kit, "app/db")
"""


def test_a_failing_helper_shows_pytest_s_rewritten_detail(pytester: pytest.Pytester) -> None:
    # A new interpreter: the plugin, loaded from its entry point, registers the module for
    # rewriting before anything imports it.
    pytester.makepyfile(RETRIED_TEST)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   *AssertionError: expected the rotation of 'app/db' to be retried, got:",
            "E * attempt 1 token *: createSecret > setSecret > testSecret > finishSecret",
            "E   *assert 1 > 1",
            "E   * where 1 = len(*",
        ]
    )


def test_without_rewriting_the_message_alone_stays_useful(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(RETRIED_TEST.replace('    assert "@py_builtins"', "    # "))

    result = pytester.runpytest_subprocess("--assert=plain", "-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E   *AssertionError: expected the rotation of 'app/db' to be retried, got:"]
    )
    assert "assert 1 > 1" not in result.stdout.str()
