"""The staging-label invariants: each one is caught when the code under test breaks it, and a correct
rotator never trips one, even when steps fail or crash and are retried.

The in-process tests take the violations they provoke off the world (``take_violations``), so the
teardown check only fails them for violations they did not expect. The pytester tests show what a
user sees: the teardown failure, the opt-outs and the usage error.
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

import rotators
from conftest import INITIAL
from rotation_testkit.assertions import assert_not_stuck, assert_valid_labels
from rotation_testkit.invariants import INVARIANT_NAMES, INVARIANTS, Violation, short_id

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
RULES = {"AutomaticallyAfterDays": 30}
INCOMPLETE = "A previous rotation isn't complete. That rotation will be reattempted."


def rotate(client, lambda_arn: str, secret_id: str = "app/db") -> str:
    return client.rotate_secret(
        SecretId=secret_id, RotationLambdaARN=lambda_arn, RotationRules=RULES
    )["VersionId"]


def current_version(client, secret_id: str = "app/db") -> str:
    version = rotators.holder(client, secret_id, "AWSCURRENT")
    assert version is not None
    return version


def named(violations: list[Violation], invariant: str) -> list[Violation]:
    return [violation for violation in violations if violation.invariant == invariant]


def login_probe(value) -> bool:
    """The probe of the protected user table: do these credentials log in?"""
    return rotators.login(value["username"], value["password"])


@pytest.fixture
def take_violations(rotation_kit):
    """Returns the violations seen so far and removes them, so teardown does not fail on them."""

    def take() -> list[Violation]:
        found = rotation_kit.violations
        rotation_kit.world.invariants.violations.clear()
        return found

    return take


# --- steps that break one invariant each ----------------------------------------------------------


def _current_onto_placeholder(client, arn: str, token: str) -> None:
    # createSecret that "promotes" the new version before giving it a value.
    current = rotators._current_version(client, arn)
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
    )


def _pending_moved_to_a_new_version(client, arn: str, token: str) -> None:
    # setSecret that generates a fresh password in a version of its own, labelled AWSPENDING.
    current = rotators._value(client, arn, VersionStage="AWSCURRENT")
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=str(uuid.uuid4()),
        SecretString=json.dumps({**current, "password": "another-new-password"}),
        VersionStages=["AWSPENDING"],
    )


def _finish_then_pending_on_old(client, arn: str, token: str) -> None:
    old = rotators._current_version(client, arn)
    rotators.finish_secret(client, arn, token)
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSPENDING", MoveToVersionId=old, RemoveFromVersionId=token
    )


def _finish_then_prepare_the_next_one(client, arn: str, token: str) -> None:
    rotators.finish_secret(client, arn, token)
    current = rotators._value(client, arn, VersionId=token)
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=str(uuid.uuid4()),
        SecretString=json.dumps({**current, "password": "next-password"}),
        VersionStages=["AWSPENDING"],
    )


def _create_same_value(client, arn: str, token: str) -> None:
    current = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=current, VersionStages=["AWSPENDING"]
    )


def _create_without_key(key: str):
    def create(client, arn: str, token: str) -> None:
        current = rotators._value(client, arn, VersionStage="AWSCURRENT")
        pending = {k: v for k, v in current.items() if k != key}
        pending["password"] = "a-brand-new-password"
        client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=json.dumps(pending),
            VersionStages=["AWSPENDING"],
        )

    return create


def _create_plain_string(client, arn: str, token: str) -> None:
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString="a-brand-new-password",
        VersionStages=["AWSPENDING"],
    )


def _set_with_a_typo(client, arn: str, token: str) -> None:
    # setSecret that changes the password to something other than what the secret stores.
    pending = rotators._value(client, arn, VersionId=token, VersionStage="AWSPENDING")
    current = rotators._value(client, arn, VersionStage="AWSCURRENT")
    rotators.change_password(current["username"], current["password"], pending["password"] + "!")


# --- the catalogue ------------------------------------------------------------------------------


def test_the_invariants_are_data_with_unique_names_and_descriptions() -> None:
    names = [invariant.name for invariant in INVARIANTS]
    assert names == [
        "one-current-with-value",
        "current-moves-only-in-finish",
        "pending-value-stable",
        "valid-end-state",
        "new-value-differs",
        "pending-keeps-json-keys",
        "current-accepted-by-service",
        "no-secret-in-logs",
    ]
    assert frozenset(names) == INVARIANT_NAMES
    assert all(invariant.description.endswith(".") for invariant in INVARIANTS)


# --- a correct rotator breaks nothing ---------------------------------------------------------------


def test_a_correct_rotator_breaks_no_invariant(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.set_probe(login_probe)
    arn = rotation_lambdas.register(rotators.correct)

    rotate(secretsmanager, arn)
    rotate(secretsmanager, arn)  # the second one logs in with AWSPREVIOUS's fallback, too

    assert rotation_kit.violations == []
    assert len(rotation_kit.events("RotationSucceeded")) == 2


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("fault", ["fail_step", "crash_after_step"])
def test_a_correct_rotator_breaks_no_invariant_under_a_fault(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit, fault, step
):
    # After a setSecret that ran (even one whose invocation then crashed), the protected service
    # knows only the pending password: the pending credentials stand in for the current ones.
    rotation_kit.set_probe(login_probe)
    getattr(rotation_faults, fault)(step)
    arn = rotation_lambdas.register(rotators.correct)

    rotate(secretsmanager, arn)

    assert rotation_kit.violations == []
    assert [e.attempt for e in rotation_kit.events("RotationFailed")] == [1]
    assert len(rotation_kit.events("RotationSucceeded")) == 1
    assert login_probe(
        json.loads(secretsmanager.get_secret_value(SecretId="app/db")["SecretString"])
    )


# --- one-current-with-value -----------------------------------------------------------------------


def test_current_on_the_empty_placeholder_is_caught(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    original = current_version(secretsmanager)
    handler = rotators.make_rotator("promotes_empty", createSecret=_current_onto_placeholder)

    token = rotate(secretsmanager, rotation_lambdas.register(handler))

    first = named(take_violations(), "one-current-with-value")[0]
    assert (first.step, first.attempt, first.after) == (
        "createSecret",
        1,
        "UpdateSecretVersionStage",
    )
    assert f"AWSCURRENT is on {short_id(token)}, a version with no value" in first.message
    assert first.versions == {original: ("AWSPREVIOUS",), token: ("AWSPENDING", "AWSCURRENT")}
    assert first.secret_arn == secret


def test_one_current_with_value_holds_for_a_correct_rotation(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    # The empty placeholder exists from RotateSecret until createSecret fills it: that is allowed.
    recorder = rotators.Recorder(
        probe=lambda client, event: client.describe_secret(SecretId=event["SecretId"])
    )
    rotate(secretsmanager, rotation_lambdas.register(recorder))

    first_seen = recorder.observations[0]["VersionIdsToStages"]
    assert sorted(first_seen.values()) == [["AWSCURRENT"], ["AWSPENDING"]]
    assert named(rotation_kit.violations, "one-current-with-value") == []


# --- current-moves-only-in-finish -----------------------------------------------------------------


def test_current_moving_in_create_secret_is_caught_though_the_rotation_ends_valid(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    original = current_version(secretsmanager)

    token = rotate(secretsmanager, rotation_lambdas.register(rotators.puts_current_early))

    # Judged by its end state alone, this rotation is fine.
    assert len(rotation_kit.events("RotationSucceeded")) == 1
    assert current_version(secretsmanager) == token
    assert_valid_labels(secretsmanager, "app/db")
    assert_not_stuck(secretsmanager, "app/db")
    # But AWSCURRENT moved before setSecret told the protected service: the invariant says so.
    violations = take_violations()
    assert [v.invariant for v in violations] == ["current-moves-only-in-finish"]
    (violation,) = violations
    assert (violation.step, violation.attempt, violation.after) == (
        "createSecret",
        1,
        "PutSecretValue",
    )
    assert (
        f"AWSCURRENT moved from {short_id(original)} to {short_id(token)} during createSecret"
        in violation.message
    )
    assert violation.versions == {original: ("AWSPREVIOUS",), token: ("AWSPENDING", "AWSCURRENT")}


def test_current_moving_to_another_version_in_finish_is_caught(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    def finish_onto_a_copy(client, arn, token):
        # finishSecret that makes a copy of the pending value current instead of the token.
        pending = client.get_secret_value(SecretId=arn, VersionId=token)["SecretString"]
        copy = client.put_secret_value(SecretId=arn, SecretString=pending, VersionStages=["COPY"])
        client.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=copy["VersionId"],
            RemoveFromVersionId=rotators._current_version(client, arn),
        )

    handler = rotators.make_rotator("finish_onto_a_copy", finishSecret=finish_onto_a_copy)
    rotation_kit.configure(max_attempts=1)

    token = rotate(secretsmanager, rotation_lambdas.register(handler))

    (violation,) = named(take_violations(), "current-moves-only-in-finish")
    assert (violation.step, violation.attempt) == ("finishSecret", 1)
    assert f"it may only move to the token {short_id(token)}" in violation.message


def test_current_moving_to_a_new_version_in_create_secret_is_caught(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    def create_without_token(client, arn, token):
        # The classic slip: no ClientRequestToken and no VersionStages. The SDK makes up a token,
        # the new value becomes AWSCURRENT at once, and the service abandons the rotation.
        current = rotators._value(client, arn, VersionStage="AWSCURRENT")
        client.put_secret_value(
            SecretId=arn, SecretString=json.dumps({**current, "password": "untested-password"})
        )

    original = current_version(secretsmanager)
    handler = rotators.make_rotator("create_without_token", createSecret=create_without_token)

    rotate(secretsmanager, rotation_lambdas.register(handler))

    assert current_version(secretsmanager) != original
    assert len(rotation_kit.events("RotationAbandoned")) == 1
    (violation,) = named(take_violations(), "current-moves-only-in-finish")
    assert (violation.step, violation.attempt) == ("createSecret", 1)


# --- pending-value-stable -------------------------------------------------------------------------


def test_pending_moving_to_a_new_version_with_a_new_value_is_caught(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    handler = rotators.make_rotator("regenerates_in_set", setSecret=_pending_moved_to_a_new_version)

    token = rotate(secretsmanager, rotation_lambdas.register(handler))

    moved_to = rotators.holder(secretsmanager, "app/db", "AWSPENDING")
    assert moved_to not in (None, token)
    violation = named(take_violations(), "pending-value-stable")[0]
    assert (violation.step, violation.attempt, violation.after) == (
        "setSecret",
        1,
        "PutSecretValue",
    )
    assert (
        f"AWSPENDING moved to {short_id(moved_to)}, away from the rotation's token {short_id(token)}"
        in violation.message
    )
    assert violation.versions[moved_to] == ("AWSPENDING",)


def test_a_retried_create_secret_that_keeps_the_pending_value_is_fine(
    secretsmanager, secret, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.crash_after_step("createSecret")
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert [e.step for e in rotation_kit.events("Invoke")].count("createSecret") == 2
    assert rotation_kit.violations == []


# --- valid-end-state ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "finish", [_finish_then_pending_on_old, _finish_then_prepare_the_next_one], ids=["old", "new"]
)
def test_pending_left_on_another_version_is_caught_though_the_service_says_succeeded(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations, finish
):
    arn = rotation_lambdas.register(rotators.make_rotator("leaves_pending", finishSecret=finish))

    token = rotate(secretsmanager, arn)

    # The service sees nothing wrong: every step returned, AWSCURRENT is on the token.
    assert [i.error for i in rotation_lambdas.invocations(arn)] == [None] * 4
    assert [e.version_id for e in rotation_kit.events("RotationSucceeded")] == [token]
    assert current_version(secretsmanager) == token
    stuck_on = rotators.holder(secretsmanager, "app/db", "AWSPENDING")
    assert stuck_on not in (None, token)
    # The invariant does: the next rotation cannot start.
    violations = take_violations()
    (violation,) = named(violations, "valid-end-state")
    assert violation.after == "the finishSecret step"
    assert (
        f"AWSPENDING is on {short_id(stuck_on)} but AWSCURRENT is on {short_id(token)}"
        in violation.message
    )
    assert "AWSPENDING" in violation.versions[stuck_on]
    assert "AWSCURRENT" in violation.versions[token]
    with pytest.raises(ClientError) as refused:
        rotate(secretsmanager, rotation_lambdas.register(rotators.correct))
    assert refused.value.response["Error"]["Message"] == INCOMPLETE


def test_a_finish_that_moves_nothing_is_caught_when_the_service_lets_it_succeed(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    # With the finish inference off, the service reports success whatever finishSecret did.
    rotation_kit.configure(require_finish_moves_current=False)
    original = current_version(secretsmanager)

    token = rotate(secretsmanager, rotation_lambdas.register(rotators.never_finishes))

    assert [e.version_id for e in rotation_kit.events("RotationSucceeded")] == [token]
    violations = take_violations()
    (violation,) = named(violations, "valid-end-state")
    assert (
        f"AWSPENDING is on {short_id(token)} but AWSCURRENT is on {short_id(original)}"
        in violation.message
    )
    assert violation.versions == {original: ("AWSCURRENT",), token: ("AWSPENDING",)}
    assert [v.invariant for v in violations] == ["valid-end-state", "new-value-differs"]


def test_valid_end_state_names_the_step_and_attempt(
    secretsmanager, secret, rotation_lambdas, rotation_faults, rotation_kit, take_violations
):
    # The end state is judged after finishSecret of the attempt that succeeded: say which.
    rotation_kit.configure(require_finish_moves_current=False)
    rotation_faults.fail_step("setSecret")

    rotate(secretsmanager, rotation_lambdas.register(rotators.never_finishes))

    (violation,) = named(take_violations(), "valid-end-state")
    assert (violation.step, violation.attempt) == ("finishSecret", 2)
    assert "during finishSecret (attempt 2)" in violation.render()


def test_a_failed_rotation_is_not_judged_by_its_end_state(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    # AWSPENDING stays after a rotation that failed every attempt: that is the service's state
    # ("will be reattempted"), not a rotator's bug.
    rotate(secretsmanager, rotation_lambdas.register(rotators.fails_at("testSecret")))

    assert rotators.holder(secretsmanager, "app/db", "AWSPENDING") is not None
    assert rotation_kit.violations == []


# --- new-value-differs ----------------------------------------------------------------------------


def test_a_rotation_that_keeps_the_value_is_caught(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    handler = rotators.make_rotator("same_value", createSecret=_create_same_value)

    token = rotate(secretsmanager, rotation_lambdas.register(handler))

    assert [e.version_id for e in rotation_kit.events("RotationSucceeded")] == [token]
    violations = take_violations()
    assert [v.invariant for v in violations] == ["new-value-differs"]
    assert "nothing was rotated" in violations[0].message
    assert "AWSCURRENT" in violations[0].versions[token]


def test_new_value_differs_names_the_step_and_attempt(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    handler = rotators.make_rotator("same_value", createSecret=_create_same_value)

    rotate(secretsmanager, rotation_lambdas.register(handler))

    (violation,) = named(take_violations(), "new-value-differs")
    assert (violation.step, violation.attempt) == ("finishSecret", 1)


# --- pending-keeps-json-keys ----------------------------------------------------------------------


@pytest.fixture
def secret_with_host(secretsmanager, protected) -> str:
    value = {**INITIAL, "host": "db.internal"}
    return secretsmanager.create_secret(Name="app/db", SecretString=json.dumps(value))["ARN"]


def test_a_pending_secret_without_a_key_is_caught(
    secretsmanager, secret_with_host, rotation_lambdas, rotation_kit, take_violations
):
    handler = rotators.make_rotator("drops_host", createSecret=_create_without_key("host"))

    token = rotate(secretsmanager, rotation_lambdas.register(handler))

    assert len(rotation_kit.events("RotationSucceeded")) == 1
    violations = take_violations()
    assert [v.invariant for v in violations] == ["pending-keeps-json-keys"]
    (violation,) = violations
    assert (violation.step, violation.attempt, violation.after) == (
        "createSecret",
        1,
        "PutSecretValue",
    )
    assert "lacks the key(s) host" in violation.message
    assert violation.versions[token] == ("AWSPENDING",)


def test_a_pending_secret_that_is_no_json_object_is_caught(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    handler = rotators.make_rotator("plain_string", createSecret=_create_plain_string)
    rotation_kit.configure(max_attempts=1)

    rotate(secretsmanager, rotation_lambdas.register(handler))

    (violation,) = named(take_violations(), "pending-keeps-json-keys")
    assert "is not a JSON object" in violation.message


def test_a_plain_string_secret_has_no_keys_to_keep(
    secretsmanager, protected, rotation_lambdas, rotation_kit
):
    secretsmanager.create_secret(Name="app/token", SecretString="first-token")

    def handler(event, context):
        client, arn, token = secretsmanager, event["SecretId"], event["ClientRequestToken"]
        if event["Step"] == "createSecret":
            client.put_secret_value(
                SecretId=arn,
                ClientRequestToken=token,
                SecretString="second-token",
                VersionStages=["AWSPENDING"],
            )
        elif event["Step"] == "finishSecret":
            rotators.finish_secret(client, arn, token)

    rotate(secretsmanager, rotation_lambdas.register(handler), "app/token")

    assert rotation_kit.violations == []


@pytest.mark.rotation_testkit(disabled_invariants=["pending-keeps-json-keys"])
def test_pending_keeps_json_keys_can_be_turned_off_with_the_marker(
    secretsmanager, secret_with_host, rotation_lambdas, rotation_kit
):
    handler = rotators.make_rotator("drops_host", createSecret=_create_without_key("host"))

    rotate(secretsmanager, rotation_lambdas.register(handler))

    assert "pending-keeps-json-keys" in rotation_kit.config.disabled_invariants
    assert rotation_kit.violations == []


def test_pending_keeps_json_keys_can_be_turned_off_with_configure(
    secretsmanager, secret_with_host, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(disabled_invariants=["pending-keeps-json-keys"])
    handler = rotators.make_rotator("drops_host", createSecret=_create_without_key("host"))

    rotate(secretsmanager, rotation_lambdas.register(handler))

    assert rotation_kit.violations == []


# --- current-accepted-by-service ------------------------------------------------------------------


def test_a_set_secret_that_sets_another_password_is_caught_by_the_probe(
    secretsmanager, secret, protected, rotation_lambdas, rotation_kit, take_violations
):
    rotation_kit.set_probe(login_probe)
    rotation_kit.configure(max_attempts=1)
    handler = rotators.make_rotator("typo_in_set", setSecret=_set_with_a_typo)

    token = rotate(secretsmanager, rotation_lambdas.register(handler))

    violations = named(take_violations(), "current-accepted-by-service")
    first = violations[0]
    assert (first.step, first.attempt, first.after) == ("setSecret", 1, "the setSecret step")
    assert "refused the AWSCURRENT credentials" in first.message
    assert "neither were the pending ones" in first.message
    assert first.versions[token] == ("AWSPENDING",)


def test_without_a_probe_the_service_is_not_asked(
    secretsmanager, secret, protected, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)
    handler = rotators.make_rotator("typo_in_set", setSecret=_set_with_a_typo)

    rotate(secretsmanager, rotation_lambdas.register(handler))

    assert rotation_kit.violations == []


def test_the_probe_gets_the_current_value_as_a_dict_or_a_string(
    secretsmanager, secret, protected, rotation_lambdas, rotation_kit
):
    seen: list[object] = []

    def probe(value):
        seen.append(value)
        return login_probe(value)

    rotation_kit.set_probe(probe)
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert len(seen) >= len(STEPS)  # at least once per step boundary
    assert all(isinstance(value, dict) and set(value) == set(INITIAL) for value in seen)
    assert rotation_kit.violations == []


def test_a_probe_that_raises_counts_as_a_refusal(
    secretsmanager, secret, protected, rotation_lambdas, rotation_kit, take_violations
):
    def probe(value):
        raise ConnectionRefusedError("no route to the database")

    rotation_kit.set_probe(probe)
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    violations = named(take_violations(), "current-accepted-by-service")
    assert violations
    assert "the probe raised ConnectionRefusedError" in violations[0].message


def test_the_probe_can_be_removed(
    secretsmanager, secret, protected, rotation_lambdas, rotation_kit
):
    rotation_kit.set_probe(lambda value: False)
    rotation_kit.set_probe(None)

    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert rotation_kit.violations == []


# --- how violations are listed ----------------------------------------------------------------------


def test_violations_render_with_name_step_attempt_and_short_ids(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    original = current_version(secretsmanager)
    token = rotate(secretsmanager, rotation_lambdas.register(rotators.puts_current_early))

    (violation,) = take_violations()
    text = violation.render()

    assert text.startswith(
        "invariant 'current-moves-only-in-finish' violated after PutSecretValue during "
        f"createSecret (attempt 1) on {secret}:"
    )
    assert (
        "(During a rotation AWSCURRENT moves only in finishSecret, and only to the rotation's token.)"
        in text
    )
    assert (
        f"labels: {short_id(original)}: AWSPREVIOUS, {short_id(token)}: AWSPENDING+AWSCURRENT"
        in text
    )
    assert token not in text  # versions by short id only
    assert original not in text


def test_violations_is_a_copy(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    rotate(secretsmanager, rotation_lambdas.register(rotators.puts_current_early))

    rotation_kit.violations.clear()

    assert len(take_violations()) == 1


def test_one_mistake_is_reported_once(
    secretsmanager, secret, rotation_lambdas, rotation_kit, take_violations
):
    # The empty AWSCURRENT stays for the rest of the rotation; the report should name the moment it
    # broke, not repeat it after every later API call and step.
    handler = rotators.make_rotator("promotes_empty", createSecret=_current_onto_placeholder)

    rotate(secretsmanager, rotation_lambdas.register(handler))

    assert len(named(take_violations(), "one-current-with-value")) == 1


# --- what a user sees: pytester -------------------------------------------------------------------

# A self-contained rotator for the generated tests: fixed version ids make the output predictable.
GENERATED = """
import pytest

