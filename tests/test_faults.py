"""The `rotation_faults` fixture: step faults, API faults, their history, and the teardown check."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import rotators
from rotation_testkit.assertions import assert_not_stuck, assert_valid_labels
from rotation_testkit.faults import FaultError, InjectedCrash, InjectedStepFailure
from rotation_testkit.lambdas import TaskTimedOut

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def rotate(secretsmanager, arn: str, secret_id: str = "app/db") -> str:
    return secretsmanager.rotate_secret(
        SecretId=secret_id, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )["VersionId"]


def current_password(secretsmanager, secret_id: str = "app/db") -> str:
    value = json.loads(secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"])
    return str(value["password"])


def rotation_outline(rotation_kit) -> list[tuple]:
    """The rotation's events: (name, attempt, step, fault) for invocations, (name, attempt) else."""
    outline: list[tuple] = []
    for event in rotation_kit.history:
        if event.name == "Invoke":
            outline.append((event.name, event.attempt, event.step, event.detail.get("fault")))
        elif event.name.startswith("Rotation"):
            outline.append((event.name, event.attempt))
    return outline


def assert_rotated_everywhere(secretsmanager, protected) -> None:
    """The rotation succeeded: a new password, accepted by the protected service, valid labels."""
    password = current_password(secretsmanager)
    assert password != "initial-password"
    assert protected["app"] == password
    assert_valid_labels(secretsmanager, "app/db")
    assert_not_stuck(secretsmanager, "app/db")


# --- fail_step ------------------------------------------------------------------------------------


def test_fail_step_fails_the_invocation_without_running_the_handler(
    secretsmanager, secret, rotation_lambdas, rotation_faults, rotation_kit
):
    recorder = rotators.Recorder()
    arn = rotation_lambdas.register(recorder, name="recorded")
    fault = rotation_faults.fail_step("setSecret")

    rotate(secretsmanager, arn)

    # The handler never saw attempt 1's setSecret; the retry ran every step.
    assert recorder.steps == ["createSecret", *STEPS]
    failed = rotation_lambdas.invocations(arn)[1]
    assert failed.step == "setSecret"
    assert isinstance(failed.error, InjectedStepFailure)
    assert "fail_step('setSecret')" in str(failed.error)
    assert "before the handler ran" in str(failed.error)
    assert failed.fault == "fail_step('setSecret')"
    assert fault.fired == 1


