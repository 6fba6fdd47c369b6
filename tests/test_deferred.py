"""Deferred mode: RotateSecret returns at once, as in AWS, and the steps run as the clock moves.

This is how a test observes a rotation in progress and interferes with it (ROTATION-SEMANTICS 2.14).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

import rotators
from conftest import INITIAL
from rotation_testkit.clock import ClockError
from rotators import holder, stages

UTC = timezone.utc
START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]
RULES = {"AutomaticallyAfterDays": 30}

pytestmark = pytest.mark.rotation_testkit(rotation_mode="deferred")


def rotate(client, secret_id: str, arn: str) -> str:
    token: str = client.rotate_secret(
        SecretId=secret_id, RotationLambdaARN=arn, RotationRules=RULES
    )["VersionId"]
    return token


def password(client, secret_id: str, **selector: str) -> str:
    value: str = json.loads(
        client.get_secret_value(SecretId=secret_id, **selector)["SecretString"]
    )["password"]
    return value


def invoked(rotation_kit) -> list[tuple[str | None, datetime]]:
    """(step, time) of each invocation, in order."""
    return [(e.step, e.time) for e in rotation_kit.events("Invoke")]


# --- RotateSecret returns at once -----------------------------------------------------------------


def test_rotate_secret_returns_with_only_the_placeholder_made(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    current = holder(secretsmanager, secret, "AWSCURRENT")
    arn = rotation_lambdas.register(rotators.correct)

    token = rotate(secretsmanager, secret, arn)

    assert rotation_lambdas.invocations() == []
    assert stages(secretsmanager, secret) == {current: ["AWSCURRENT"], token: ["AWSPENDING"]}
    with pytest.raises(ClientError) as caught:
        secretsmanager.get_secret_value(SecretId=secret, VersionId=token)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"  # no value yet
    assert password(secretsmanager, secret) == INITIAL["password"]
    assert rotation_clock.now() == START


def test_each_step_duration_runs_one_step(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    token = rotate(secretsmanager, secret, arn)

    seen = []
    for _ in STEPS:
        rotation_clock.advance(seconds=1)
        seen.append([inv.step for inv in rotation_lambdas.invocations(arn)])

    assert seen == [STEPS[:1], STEPS[:2], STEPS[:3], STEPS]
    assert invoked(rotation_kit) == [(step, START + n * SECOND) for n, step in enumerate(STEPS, 1)]
    assert {inv.event["ClientRequestToken"] for inv in rotation_lambdas.invocations(arn)} == {token}
    assert stages(secretsmanager, secret)[token] == ["AWSCURRENT"]  # AWSPENDING cleared
    succeeded = rotation_kit.events("RotationSucceeded")
    assert [(e.version_id, e.time) for e in succeeded] == [(token, START + 4 * SECOND)]
    assert secretsmanager.describe_secret(SecretId=secret)["LastRotatedDate"] == START + 4 * SECOND


def test_less_than_a_step_duration_runs_nothing(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)
    rotate(secretsmanager, secret, arn)

    rotation_clock.advance(seconds=0.5)
    assert rotation_lambdas.invocations() == []

    rotation_clock.advance(seconds=0.5)
    assert [inv.step for inv in rotation_lambdas.invocations()] == ["createSecret"]


def test_one_long_advance_runs_every_step_at_its_own_instant(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    seen_at: list[datetime] = []

    def handler(event, context):
        seen_at.append(datetime.now(UTC))
        return rotators.correct(event, context)

    arn = rotation_lambdas.register(handler)
    token = rotate(secretsmanager, secret, arn)

    rotation_clock.advance(minutes=1)

    assert seen_at == [START + n * SECOND for n in (1, 2, 3, 4)]
    assert holder(secretsmanager, secret, "AWSCURRENT") == token
    assert rotation_clock.now() == START + timedelta(minutes=1)


def test_current_still_holds_the_old_value_between_set_secret_and_finish_secret(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    old_version = holder(secretsmanager, secret, "AWSCURRENT")
    arn = rotation_lambdas.register(rotators.correct)
    token = rotate(secretsmanager, secret, arn)

    rotation_clock.advance(seconds=2)  # createSecret, setSecret

    new_password = password(secretsmanager, secret, VersionId=token, VersionStage="AWSPENDING")
    assert new_password != INITIAL["password"]
    assert password(secretsmanager, secret) == INITIAL["password"]  # AWSCURRENT: still old
    assert holder(secretsmanager, secret, "AWSCURRENT") == old_version
    # The protected service already has the new password: this is the window in which an
    # application reading AWSCURRENT holds credentials the service no longer accepts.
    assert rotators.login("app", new_password)
    assert not rotators.login("app", INITIAL["password"])

    rotation_clock.advance(seconds=1)  # testSecret
    assert password(secretsmanager, secret) == INITIAL["password"]

    rotation_clock.advance(seconds=1)  # finishSecret
    assert password(secretsmanager, secret) == new_password
    assert holder(secretsmanager, secret, "AWSPREVIOUS") == old_version


# --- interfering with a rotation in progress ------------------------------------------------------


def test_a_manual_put_secret_value_mid_rotation_abandons_it(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    token = rotate(secretsmanager, secret, arn)
    rotation_clock.advance(seconds=1)  # createSecret has filled AWSPENDING

    manual = secretsmanager.put_secret_value(
        SecretId=secret, SecretString=json.dumps({"username": "app", "password": "by-hand"})
    )["VersionId"]
    rotation_clock.advance(minutes=30)

    assert [inv.step for inv in rotation_lambdas.invocations(arn)] == ["createSecret"]
    abandoned = rotation_kit.events("RotationAbandoned")
    assert [(e.version_id, e.time) for e in abandoned] == [(token, START + SECOND)]
    assert holder(secretsmanager, secret, "AWSPENDING") is None
    assert holder(secretsmanager, secret, "AWSCURRENT") == manual
    assert rotation_kit.events("RotationSucceeded") == []
    assert rotation_kit.events("RotationFailed") == []


def test_cancel_rotate_secret_mid_rotation_stops_the_steps(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    current = holder(secretsmanager, secret, "AWSCURRENT")
    arn = rotation_lambdas.register(rotators.correct)
    token = rotate(secretsmanager, secret, arn)
    rotation_clock.advance(seconds=2)  # createSecret, setSecret

    cancelled = secretsmanager.cancel_rotate_secret(SecretId=secret)
    rotation_clock.advance(days=40)

    assert cancelled["VersionId"] == token
    assert [inv.step for inv in rotation_lambdas.invocations(arn)] == STEPS[:2]
    assert holder(secretsmanager, secret, "AWSPENDING") == token  # left for the user to remove
    assert holder(secretsmanager, secret, "AWSCURRENT") == current
    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["RotationEnabled"] is False
    assert "NextRotationDate" not in described
    assert rotation_kit.events("RotationSucceeded") == []


def test_cancel_rotate_secret_before_the_first_step_runs_nothing(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)
    token = rotate(secretsmanager, secret, arn)

    cancelled = secretsmanager.cancel_rotate_secret(SecretId=secret)
    rotation_clock.advance(hours=1)

    assert cancelled["VersionId"] == token
    assert rotation_lambdas.invocations() == []


def test_rotate_secret_during_a_rotation_in_progress_is_refused(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)
    token = rotate(secretsmanager, secret, arn)
    rotation_clock.advance(seconds=1)

    with pytest.raises(ClientError) as caught:
        rotate(secretsmanager, secret, arn)

    assert caught.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "previous rotation isn't complete" in caught.value.response["Error"]["Message"]
    rotation_clock.advance(seconds=3)
    assert holder(secretsmanager, secret, "AWSCURRENT") == token


# --- failures, retries and spacing -----------------------------------------------------------------


def test_a_failing_step_is_retried_from_create_secret_after_the_retry_interval(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.fails_at("setSecret", times=1))
    token = rotate(secretsmanager, secret, arn)

    rotation_clock.advance(seconds=2)  # createSecret, then setSecret fails
    failed = rotation_kit.events("RotationFailed")
    assert [(e.step, e.time) for e in failed] == [("setSecret", START + 2 * SECOND)]

    rotation_clock.advance(minutes=4, seconds=59)
    assert len(rotation_lambdas.invocations(arn)) == 2  # the retry waits the full 5 minutes

    rotation_clock.advance(minutes=1)
    retry_start = START + 2 * SECOND + timedelta(minutes=5)
    assert invoked(rotation_kit) == [
        ("createSecret", START + SECOND),
        ("setSecret", START + 2 * SECOND),
        ("createSecret", retry_start),
        ("setSecret", retry_start + SECOND),
        ("testSecret", retry_start + 2 * SECOND),
        ("finishSecret", retry_start + 3 * SECOND),
    ]
    invocations = rotation_lambdas.invocations(arn)
    assert {inv.event["ClientRequestToken"] for inv in invocations} == {token}
    assert [inv.attempt for inv in invocations] == [1, 1, 2, 2, 2, 2]
    assert holder(secretsmanager, secret, "AWSCURRENT") == token
    assert [e.attempt for e in rotation_kit.events("RotationSucceeded")] == [2]


def test_every_attempt_failing_leaves_the_rotation_stuck(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.fails_at("testSecret"))
    token = rotate(secretsmanager, secret, arn)

    rotation_clock.advance(hours=1)

    failed = rotation_kit.events("RotationFailed")
    assert [e.attempt for e in failed] == [1, 2, 3]
    five = timedelta(minutes=5)
    first_failure = START + 3 * SECOND
    assert [e.time for e in failed] == [
        first_failure,
        first_failure + five + 2 * SECOND,
        first_failure + 2 * (five + 2 * SECOND),
    ]
    assert failed[-1].detail.get("final") is True
    assert holder(secretsmanager, secret, "AWSPENDING") == token
    assert rotation_kit.events("RotationSucceeded") == []


@pytest.mark.rotation_testkit(retry_interval=60)
def test_the_retry_interval_setting_changes_the_pause_before_a_retry(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.fails_at("createSecret", times=1))
    rotate(secretsmanager, secret, arn)

    rotation_clock.advance(minutes=5)

    creates = [t for step, t in invoked(rotation_kit) if step == "createSecret"]
    assert creates == [START + SECOND, START + SECOND + timedelta(seconds=60)]


@pytest.mark.rotation_testkit(step_duration=10)
def test_the_step_duration_setting_changes_the_spacing(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    token = rotate(secretsmanager, secret, arn)

    rotation_clock.advance(seconds=9)
    assert rotation_lambdas.invocations() == []

    rotation_clock.advance(seconds=31)

    assert invoked(rotation_kit) == [
        (step, START + n * timedelta(seconds=10)) for n, step in enumerate(STEPS, 1)
    ]
    assert holder(secretsmanager, secret, "AWSCURRENT") == token


def test_the_step_duration_set_through_the_kit(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(step_duration=timedelta(minutes=2))
    arn = rotation_lambdas.register(rotators.correct)
    rotate(secretsmanager, secret, arn)

    rotation_clock.advance(minutes=8)

    assert [t for _, t in invoked(rotation_kit)] == [
        START + n * timedelta(minutes=2) for n in (1, 2, 3, 4)
    ]


def test_a_scheduled_rotation_also_runs_step_by_step(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1}
    )
    rotation_clock.advance(seconds=4)
    assert len(rotation_kit.events("RotationSucceeded")) == 1

    rotation_clock.advance_to("2025-01-03T00:00:05Z")

    token = rotation_kit.events("RotationStarted")[1].version_id
    scheduled = [e for e in rotation_kit.events("Invoke") if e.version_id == token]
    assert [e.step for e in scheduled] == STEPS
    first = scheduled[0].time
    assert first.date() == datetime(2025, 1, 2).date()
    assert [e.time for e in scheduled] == [first + n * SECOND for n in range(4)]
    assert holder(secretsmanager, secret, "AWSCURRENT") == token


# --- deferred mode needs the clock -----------------------------------------------------------------


def test_deferred_mode_without_the_clock_fixture_is_a_clear_error(
    secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)

    with pytest.raises(ClockError) as caught:
        rotate(secretsmanager, secret, arn)

    message = str(caught.value)
    assert "deferred" in message
    assert "rotation_clock" in message
    assert rotation_lambdas.invocations() == []


def test_a_deferred_rotate_secret_refused_for_want_of_a_clock_changes_nothing(
    secretsmanager, secret, rotation_lambdas
):
    before = stages(secretsmanager, secret)
    arn = rotation_lambdas.register(rotators.correct)

    with pytest.raises(ClockError):
        rotate(secretsmanager, secret, arn)

    assert stages(secretsmanager, secret) == before  # no AWSPENDING left to block the next try
    assert not secretsmanager.describe_secret(SecretId=secret).get("RotationEnabled")