FIRST = "11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
TOKEN = "22222222-bbbb-4bbb-8bbb-bbbbbbbbbbbb"


def current_of(client, arn):
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    return next(v for v, labels in stages.items() if "AWSCURRENT" in labels)


def rotator(put_stages):
    def handler(event, context):
        import boto3

        client = boto3.client("secretsmanager")
        arn, token = event["SecretId"], event["ClientRequestToken"]
        if "AWSCURRENT" in client.describe_secret(SecretId=arn)["VersionIdsToStages"][token]:
            return
        if event["Step"] == "createSecret":
            client.put_secret_value(
                SecretId=arn, ClientRequestToken=token, SecretString="new", **put_stages
            )
        elif event["Step"] == "finishSecret":
            client.update_secret_version_stage(
                SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
                RemoveFromVersionId=current_of(client, arn),
            )

    return handler


def rotate(secretsmanager, rotation_lambdas, put_stages):
    secretsmanager.create_secret(Name="app/db", SecretString="old", ClientRequestToken=FIRST)
    secretsmanager.rotate_secret(
        SecretId="app/db",
        ClientRequestToken=TOKEN,
        RotationLambdaARN=rotation_lambdas.register(rotator(put_stages)),
        RotationRules={"AutomaticallyAfterDays": 30},
    )
