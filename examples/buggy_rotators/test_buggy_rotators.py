"""Each buggy rotator, and the fault that exposes it.

Every test runs the correct rotator (examples/password_rotator) and a buggy one side by side, on two
secrets protecting two database users, with the same fault planned for each. The correct rotator
survives: the rotation succeeds and the database accepts the AWSCURRENT password. The buggy one is
caught: the rotation is stuck with AWSPENDING left behind, the database refuses what applications
read, or the rotation is reported as failed although it rotated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import finish_without_remove_from_version
import forgets_current_check
import pytest
import regenerates_password_on_retry
import rotator
import set_secret_not_idempotent
import swallows_errors
from toy_database import DATABASE

INITIAL_PASSWORD = "initial-password"

Plan = Callable[[str], Any]  # plans a fault for one secret, given its name


@pytest.fixture(autouse=True)
def database() -> Iterator[None]:
    DATABASE.reset({})
    yield
    DATABASE.reset({})


@dataclass
class Outcome:
    """How a rotation ended, seen from the applications and from the service."""

    succeeded: bool  # the service logged RotationSucceeded
    failures: list[str]  # the error of each RotationFailed, in order
    current: dict[str, str] | None  # the AWSCURRENT value; None when that version has no value
    database_accepts_current: bool
    pending_left_behind: bool  # AWSPENDING on a version other than AWSCURRENT's
    rotated: bool  # AWSCURRENT holds a new password

    @property
    def healthy(self) -> bool:
        return (
            self.succeeded
            and self.rotated
            and self.database_accepts_current
            and not self.pending_left_behind
        )


def start(rotation_kit, handler: Callable[..., Any], user: str) -> str:
    """A secret for a new database user, with ``handler`` as its rotation function."""
    DATABASE.passwords[user] = INITIAL_PASSWORD
    rotation_kit.secretsmanager.create_secret(
        Name=f"{user}/db", SecretString=json.dumps({"username": user, "password": INITIAL_PASSWORD})
    )
    return rotation_kit.lambdas.register(handler, name=f"{user}-rotator")


def rotate(rotation_kit, user: str, arn: str) -> None:
    rotation_kit.secretsmanager.rotate_secret(
        SecretId=f"{user}/db", RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )


def outcome(rotation_kit, user: str) -> Outcome:
    client = rotation_kit.secretsmanager
    secret_id = f"{user}/db"
    try:
        current: dict[str, str] | None = json.loads(
            client.get_secret_value(SecretId=secret_id)["SecretString"]
        )
    except client.exceptions.ResourceNotFoundException:
        current = None
    stages = client.describe_secret(SecretId=secret_id)["VersionIdsToStages"].values()
    return Outcome(
        succeeded=bool(rotation_kit.events("RotationSucceeded", secret_id=secret_id)),
        failures=[
            e.error or "" for e in rotation_kit.events("RotationFailed", secret_id=secret_id)
        ],
        current=current,
        database_accepts_current=current is not None
        and DATABASE.login(current["username"], current["password"]),
        pending_left_behind=any("AWSPENDING" in s and "AWSCURRENT" not in s for s in stages),
        rotated=current is not None and current["password"] != INITIAL_PASSWORD,
    )


def run(rotation_kit, handler: Callable[..., Any], user: str, plan: Plan | None) -> Outcome:
    arn = start(rotation_kit, handler, user)
    if plan is not None:
        plan(f"{user}/db")
    rotate(rotation_kit, user, arn)
    return outcome(rotation_kit, user)


def test_a_crash_after_set_secret_catches_regenerates_password_on_retry(
    rotation_kit, rotation_faults
):
    def plan(secret_id: str) -> None:
        rotation_faults.crash_after_step("setSecret", secret_id=secret_id)

    correct = run(rotation_kit, rotator.lambda_handler, "correct", plan)
    buggy = run(rotation_kit, regenerates_password_on_retry.lambda_handler, "buggy", plan)

    assert correct.healthy, correct
    # The retry's createSecret tried to give the pending version another password.
    assert not buggy.succeeded
    assert buggy.pending_left_behind
    assert all("ResourceExistsException" in f for f in buggy.failures[1:]), buggy.failures
    # setSecret had already changed the password: applications are now locked out.
    assert not buggy.database_accepts_current


def test_a_crash_after_create_secret_leaves_regenerates_password_on_retry_stuck(
    rotation_kit, rotation_faults
):
    def plan(secret_id: str) -> None:
        rotation_faults.crash_after_step("createSecret", secret_id=secret_id)

    correct = run(rotation_kit, rotator.lambda_handler, "correct", plan)
    buggy = run(rotation_kit, regenerates_password_on_retry.lambda_handler, "buggy", plan)

    assert correct.healthy, correct
    assert not buggy.succeeded
    assert buggy.pending_left_behind
    assert not buggy.rotated
    # The next rotation cannot even start.
    with pytest.raises(
        rotation_kit.secretsmanager.exceptions.InvalidRequestException,
        match="previous rotation isn't complete",
    ):
        rotation_kit.secretsmanager.rotate_secret(SecretId="buggy/db")


def test_a_crash_after_set_secret_catches_set_secret_not_idempotent(rotation_kit, rotation_faults):
    def plan(secret_id: str) -> None:
        rotation_faults.crash_after_step("setSecret", secret_id=secret_id)

    correct = run(rotation_kit, rotator.lambda_handler, "correct", plan)
    buggy = run(rotation_kit, set_secret_not_idempotent.lambda_handler, "buggy", plan)

    assert correct.healthy, correct
    assert not buggy.succeeded
    assert buggy.pending_left_behind
    assert all("LoginFailed" in f for f in buggy.failures[1:]), buggy.failures
    assert not buggy.database_accepts_current


def test_a_failure_before_test_secret_also_catches_set_secret_not_idempotent(
    rotation_kit, rotation_faults
):
    def plan(secret_id: str) -> None:
        rotation_faults.fail_step("testSecret", secret_id=secret_id)

    correct = run(rotation_kit, rotator.lambda_handler, "correct", plan)
    buggy = run(rotation_kit, set_secret_not_idempotent.lambda_handler, "buggy", plan)

    assert correct.healthy, correct
    assert not buggy.succeeded
    assert not buggy.database_accepts_current


@pytest.mark.rotation_testkit(rotation_mode="deferred")
def test_a_read_failure_during_set_secret_catches_swallows_errors(
    rotation_kit, rotation_faults, rotation_clock
):
    """With the steps running as the clock moves, the fault is planned once createSecret is done."""
    outcomes = {}
    for user, handler in (
        ("correct", rotator.lambda_handler),
        ("buggy", swallows_errors.lambda_handler),
    ):
        arn = start(rotation_kit, handler, user)
        rotate(rotation_kit, user, arn)
        rotation_clock.advance(seconds=1)  # createSecret runs
        # Decrypting the pending value fails once, in setSecret: the password is not applied.
        rotation_faults.fail_api("GetSecretValue", code="DecryptionFailure", secret_id=f"{user}/db")
        rotation_clock.advance(minutes=30)  # the other steps, and retries if any
        outcomes[user] = outcome(rotation_kit, user)

    assert outcomes["correct"].healthy, outcomes["correct"]
    assert "DecryptionFailure" in outcomes["correct"].failures[0]
    buggy = outcomes["buggy"]
    # The service saw four successful steps: the rotation "succeeded"...
    assert buggy.succeeded
    assert buggy.failures == []
    assert buggy.rotated
    # ...with a password the database has never heard of.
    assert not buggy.database_accepts_current


# The kit's invariant checker flags the empty AWSCURRENT version the moment finishSecret moves the
# label, and would fail this test; it is turned off here to show the outcome itself.
@pytest.mark.rotation_testkit(disabled_invariants=["one-current-with-value"])
def test_a_storage_failure_at_create_secret_catches_swallows_errors(rotation_kit, rotation_faults):
    def plan(secret_id: str) -> None:
        # KMS refuses to encrypt the new value: PutSecretValue fails (the SDK does not retry it).
        rotation_faults.fail_api("PutSecretValue", code="EncryptionFailure", secret_id=secret_id)

    correct = run(rotation_kit, rotator.lambda_handler, "correct", plan)
    buggy = run(rotation_kit, swallows_errors.lambda_handler, "buggy", plan)

    assert correct.healthy, correct
    assert buggy.succeeded
    # AWSCURRENT moved to the empty version RotateSecret made: nobody can read the secret now.
    assert buggy.current is None
    with pytest.raises(rotation_kit.secretsmanager.exceptions.ResourceNotFoundException):
        rotation_kit.secretsmanager.get_secret_value(SecretId="buggy/db")


def test_the_first_rotation_catches_finish_without_remove_from_version(rotation_kit):
    # No fault needed: AWS refuses the call on every attempt.
    correct = run(rotation_kit, rotator.lambda_handler, "correct", None)
    buggy = run(rotation_kit, finish_without_remove_from_version.lambda_handler, "buggy", None)

    assert correct.healthy, correct
    assert not buggy.succeeded
    assert len(buggy.failures) == rotation_kit.config.max_attempts
    assert all("RemoveFromVersionId" in f for f in buggy.failures), buggy.failures
    assert buggy.pending_left_behind
    assert not buggy.database_accepts_current


def test_a_crash_after_finish_secret_catches_forgets_current_check(rotation_kit, rotation_faults):
    def plan(secret_id: str) -> None:
        rotation_faults.crash_after_step("finishSecret", secret_id=secret_id)

    correct = run(rotation_kit, rotator.lambda_handler, "correct", plan)
    buggy = run(rotation_kit, forgets_current_check.lambda_handler, "buggy", plan)

    assert correct.healthy, correct
    # The password did rotate, and applications can log in...
    assert buggy.rotated
    assert buggy.database_accepts_current
    # ...but every retry failed, so the rotation is reported as failed and AWSPENDING stays on
    # the current version: nothing ever logs RotationSucceeded for it.
    assert not buggy.succeeded
    assert len(buggy.failures) == rotation_kit.config.max_attempts
    assert all("old password" in f for f in buggy.failures[1:]), buggy.failures
    stages = rotation_kit.secretsmanager.describe_secret(SecretId="buggy/db")["VersionIdsToStages"]
    assert ["AWSCURRENT", "AWSPENDING"] in [sorted(s) for s in stages.values()]
    assert "LastRotatedDate" not in rotation_kit.secretsmanager.describe_secret(SecretId="buggy/db")


@pytest.mark.parametrize(
    "handler",
    [
        regenerates_password_on_retry.lambda_handler,
        set_secret_not_idempotent.lambda_handler,
        swallows_errors.lambda_handler,
        forgets_current_check.lambda_handler,
    ],
    ids=lambda handler: handler.__module__,
)
def test_without_a_fault_the_bugs_stay_hidden(rotation_kit, handler):
    """Why the faults matter: on a good day, each of these rotators rotates correctly."""
    assert run(rotation_kit, handler, "buggy", None).healthy