def test_fail_step_raises_the_error_given(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    error = ConnectionError("the database is unreachable")
    rotation_faults.fail_step("testSecret", error=error)

    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    failed = [inv for inv in rotation_lambdas.invocations() if inv.error is not None]
    assert [inv.error for inv in failed] == [error]
    [rotation_failed] = rotation_kit.events("RotationFailed")
    assert rotation_failed.error == "ConnectionError: the database is unreachable"
    assert rotation_failed.step == "testSecret"
    assert_rotated_everywhere(secretsmanager, protected)


def test_fail_step_times_2_fails_two_attempts(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.fail_step("finishSecret", times=2)

    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    failures = rotation_kit.events("RotationFailed")
    assert [(e.attempt, e.step) for e in failures] == [(1, "finishSecret"), (2, "finishSecret")]
    [succeeded] = rotation_kit.events("RotationSucceeded")
    assert succeeded.attempt == 3
    assert_rotated_everywhere(secretsmanager, protected)


def test_a_step_failing_on_every_attempt_leaves_the_rotation_stuck(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    attempts = rotation_kit.config.max_attempts
    rotation_faults.fail_step("testSecret", times=attempts)

    token = rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert rotation_kit.events("RotationSucceeded") == []
    [*_, last] = rotation_kit.events("RotationFailed")
    assert (last.attempt, last.detail["final"]) == (attempts, True)
    stages = secretsmanager.describe_secret(SecretId="app/db")["VersionIdsToStages"]
    assert stages[token] == ["AWSPENDING"]
    assert current_password(secretsmanager) == "initial-password"


def test_fail_step_secret_id_fails_only_that_secret(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    secretsmanager.create_secret(
        Name="other/db", SecretString=json.dumps({"username": "other", "password": "other-pw"})
    )
    protected["other"] = "other-pw"
    rotation_faults.fail_step("createSecret", secret_id="other/db")
    arn = rotation_lambdas.register(rotators.correct)

    rotate(secretsmanager, arn, "app/db")
    assert rotation_kit.events("RotationFailed") == []

    rotate(secretsmanager, arn, "other/db")
    [failed] = rotation_kit.events("RotationFailed")
    assert failed.secret_arn == secretsmanager.describe_secret(SecretId="other/db")["ARN"]
    assert current_password(secretsmanager, "other/db") == protected["other"] != "other-pw"


def test_fail_step_secret_id_accepts_the_arn(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    fault = rotation_faults.fail_step("createSecret", secret_id=secret)

    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert fault.fired == 1
    assert [e.step for e in rotation_kit.events("RotationFailed")] == ["createSecret"]


def test_fail_step_attempt_fails_only_that_attempt(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.fail_step("setSecret")
    rotation_faults.fail_step("testSecret", attempt=2)
    # Planned for attempt 2, so it cannot fire at attempt 1's testSecret.
    rotation_faults.fail_step("finishSecret", attempt=3)

    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    failures = [(e.attempt, e.step) for e in rotation_kit.events("RotationFailed")]
    assert failures == [(1, "setSecret"), (2, "testSecret"), (3, "finishSecret")]
    # max_attempts is 3: the last attempt failed, the rotation is left for a reattempt.
    assert rotation_kit.events("RotationSucceeded") == []


@pytest.mark.rotation_testkit(assert_faults_fired=False)
def test_a_fault_for_an_attempt_that_never_comes_does_not_fire(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    fault = rotation_faults.fail_step("createSecret", attempt=2)

    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert fault.fired == 0
    assert rotation_faults.unfired() == [fault]
    assert [e.attempt for e in rotation_kit.events("RotationSucceeded")] == [1]


# --- crash_after_step ----------------------------------------------------------------------------


def test_crash_after_step_fails_the_invocation_after_the_handler_did_its_work(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    seen: list[tuple[str, str]] = []

    def handler(event, context):
        rotators.correct(event, context)
        seen.append((event["Step"], protected["app"]))  # the database after the step's work

    rotation_faults.crash_after_step("setSecret")

    rotate(secretsmanager, rotation_lambdas.register(handler))

    crashed = rotation_lambdas.invocations()[1]
    assert crashed.step == "setSecret"
    assert isinstance(crashed.error, InjectedCrash)
    assert "did its work" in str(crashed.error)
    # setSecret ran to its end: the database had the new password when the invocation failed...
    assert seen[1][0] == "setSecret"
    assert seen[1][1] != "initial-password"
    # ...and the retry, from createSecret with the same token, kept that password.
    assert [e.attempt for e in rotation_kit.events("RotationStarted")] == [1, 2]
    assert current_password(secretsmanager) == seen[1][1]
    assert_rotated_everywhere(secretsmanager, protected)


def test_crash_after_finish_secret_is_retried_after_awscurrent_moved(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.crash_after_step("finishSecret")

    token = rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    [failed] = rotation_kit.events("RotationFailed")
    # AWSCURRENT was already on the new version when the invocation failed.
    assert "AWSCURRENT" in failed.labels[token]
    assert [e.attempt for e in rotation_kit.events("RotationSucceeded")] == [2]
    assert_rotated_everywhere(secretsmanager, protected)


# --- time_out_step -------------------------------------------------------------------------------


def test_time_out_step_ends_the_invocation_as_a_lambda_timeout(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.time_out_step("createSecret")
    arn = rotation_lambdas.register(rotators.correct, timeout=12.5)

    rotate(secretsmanager, arn)

    timed_out = rotation_lambdas.invocations(arn)[0]
    assert isinstance(timed_out.error, TaskTimedOut)
    assert str(timed_out.error) == "Task timed out after 12.50 seconds"
    [failed] = rotation_kit.events("RotationFailed")
    assert failed.error == "TaskTimedOut: Task timed out after 12.50 seconds"
    # The handler ran: the pending value it stored was kept by the retry.
    assert_rotated_everywhere(secretsmanager, protected)


def test_time_out_step_moves_the_running_clock_to_the_deadline(
    secretsmanager,
    secret,
    protected,
    rotation_lambdas,
    rotation_faults,
    rotation_kit,
    rotation_clock,
):
    rotation_faults.time_out_step("setSecret")
    arn = rotation_lambdas.register(rotators.correct, timeout=90)
    started = rotation_clock.now()

    rotate(secretsmanager, arn)

    invokes = rotation_kit.events("Invoke")
    timed_out = next(e for e in invokes if e.error)
    assert timed_out.step == "setSecret"
    assert timed_out.time - started == timedelta(seconds=90)
    assert rotation_clock.now() - started == timedelta(seconds=90)
    assert_rotated_everywhere(secretsmanager, protected)


# --- a correct rotator survives every step fault ------------------------------------------------


@pytest.mark.parametrize("kind", ["fail_step", "crash_after_step", "time_out_step"])
@pytest.mark.parametrize("step", STEPS)
def test_a_correct_rotator_survives_each_fault_at_each_step(
    secretsmanager, secret, protected, rotation_lambdas, rotation_faults, rotation_kit, kind, step
):
    fault = getattr(rotation_faults, kind)(step)

    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert fault.fired == 1
    [failed] = rotation_kit.events("RotationFailed")
    assert (failed.attempt, failed.step) == (1, step)
    [succeeded] = rotation_kit.events("RotationSucceeded")
    assert succeeded.attempt == 2
    assert_rotated_everywhere(secretsmanager, protected)


# --- fail_api ------------------------------------------------------------------------------------


def strict_client():
    """A client that lets the SDK retry once at most, so injected errors reach the calling code.

    (botocore's ``max_attempts`` counts retries after the first call.)
    """
    return boto3.client(
        "secretsmanager", config=Config(retries={"max_attempts": 1, "mode": "standard"})
    )


def test_fail_api_answers_with_the_aws_error(secretsmanager, rotation_faults, rotation_clock):
    secretsmanager.create_secret(Name="app/token", SecretString="t0ken")
    fault = rotation_faults.fail_api("GetSecretValue", times=2)
    client = strict_client()

    with pytest.raises(client.exceptions.InternalServiceError) as raised:
        client.get_secret_value(SecretId="app/token")

    response = raised.value.response
    assert response["Error"]["Code"] == "InternalServiceError"
    assert "fail_api('GetSecretValue', times=2)" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert fault.fired == 2
    # Once the fault is spent, calls reach the backend again.
    assert client.get_secret_value(SecretId="app/token")["SecretString"] == "t0ken"


def test_fail_api_with_a_throttling_code_and_a_message(
    secretsmanager, rotation_faults, rotation_clock
):
    secretsmanager.create_secret(Name="app/token", SecretString="t0ken")
    rotation_faults.fail_api(
        "DescribeSecret", code="ThrottlingException", message="Rate exceeded", times=2
    )
    client = strict_client()

    with pytest.raises(ClientError) as raised:
        client.describe_secret(SecretId="app/token")

    assert raised.value.response["Error"] == {
        "Code": "ThrottlingException",
        "Message": "Rate exceeded",
    }
    assert raised.value.operation_name == "DescribeSecret"


@pytest.mark.parametrize("code", ["InternalServiceError", "ThrottlingException"])
def test_fail_api_once_is_absorbed_by_the_sdk_retry(
    secretsmanager,
    secret,
    protected,
    rotation_lambdas,
    rotation_faults,
    rotation_kit,
    rotation_clock,
    code,
):
    fault = rotation_faults.fail_api("PutSecretValue", code=code)

    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    assert fault.fired == 1
    puts = rotation_kit.events("PutSecretValue")
    assert [(e.error, e.attempt) for e in puts] == [(code, 1), (None, 1)]
    assert puts[0].detail["fault"] == f"fail_api('PutSecretValue'{_code_option(code)})"
    # The rotator never saw the error: no step failed, the first attempt succeeded.
    assert all(inv.error is None for inv in rotation_lambdas.invocations())
    assert rotation_kit.events("RotationFailed") == []
    assert [e.attempt for e in rotation_kit.events("RotationSucceeded")] == [1]
    assert_rotated_everywhere(secretsmanager, protected)


def _code_option(code: str) -> str:
    return "" if code == "InternalServiceError" else f", code={code!r}"


def test_fail_api_beyond_the_sdk_retries_fails_the_step_and_the_rotation_retries(
    secretsmanager,
    secret,
    protected,
    rotation_lambdas,
    rotation_faults,
    rotation_kit,
    rotation_clock,
):
    # The rotation function's own client makes one attempt per call (Lambda's environment).
    arn = rotation_lambdas.register(
        rotators.correct, env={"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}
    )
    rotation_faults.fail_api("update_secret_version_stage", code="ServiceUnavailable")

    rotate(secretsmanager, arn)

    [failed] = rotation_kit.events("RotationFailed")
    assert (failed.attempt, failed.step) == (1, "finishSecret")
    assert "ServiceUnavailable" in (failed.error or "")
    moves = rotation_kit.events("UpdateSecretVersionStage")
    assert [(e.error, e.attempt) for e in moves] == [("ServiceUnavailable", 1), (None, 2)]
    assert_rotated_everywhere(secretsmanager, protected)


@pytest.mark.rotation_testkit(assert_faults_fired=False)  # planned only to be read back
@pytest.mark.parametrize(
    ("name", "operation"),
    [
        ("update_secret_version_stage", "UpdateSecretVersionStage"),
        ("get_random_password", "GetRandomPassword"),
        ("PutSecretValue", "PutSecretValue"),
    ],
)
def test_fail_api_accepts_snake_case_names(rotation_faults, name, operation):
    fault = rotation_faults.fail_api(name, times=2)
    assert fault.target == operation
    assert fault.describe() == f"fail_api({operation!r}, times=2)"


def test_fail_api_secret_id_leaves_other_secrets_alone(
    secretsmanager, rotation_faults, rotation_clock
):
    secretsmanager.create_secret(Name="app/one", SecretString="one")
    secretsmanager.create_secret(Name="app/two", SecretString="two")
    fault = rotation_faults.fail_api("GetSecretValue", secret_id="app/two", times=2)
    client = strict_client()

    assert client.get_secret_value(SecretId="app/one")["SecretString"] == "one"
    assert fault.fired == 0
    with pytest.raises(client.exceptions.InternalServiceError):
        client.get_secret_value(SecretId="app/two")
    assert fault.fired == 2


# --- mistakes in a plan are refused at once ------------------------------------------------------


def test_an_unknown_operation_is_refused_with_the_known_ones(rotation_faults):
    with pytest.raises(FaultError) as raised:
        rotation_faults.fail_api("GetSecretValues")
    message = str(raised.value)
    assert "'GetSecretValues' is not a Secrets Manager operation" in message
    assert "GetSecretValue," in message
    assert "snake_case" in message
    assert rotation_faults.faults == []


@pytest.mark.parametrize("step", ["create_secret", "CreateSecret", "finish", ""])
def test_an_unknown_step_is_refused_with_the_four_steps(rotation_faults, step):
    for plan in (
        rotation_faults.fail_step,
        rotation_faults.crash_after_step,
        rotation_faults.time_out_step,
    ):
        with pytest.raises(FaultError, match=r"createSecret, setSecret, testSecret, finishSecret"):
            plan(step)
    assert rotation_faults.faults == []


# --- permanent faults (times=None) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "step"),
    [
        (lambda faults: faults.fail_step("testSecret", times=None), "testSecret"),
        (lambda faults: faults.crash_after_step("setSecret", times=None), "setSecret"),
        (lambda faults: faults.time_out_step("createSecret", times=None), "createSecret"),
    ],
    ids=["fail_step", "crash_after_step", "time_out_step"],
)
@pytest.mark.rotation_testkit(max_attempts=2)
def test_a_permanent_step_fault_fails_every_attempt_of_every_rotation(
    secretsmanager,
    secret,
    rotation_lambdas,
    rotation_faults,
    rotation_kit,
    rotation_clock,
    plan,
    step,
):
    fault = plan(rotation_faults)
    arn = rotation_lambdas.register(rotators.correct)

    rotate(secretsmanager, arn)
    # The reattempt at the next window fails as well: the fault never runs out.
    rotation_clock.advance(days=31)

    failures = rotation_kit.events("RotationFailed")
    assert len(failures) == 4  # two rounds of max_attempts=2
    assert {e.step for e in failures} == {step}
    assert rotation_kit.events("RotationSucceeded") == []
    assert fault.fired == 4
    assert not fault.exhausted
    assert rotation_faults.unfired() == []
    assert "AWSPENDING" in json.dumps(
        secretsmanager.describe_secret(SecretId="app/db")["VersionIdsToStages"]
    )


def test_a_permanent_api_fault_fails_every_call(secretsmanager, rotation_faults):
    fault = rotation_faults.fail_api("GetSecretValue", code="DecryptionFailure", times=None)
    secretsmanager.create_secret(Name="app/db", SecretString="s3cret")

    for _ in range(5):
        with pytest.raises(ClientError, match="DecryptionFailure"):
            secretsmanager.get_secret_value(SecretId="app/db")

    assert fault.fired == 5
    assert fault.describe() == "fail_api('GetSecretValue', code='DecryptionFailure', times=None)"
    assert rotation_faults.unfired() == []


def test_a_permanent_fault_that_never_fired_fails_the_test_at_teardown(pytester):
    pytester.makepyfile(
        """
        def test_plans_forever(rotation_faults, secretsmanager):
            rotation_faults.fail_step("testSecret", times=None)
            secretsmanager.create_secret(Name="app/db", SecretString="s3cret")
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*fail_step('testSecret', times=None): never fired (a permanent fault must fire at "
            "least once)*"
        ]
    )


@pytest.mark.parametrize("times", [0, -1, 1.5, "2", True])
def test_times_must_be_a_positive_integer(rotation_faults, times):
    with pytest.raises(FaultError, match="times must be a positive integer"):
        rotation_faults.fail_step("setSecret", times=times)
    with pytest.raises(FaultError, match="times must be a positive integer"):
        rotation_faults.fail_api("GetSecretValue", times=times)
    assert rotation_faults.faults == []


def test_an_error_code_must_look_like_one(rotation_faults):
    with pytest.raises(FaultError, match="AWS error code"):
        rotation_faults.fail_api("GetSecretValue", code="not a code")


# --- the history ---------------------------------------------------------------------------------


@pytest.mark.rotation_testkit(max_attempts=5)
def test_every_fault_and_retry_is_in_the_history_in_order(
    secretsmanager,
    secret,
    protected,
    rotation_lambdas,
    rotation_faults,
    rotation_kit,
    rotation_clock,
):
    # API faults fire at the next matching calls: the first three DescribeSecret calls, made by
    # attempt 1's createSecret, whose client tries each call three times.
    rotation_faults.fail_api("DescribeSecret", code="ThrottlingException", times=3)
    rotation_faults.fail_step("setSecret", attempt=2)
    rotation_faults.crash_after_step("testSecret", attempt=3)
    rotation_faults.time_out_step("finishSecret", attempt=4)
    arn = rotation_lambdas.register(
        rotators.correct, env={"AWS_MAX_ATTEMPTS": "3", "AWS_RETRY_MODE": "standard"}
    )

    rotate(secretsmanager, arn)

    assert rotation_outline(rotation_kit) == [
        ("RotationStarted", 1),
        ("Invoke", 1, "createSecret", None),
        ("RotationFailed", 1),
        ("RotationStarted", 2),
        ("Invoke", 2, "createSecret", None),
        ("Invoke", 2, "setSecret", "fail_step('setSecret', attempt=2)"),
        ("RotationFailed", 2),
        ("RotationStarted", 3),
        ("Invoke", 3, "createSecret", None),
        ("Invoke", 3, "setSecret", None),
        ("Invoke", 3, "testSecret", "crash_after_step('testSecret', attempt=3)"),
        ("RotationFailed", 3),
        ("RotationStarted", 4),
        ("Invoke", 4, "createSecret", None),
        ("Invoke", 4, "setSecret", None),
        ("Invoke", 4, "testSecret", None),
        ("Invoke", 4, "finishSecret", "time_out_step('finishSecret', attempt=4)"),
        ("RotationFailed", 4),
        ("RotationStarted", 5),
        ("Invoke", 5, "createSecret", None),
        ("Invoke", 5, "setSecret", None),
        ("Invoke", 5, "testSecret", None),
        ("Invoke", 5, "finishSecret", None),
        ("RotationSucceeded", 5),
    ]
    failures = rotation_kit.events("RotationFailed")
    assert [(e.attempt, e.step) for e in failures] == [
        (1, "createSecret"),
        (2, "setSecret"),
        (3, "testSecret"),
        (4, "finishSecret"),
    ]
    assert "ThrottlingException" in (failures[0].error or "")
    assert (failures[1].error or "").startswith("InjectedStepFailure: ")
    assert (failures[2].error or "").startswith("InjectedCrash: ")
    assert failures[3].error == "TaskTimedOut: Task timed out after 30.00 seconds"
    # The API fault events: the operation, the error code, the fault, the attempt.
    throttled = [e for e in rotation_kit.events("DescribeSecret") if e.error]
    assert [(e.name, e.error, e.attempt) for e in throttled] == [
        ("DescribeSecret", "ThrottlingException", 1)
    ] * 3
    assert {e.detail["fault"] for e in throttled} == {
        "fail_api('DescribeSecret', code='ThrottlingException', times=3)"
    }
    history = list(rotation_kit.history)
    first_invoke = next(e for e in history if e.name == "Invoke")
    first_failure = failures[0]
    assert history.index(first_invoke) < history.index(throttled[0])
    assert history.index(throttled[-1]) < history.index(first_failure)
    assert_rotated_everywhere(secretsmanager, protected)


# --- the teardown check --------------------------------------------------------------------------

UNFIRED = """
def test_plans_a_fault_and_never_rotates(rotation_faults, secretsmanager):
    rotation_faults.fail_step("setSecret")
    rotation_faults.fail_api("DeleteSecret", code="ThrottlingException")
    secretsmanager.create_secret(Name="app/db", SecretString="s3cret")
"""


def test_a_fault_that_never_fired_fails_the_test_at_teardown(pytester):
    pytester.makepyfile(UNFIRED)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_plans_a_fault_and_never_rotates*",
            "*rotation_faults planned failures that never happened*",
            "*fail_step('setSecret'): fired 0 of 1 time(s)*",
            "*fail_api('DeleteSecret', code='ThrottlingException'): fired 0 of 1 time(s)*",
            "*assert_faults_fired=False*",
        ]
    )


def test_a_fault_that_fired_fewer_times_than_planned_is_reported(pytester):
    pytester.makepyfile(
        """
        def test_too_many(rotation_faults, secretsmanager):
            rotation_faults.fail_api("CreateSecret", times=5)
            try:
                secretsmanager.create_secret(Name="app/db", SecretString="s3cret")
            except secretsmanager.exceptions.InternalServiceError:
                pass
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fail_api('CreateSecret', times=5): fired * of 5 time(s)*"])


def test_the_teardown_check_can_be_turned_off_with_the_marker(pytester):
    pytester.makepyfile(
        "import pytest\n"
        + UNFIRED.replace(
            "def test_plans",
            "@pytest.mark.rotation_testkit(assert_faults_fired=False)\ndef test_plans",
        )
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    assert "never happened" not in result.stdout.str()


def test_a_test_that_already_failed_is_not_buried_under_the_teardown_error(pytester):
    pytester.makepyfile(
        """
        def test_fails_on_its_own(rotation_faults):
            rotation_faults.crash_after_step("finishSecret")
            assert 1 + 1 == 3, "the test's own failure"
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    assert "the test's own failure" in result.stdout.str()
    assert "never happened" not in result.stdout.str()


def test_faults_that_fired_pass_the_teardown_check(pytester):
    pytester.makepyfile(
        """
        def handler(event, context):
            import boto3, os
            client = boto3.client(
                "secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"]
            )
            arn, token = event["SecretId"], event["ClientRequestToken"]
            if event["Step"] == "createSecret":
                try:
                    client.get_secret_value(SecretId=arn, VersionId=token)
                except client.exceptions.ResourceNotFoundException:
                    client.put_secret_value(
                        SecretId=arn, ClientRequestToken=token, SecretString="new",
                        VersionStages=["AWSPENDING"],
                    )
            elif event["Step"] == "finishSecret":
                stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
                current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
                if current != token:
                    client.update_secret_version_stage(
                        SecretId=arn, VersionStage="AWSCURRENT",
                        MoveToVersionId=token, RemoveFromVersionId=current,
                    )


        def test_fired(rotation_faults, secretsmanager, rotation_lambdas):
            rotation_faults.fail_step("setSecret")
            rotation_faults.crash_after_step("createSecret", attempt=2)
            secretsmanager.create_secret(Name="app/db", SecretString="old")
            secretsmanager.rotate_secret(
                SecretId="app/db", RotationLambdaARN=rotation_lambdas.register(handler)
            )
            assert secretsmanager.get_secret_value(SecretId="app/db")["SecretString"] == "new"
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