"""

EARLY = """
def test_rotates(secretsmanager, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas, {})  # no VersionStages: AWSCURRENT moves early
"""


def test_a_violation_fails_the_test_in_its_call_phase(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(GENERATED + EARLY)

    result = pytester.runpytest("-rA")

    # One test, one outcome: FAILED, not PASSED plus an ERROR at teardown.
    result.assert_outcomes(failed=1)
    assert "at teardown" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*_ test_rotates _*",
            "*the code under test broke rotation invariants:",
            "*invariant 'current-moves-only-in-finish' violated after PutSecretValue during "
            "createSecret (attempt 1) on arn:aws:secretsmanager:*:secret:app/db-*",
            "*AWSCURRENT moved from 11111111 to 22222222 during createSecret*",
            "*labels: 11111111: AWSPREVIOUS, 22222222: AWSPENDING+AWSCURRENT",
            "*Turn one off with @pytest.mark.rotation_testkit(disabled_invariants=[[]...[]])*",
            "*- rotation timeline -*",
            "*rotation of app/db, token 22222222",
            "*time*try*step / event*outcome*labels after",
            "*1*RotationStarted*ok*11111111:AWSCURRENT*22222222:AWSPENDING",
            "*1*createSecret*ok*11111111:AWSPREVIOUS*22222222:AWSPENDING+AWSCURRENT",
            "*1*RotationSucceeded*ok*11111111:AWSPREVIOUS*22222222:AWSCURRENT",
        ]
    )
    assert "11111111-aaaa" not in result.stdout.str()  # short ids only


def test_a_correct_generated_rotation_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GENERATED
        + """
