"""RotateSecret: what the service does around the rotation function (ROTATION-SEMANTICS section 2).

Plain moto sends the secret's name, no RotationToken, needs Docker to run a Lambda, ignores the
function's errors, never retries, leaves AWSPENDING behind and inverts the "previous rotation isn't
complete" check; each test here would fail on it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

import rotators
from conftest import INITIAL
from rotators import holder, stages

STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]
TOKEN = "token-0000-1111-2222-3333-444444444444"
RULES = {"AutomaticallyAfterDays": 30}

NO_LAMBDA = "No Lambda rotation function ARN is associated with this secret."
CANNOT_INVOKE = (
    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy "
    "grants access to the principal secretsmanager.amazonaws.com."
)
BOTH_RULES = "You cannot specify both rotation frequency and schedule expression together."
INCOMPLETE = "A previous rotation isn't complete. That rotation will be reattempted."


def current_password(client, secret_id: str) -> str:
    value: str = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])["password"]
    return value


def rotate(client, secret_id: str, arn: str | None = None, **kwargs):
    if arn is not None:
        kwargs["RotationLambdaARN"] = arn
    kwargs.setdefault("RotationRules", RULES)
    return client.rotate_secret(SecretId=secret_id, **kwargs)


def refusal(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


# --- the steps, in order, from any client -------------------------------------------------------

CLIENTS = {
    "fixture": lambda fixture_client: fixture_client,
    "boto3.client": lambda _: boto3.client("secretsmanager"),
    "boto3.Session().client": lambda _: boto3.Session().client("secretsmanager"),
    "endpoint_url": lambda _: boto3.client(
        "secretsmanager", endpoint_url="https://secretsmanager.us-east-1.amazonaws.com"
    ),
}


@pytest.mark.parametrize("how", CLIENTS)
def test_rotate_secret_from_any_client_runs_the_four_steps_in_order(
    how, secretsmanager, secret, rotation_lambdas
):
    client = CLIENTS[how](secretsmanager)
    recorder = rotators.Recorder()
    arn = rotation_lambdas.register(recorder, name="recorder")

    response = rotate(client, "app/db", arn)

    assert recorder.steps == STEPS
    assert current_password(secretsmanager, secret) != INITIAL["password"]
    assert holder(secretsmanager, secret, "AWSCURRENT") == response["VersionId"]


@pytest.mark.parametrize(
    "handler",
    [rotators.correct, rotators.with_default_client, rotators.with_session_client],
    ids=lambda h: h.__name__,
)
def test_a_rotator_building_its_client_in_the_handler_reaches_the_backend(
    handler, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(handler)

    rotate(secretsmanager, secret, arn)

    assert [inv.error for inv in rotation_lambdas.invocations(arn)] == [None] * 4
    assert rotators.login("app", current_password(secretsmanager, secret))


def test_a_rotator_building_its_client_at_import_time_reaches_the_backend(
    secretsmanager, secret, rotation_lambdas, tmp_path
):
    path = rotators.write_import_time_rotator(tmp_path)
    arn = rotation_lambdas.register(f"{path}:lambda_handler", name="import-time")

    rotate(secretsmanager, secret, arn)

    assert [inv.error for inv in rotation_lambdas.invocations(arn)] == [None] * 4
    assert rotators.login("app", current_password(secretsmanager, secret))


def test_the_event_has_the_aws_shape(secretsmanager, secret, rotation_lambdas):
    recorder = rotators.Recorder()
    arn = rotation_lambdas.register(recorder, name="recorder")

    secretsmanager.rotate_secret(
        SecretId="app/db", ClientRequestToken=TOKEN, RotationLambdaARN=arn, RotationRules=RULES
    )

    for event, step in zip(recorder.events, STEPS, strict=True):
        assert set(event) == {"Step", "SecretId", "ClientRequestToken", "RotationToken"}
        assert event["Step"] == step
        assert event["SecretId"] == secret  # the ARN, even though the call named the secret
        assert event["ClientRequestToken"] == TOKEN
        assert isinstance(event["RotationToken"], str)
        assert event["RotationToken"]


def test_the_placeholder_exists_without_a_value_at_create_secret(
    secretsmanager, secret, rotation_lambdas
):
    def look(client, event):
        if event["Step"] != "createSecret":
            return None
        token = event["ClientRequestToken"]
        to_stages = client.describe_secret(SecretId=event["SecretId"])["VersionIdsToStages"]
        errors = []
        for selector in (
            {"VersionId": token, "VersionStage": "AWSPENDING"},
            {"VersionStage": "AWSPENDING"},
            {"VersionId": token},
        ):
            try:
                client.get_secret_value(SecretId=event["SecretId"], **selector)
                errors.append(None)
            except ClientError as error:
                errors.append(error.response["Error"]["Code"])
        return to_stages.get(token), errors

    recorder = rotators.Recorder(probe=look)
    arn = rotation_lambdas.register(recorder, name="recorder")

    response = secretsmanager.rotate_secret(
        SecretId=secret, ClientRequestToken=TOKEN, RotationLambdaARN=arn, RotationRules=RULES
    )

    placeholder_stages, errors = recorder.observations[0]
    assert placeholder_stages == ["AWSPENDING"]
    assert errors == ["ResourceNotFoundException"] * 3
    assert response["VersionId"] == TOKEN
    assert holder(secretsmanager, secret, "AWSCURRENT") == TOKEN


def test_the_steps_run_before_rotate_secret_returns(secretsmanager, secret, rotation_lambdas):
    arn = rotation_lambdas.register(rotators.correct)

    rotate(secretsmanager, secret, arn)

    assert len(rotation_lambdas.invocations(arn)) == 4
    assert current_password(secretsmanager, secret) != INITIAL["password"]


# --- refusals ------------------------------------------------------------------------------------


def test_no_lambda_is_refused(secretsmanager, secret):
    with pytest.raises(ClientError) as excinfo:
        rotate(secretsmanager, secret)

    assert refusal(excinfo) == ("InvalidRequestException", NO_LAMBDA)


def test_an_unregistered_lambda_is_refused(secretsmanager, secret):
    with pytest.raises(ClientError) as excinfo:
        rotate(secretsmanager, secret, "arn:aws:lambda:us-east-1:123456789012:function:nope")

    assert refusal(excinfo) == ("AccessDeniedException", CANNOT_INVOKE)
    assert holder(secretsmanager, secret, "AWSPENDING") is None


def test_frequency_and_schedule_expression_together_are_refused(
    secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)

    with pytest.raises(ClientError) as excinfo:
        rotate(
            secretsmanager,
            secret,
            arn,
            RotationRules={"AutomaticallyAfterDays": 10, "ScheduleExpression": "rate(10 days)"},
        )

    assert refusal(excinfo) == ("InvalidParameterException", BOTH_RULES)
    assert rotation_lambdas.invocations() == []


def test_a_secret_marked_for_deletion_is_refused(secretsmanager, secret, rotation_lambdas):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.delete_secret(SecretId=secret, RecoveryWindowInDays=7)

    with pytest.raises(ClientError) as excinfo:
        rotate(secretsmanager, secret, arn)

    code, message = refusal(excinfo)
    assert code == "InvalidRequestException"
    assert "marked for deletion" in message
    assert rotation_lambdas.invocations() == []


def test_a_stuck_rotation_blocks_the_next_one(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)
    failing = rotation_lambdas.register(rotators.fails_at("testSecret"))
    stuck = rotate(secretsmanager, secret, failing)["VersionId"]
    correct = rotation_lambdas.register(rotators.correct)

    with pytest.raises(ClientError) as excinfo:
        rotate(secretsmanager, secret, correct)

    assert refusal(excinfo) == ("InvalidRequestException", INCOMPLETE)
    assert holder(secretsmanager, secret, "AWSPENDING") == stuck
    assert rotation_lambdas.invocations(correct) == []


def test_a_pending_label_on_another_version_blocks_rotation(
    secretsmanager, secret, rotation_lambdas
):
    stale = secretsmanager.put_secret_value(
        SecretId=secret, SecretString='{"username": "app"}', VersionStages=["AWSPENDING"]
    )["VersionId"]
    arn = rotation_lambdas.register(rotators.correct)

    with pytest.raises(ClientError) as excinfo:
        rotate(secretsmanager, secret, arn)

    assert refusal(excinfo) == ("InvalidRequestException", INCOMPLETE)
    assert holder(secretsmanager, secret, "AWSPENDING") == stale  # not silently stripped
    assert rotation_lambdas.invocations() == []


def test_pending_on_the_current_version_does_not_block_rotation_put(
    secretsmanager, secret, rotation_lambdas
):
    """AWSPENDING together with AWSCURRENT is a valid end state (moto refuses it)."""
    put = secretsmanager.put_secret_value(
        SecretId=secret,
        SecretString=json.dumps(INITIAL),
        VersionStages=["AWSCURRENT", "AWSPENDING"],
    )
    assert stages(secretsmanager, secret)[put["VersionId"]] == ["AWSCURRENT", "AWSPENDING"]
    arn = rotation_lambdas.register(rotators.correct)

    new = rotate(secretsmanager, secret, arn)["VersionId"]

    assert holder(secretsmanager, secret, "AWSCURRENT") == new
    assert holder(secretsmanager, secret, "AWSPENDING") is None


def test_pending_on_the_current_version_does_not_block_rotation_stage_move(
    secretsmanager, secret, rotation_lambdas
):
    current = holder(secretsmanager, secret, "AWSCURRENT")
    secretsmanager.update_secret_version_stage(
        SecretId=secret, VersionStage="AWSPENDING", MoveToVersionId=current
    )
    arn = rotation_lambdas.register(rotators.correct)

    new = rotate(secretsmanager, secret, arn)["VersionId"]

    assert holder(secretsmanager, secret, "AWSCURRENT") == new
    assert rotators.login("app", current_password(secretsmanager, secret))


# --- configuration is stored and reused -------------------------------------------------------


def test_a_bare_rotate_secret_reuses_the_stored_lambda_and_rules(
    secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)
    rules = {"ScheduleExpression": "rate(10 days)", "Duration": "3h"}
    rotate(secretsmanager, secret, arn, RotationRules=rules)
    first = current_password(secretsmanager, secret)

    secretsmanager.rotate_secret(SecretId=secret)

    assert len(rotation_lambdas.invocations(arn)) == 8
    assert current_password(secretsmanager, secret) not in (first, INITIAL["password"])
    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["RotationLambdaARN"] == arn
    assert described["RotationRules"]["ScheduleExpression"] == "rate(10 days)"
    assert described["RotationRules"]["Duration"] == "3h"


def test_after_success_the_secret_describes_the_rotation(secretsmanager, secret, rotation_lambdas):
    arn = rotation_lambdas.register(rotators.correct)
    before = datetime.now(timezone.utc)

    rotate(
        secretsmanager,
        secret,
        arn,
        RotationRules={"ScheduleExpression": "rate(10 days)", "Duration": "3h"},
    )

    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["RotationEnabled"] is True
    assert described["RotationLambdaARN"] == arn
    rules = described["RotationRules"]
    assert (rules["ScheduleExpression"], rules["Duration"]) == ("rate(10 days)", "3h")
    assert before - timedelta(seconds=5) <= described["LastRotatedDate"]
    assert described["NextRotationDate"] > described["LastRotatedDate"] + timedelta(days=9)
    assert all("AWSPENDING" not in s for s in described["VersionIdsToStages"].values())


def test_automatically_after_days_is_returned_as_given(secretsmanager, secret, rotation_lambdas):
    arn = rotation_lambdas.register(rotators.correct)

    rotate(secretsmanager, secret, arn, RotationRules={"AutomaticallyAfterDays": 30})

    assert secretsmanager.describe_secret(SecretId=secret)["RotationRules"] == {
        "AutomaticallyAfterDays": 30
    }


def test_the_service_removes_awspending_so_a_template_rotator_rotates_again(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)

    first = rotate(secretsmanager, secret, arn)["VersionId"]
    assert holder(secretsmanager, secret, "AWSPENDING") is None
    second = rotate(secretsmanager, secret, arn)["VersionId"]

    assert holder(secretsmanager, secret, "AWSCURRENT") == second
    assert holder(secretsmanager, secret, "AWSPREVIOUS") == first
    assert holder(secretsmanager, secret, "AWSPENDING") is None
    assert rotation_kit.history.names().count("RotationSucceeded") == 2
    assert rotators.login("app", current_password(secretsmanager, secret))


# --- failures and retries -------------------------------------------------------------------------


def test_a_failed_step_retries_the_whole_rotation_with_the_same_token(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.fails_at("setSecret", times=1))

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    invocations = rotation_lambdas.invocations(arn)
    assert [inv.event["Step"] for inv in invocations] == ["createSecret", "setSecret", *STEPS]
    assert {inv.event["ClientRequestToken"] for inv in invocations} == {token}
    assert isinstance(invocations[1].error, rotators.InjectedFailure)
    assert [inv.error for inv in invocations[2:]] == [None] * 4
    names = [
        n for n in rotation_kit.history.names() if n.startswith("Rotation") and n != "RotateSecret"
    ]
    assert names == ["RotationStarted", "RotationFailed", "RotationStarted", "RotationSucceeded"]
    assert holder(secretsmanager, secret, "AWSCURRENT") == token


def test_rotation_is_attempted_three_times_by_default(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    original = holder(secretsmanager, secret, "AWSCURRENT")
    arn = rotation_lambdas.register(rotators.fails_at("testSecret"))

    token = rotate(secretsmanager, secret, arn)["VersionId"]  # returns normally

    steps = [inv.event["Step"] for inv in rotation_lambdas.invocations(arn)]
    assert steps == ["createSecret", "setSecret", "testSecret"] * 3
    assert len(rotation_kit.events("RotationStarted")) == 3
    failed = rotation_kit.events("RotationFailed")
    assert [e.attempt for e in failed] == [1, 2, 3]
    assert {e.step for e in failed} == {"testSecret"}
    assert rotation_kit.events("RotationSucceeded") == []
    assert holder(secretsmanager, secret, "AWSPENDING") == token
    assert holder(secretsmanager, secret, "AWSCURRENT") == original
    assert "LastRotatedDate" not in secretsmanager.describe_secret(SecretId=secret)


@pytest.mark.rotation_testkit(max_attempts=5)
def test_the_marker_sets_the_number_of_attempts(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.fails_at("createSecret"))

    rotate(secretsmanager, secret, arn)

    assert len(rotation_lambdas.invocations(arn)) == 5
    assert len(rotation_kit.events("RotationFailed")) == 5


def test_configure_sets_the_number_of_attempts(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)
    arn = rotation_lambdas.register(rotators.fails_at("createSecret"))

    rotate(secretsmanager, secret, arn)

    assert len(rotation_lambdas.invocations(arn)) == 1
    assert [e.name for e in rotation_kit.events() if e.name.startswith("Rotation")] == [
        "RotationStarted",
        "RotationFailed",
    ]


def test_a_crash_after_set_secret_is_survived_by_an_idempotent_rotator(
    secretsmanager, secret, rotation_lambdas, protected
):
    """setSecret changed the password, then the invocation failed: the retry must cope."""
    arn = rotation_lambdas.register(rotators.fails_at("setSecret", times=1, after=True))

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    assert holder(secretsmanager, secret, "AWSCURRENT") == token
    assert rotators.login("app", current_password(secretsmanager, secret))


def test_regenerating_on_retry_is_caught(secretsmanager, secret, rotation_lambdas, rotation_kit):
    """moto silently replaces the pending value, so this bug passes there."""
    buggy = rotators.fails_at("setSecret", times=1, inner=rotators.regenerates_on_retry)
    arn = rotation_lambdas.register(buggy, name="regenerates_on_retry")

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    second_create = rotation_lambdas.invocations(arn)[2]
    assert second_create.event["Step"] == "createSecret"
    assert isinstance(second_create.error, ClientError)
    assert second_create.error.response["Error"]["Code"] == "ResourceExistsException"
    assert rotation_kit.events("RotationSucceeded") == []
    assert holder(secretsmanager, secret, "AWSCURRENT") != token
    assert holder(secretsmanager, secret, "AWSPENDING") == token


def test_the_correct_rotator_survives_the_same_failure(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.fails_at("setSecret", times=1))

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    assert [e.attempt for e in rotation_kit.events("RotationSucceeded")] == [2]
    assert holder(secretsmanager, secret, "AWSCURRENT") == token


def test_forgetting_remove_from_version_id_fails_every_attempt(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.forgets_remove_from_version)

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    finishes = [i for i in rotation_lambdas.invocations(arn) if i.event["Step"] == "finishSecret"]
    assert len(finishes) == 3
    for finish in finishes:
        assert isinstance(finish.error, ClientError)
        assert finish.error.response["Error"]["Code"] == "InvalidParameterException"
    assert holder(secretsmanager, secret, "AWSPENDING") == token
    assert holder(secretsmanager, secret, "AWSCURRENT") != token


def test_a_finish_secret_that_moves_nothing_fails_the_attempt(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.never_finishes)

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    assert all(inv.error is None for inv in rotation_lambdas.invocations(arn))
    failed = rotation_kit.events("RotationFailed")
    assert [(e.step, e.attempt) for e in failed] == [("finishSecret", n) for n in (1, 2, 3)]
    assert "AWSCURRENT" in failed[0].error
    assert rotation_kit.events("RotationSucceeded") == []
    assert holder(secretsmanager, secret, "AWSPENDING") == token


@pytest.mark.rotation_testkit(disabled_invariants=["valid-end-state", "new-value-differs"])
def test_the_finish_inference_can_be_turned_off(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(require_finish_moves_current=False)
    arn = rotation_lambdas.register(rotators.never_finishes)

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    assert len(rotation_kit.events("RotationSucceeded")) == 1
    assert rotation_kit.events("RotationFailed") == []
    assert holder(secretsmanager, secret, "AWSPENDING") == token  # stuck all the same


@pytest.mark.rotation_testkit(disabled_invariants=["current-moves-only-in-finish"])
def test_putting_current_early_is_visible(secretsmanager, secret, rotation_lambdas, rotation_kit):
    arn = rotation_lambdas.register(rotators.puts_current_early)

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    puts = [e for e in rotation_kit.events("PutSecretValue") if e.version_id == token]
    assert len(puts) == 1
    assert "AWSCURRENT" in puts[0].labels[token]  # AWSCURRENT moved during createSecret
    # Every later step saw a current token and returned at once: the protected service was never
    # told, so the new current credentials do not work.
    assert holder(secretsmanager, secret, "AWSCURRENT") == token
    assert not rotators.login("app", current_password(secretsmanager, secret))
    assert rotators.login("app", INITIAL["password"])


# The put is made from inside setSecret, so the invariant checker rightly blames the step for
# moving AWSCURRENT; this test is about the abandonment.
@pytest.mark.rotation_testkit(
    disabled_invariants=["current-moves-only-in-finish", "pending-keeps-json-keys"]
)
def test_a_manual_put_during_the_rotation_abandons_it_without_retry(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    def operator_steps_in(client, event):
        if event["Step"] == "setSecret":
            client.put_secret_value(SecretId=event["SecretId"], SecretString='{"by": "hand"}')

    recorder = rotators.Recorder(probe=operator_steps_in)
    arn = rotation_lambdas.register(recorder, name="recorder")

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    assert [e.version_id for e in rotation_kit.events("RotationAbandoned")] == [token]
    assert rotation_kit.events("RotationSucceeded") == []
    assert len(rotation_kit.events("RotationStarted")) == 1
    assert holder(secretsmanager, secret, "AWSPENDING") is None
    assert json.loads(secretsmanager.get_secret_value(SecretId=secret)["SecretString"]) == {
        "by": "hand"
    }


# --- RotateImmediately=False -------------------------------------------------------------------


def test_rotate_immediately_false_only_tests_on_a_copy_of_the_current_value(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    newer = {"username": "app", "password": "newer-password"}
    secretsmanager.put_secret_value(SecretId=secret, SecretString=json.dumps(newer))
    rotators.PROTECTED["app"] = "newer-password"
    current = holder(secretsmanager, secret, "AWSCURRENT")
    labels_before = stages(secretsmanager, secret, include_deprecated=True)

    def look(client, event):
        token = event["ClientRequestToken"]
        value = client.get_secret_value(
            SecretId=event["SecretId"], VersionId=token, VersionStage="AWSPENDING"
        )["SecretString"]
        to_stages = client.describe_secret(SecretId=event["SecretId"])["VersionIdsToStages"]
        return json.loads(value), to_stages[token]

    recorder = rotators.Recorder(probe=look)
    arn = rotation_lambdas.register(recorder, name="recorder")

    token = rotate(secretsmanager, secret, arn, RotateImmediately=False)["VersionId"]

    assert recorder.steps == ["testSecret"]
    assert recorder.observations == [(newer, ["AWSPENDING"])]
    assert rotation_lambdas.invocations(arn)[0].error is None
    assert token not in stages(secretsmanager, secret, include_deprecated=True)
    assert holder(secretsmanager, secret, "AWSPENDING") is None
    assert holder(secretsmanager, secret, "AWSCURRENT") == current
    assert stages(secretsmanager, secret, include_deprecated=True) == labels_before
    assert rotators.PROTECTED == {"app": "newer-password"}
    names = rotation_kit.history.names()
    assert names.count("TestRotationStarted") == names.count("TestRotationSucceeded") == 1
    assert "RotationStarted" not in names
    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["RotationEnabled"] is True
    assert "LastRotatedDate" not in described


def test_rotate_immediately_false_reports_a_failing_test(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.fails_at("testSecret"))

    token = rotate(secretsmanager, secret, arn, RotateImmediately=False)["VersionId"]

    assert [
        e.name for e in rotation_kit.events() if "Rotation" in e.name and e.name.startswith("Test")
    ] == [
        "TestRotationStarted",
        "TestRotationFailed",
    ]
    assert token not in stages(secretsmanager, secret, include_deprecated=True)


# --- CancelRotateSecret -------------------------------------------------------------------------


def test_cancel_turns_rotation_off_and_leaves_the_pending_version(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)
    failing = rotation_lambdas.register(rotators.fails_at("testSecret"))
    stuck = rotate(secretsmanager, secret, failing)["VersionId"]

    response = secretsmanager.cancel_rotate_secret(SecretId=secret)

    assert response["VersionId"] == stuck
    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["RotationEnabled"] is False
    assert "NextRotationDate" not in described
    assert holder(secretsmanager, secret, "AWSPENDING") == stuck


def test_after_cancel_and_removing_awspending_rotation_works(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)
    # Fails before changing the protected service, so the next rotation can log in with current.
    failing = rotation_lambdas.register(rotators.fails_at("setSecret"))
    stuck = rotate(secretsmanager, secret, failing)["VersionId"]
    stuck_version = secretsmanager.cancel_rotate_secret(SecretId=secret)["VersionId"]
    assert stuck_version == stuck
    secretsmanager.update_secret_version_stage(
        SecretId=secret, VersionStage="AWSPENDING", RemoveFromVersionId=stuck_version
    )
    correct = rotation_lambdas.register(rotators.correct)

    token = rotate(secretsmanager, secret, correct)["VersionId"]

    assert holder(secretsmanager, secret, "AWSCURRENT") == token
    assert rotators.login("app", current_password(secretsmanager, secret))
    assert secretsmanager.describe_secret(SecretId=secret)["RotationEnabled"] is True


def test_cancel_during_a_rotation_stops_it(secretsmanager, secret, rotation_lambdas, rotation_kit):
    cancelled = {}

    def cancel_at_set_secret(client, event):
        if event["Step"] == "setSecret":
            cancelled.update(client.cancel_rotate_secret(SecretId=event["SecretId"]))

    recorder = rotators.Recorder(probe=cancel_at_set_secret)
    arn = rotation_lambdas.register(recorder, name="recorder")

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    assert cancelled["VersionId"] == token
    assert recorder.steps == ["createSecret", "setSecret"]  # no further step, no retry
    assert len(rotation_kit.events("RotationStarted")) == 1
    assert rotation_kit.events("RotationSucceeded") == []
    assert holder(secretsmanager, secret, "AWSPENDING") == token
    assert secretsmanager.describe_secret(SecretId=secret)["RotationEnabled"] is False