def test_rotates(secretsmanager, rotation_lambdas, rotation_kit):
    rotate(secretsmanager, rotation_lambdas, {"VersionStages": ["AWSPENDING"]})
    assert rotation_kit.violations == []
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_failing_test_is_not_buried_under_its_violations(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GENERATED
        + """
def test_rotates(secretsmanager, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas, {})
    assert 1 == 2
"""
    )
    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    # The violation is still shown, in the failure's rotation timeline section.
    result.stdout.fnmatch_lines(
        ["*- rotation timeline -*", "*invariant 'current-moves-only-in-finish' violated*"]
    )


def test_the_marker_turns_one_invariant_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GENERATED
        + """
@pytest.mark.rotation_testkit(disabled_invariants=["current-moves-only-in-finish"])
def test_rotates(secretsmanager, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas, {})


@pytest.mark.rotation_testkit(disabled_invariants=["valid-end-state"])
def test_only_the_named_one(secretsmanager, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas, {})
"""
    )
    result = pytester.runpytest()

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED *::test_only_the_named_one*"])


def test_a_module_marker_turns_an_invariant_off_for_every_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GENERATED
        + """
pytestmark = pytest.mark.rotation_testkit(disabled_invariants=["current-moves-only-in-finish"])


def test_rotates(secretsmanager, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas, {})
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    "value",
    [
        "current-moves-only-in-finish",
        "valid-end-state, current-moves-only-in-finish",
        "valid-end-state current-moves-only-in-finish",
    ],
)
def test_the_ini_option_turns_invariants_off(pytester: pytest.Pytester, value: str) -> None:
    pytester.makeini(f"[pytest]\nrotation_testkit_disabled_invariants = {value}\n")
    pytester.makepyfile(
        GENERATED
        + EARLY
        + """

def test_the_setting(rotation_kit):
    assert "current-moves-only-in-finish" in rotation_kit.config.disabled_invariants
"""
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_the_ini_option_leaves_other_invariants_on(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrotation_testkit_disabled_invariants = valid-end-state\n")
    pytester.makepyfile(GENERATED + EARLY)

    pytester.runpytest().assert_outcomes(failed=1)


def _known_names_line() -> str:
    return f"*known: {', '.join(sorted(INVARIANT_NAMES))}.*"


def test_an_unknown_invariant_in_the_marker_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest


@pytest.mark.rotation_testkit(disabled_invariants=["no-such-invariant"])
def test_it(rotation_kit):
    pass
"""
    )
    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*rotation-testkit: unknown invariant(s) no-such-invariant; " + _known_names_line()[1:]]
    )


def test_an_unknown_invariant_in_the_ini_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrotation_testkit_disabled_invariants = valid-end-state, typo\n")
    pytester.makepyfile("def test_it(rotation_kit):\n    pass\n")

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown invariant(s) typo; " + _known_names_line()[1:]])


def test_an_unknown_invariant_in_configure_is_refused(rotation_kit) -> None:
    from rotation_testkit.config import ConfigError

    with pytest.raises(ConfigError, match=r"unknown invariant\(s\) typo; known: current-"):
        rotation_kit.configure(disabled_invariants=["typo"])
