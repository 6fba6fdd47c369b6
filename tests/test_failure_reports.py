"""What a failing test's report shows: recent rotations, unregistered functions, failed rotations."""

from __future__ import annotations

import pytest

# A rotator written into each generated test file: correct, or failing every step when told to.
GENERATED = """
import boto3
import pytest


def rotator(event, context):
    client = boto3.client("secretsmanager", region_name="us-east-1")
    arn, token = event["SecretId"], event["ClientRequestToken"]
    if event["Step"] == "createSecret":
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except client.exceptions.ResourceNotFoundException:
            client.put_secret_value(
                SecretId=arn, ClientRequestToken=token, SecretString="v-" + token,
                VersionStages=["AWSPENDING"],
            )
    elif event["Step"] == "finishSecret":
        stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
        current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
        if current != token:
            client.update_secret_version_stage(
                SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
                RemoveFromVersionId=current,
            )


def broken(event, context):
    raise RuntimeError("the database refused the connection")
"""


def test_the_report_shows_the_last_rotations_and_counts_the_earlier_ones(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        GENERATED
        + """
def test_many_rotations(secretsmanager, rotation_lambdas):
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    arn = rotation_lambdas.register(rotator)
    for _ in range(7):
        secretsmanager.rotate_secret(SecretId="app/db", RotationLambdaARN=arn)
    assert False, "the test's own failure"
"""
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*- rotation timeline -*",
            "4 earlier rotation(s) not shown (4 succeeded); the last 3 follow. "
            "rotation_kit.timeline() shows every one.",
            "rotation of app/db, token *",
        ]
    )
    assert output.count("rotation of app/db, token") == 3


def test_a_few_rotations_are_all_shown_without_a_count(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GENERATED
        + """
def test_two_rotations(secretsmanager, rotation_lambdas):
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    arn = rotation_lambdas.register(rotator)
    for _ in range(2):
        secretsmanager.rotate_secret(SecretId="app/db", RotationLambdaARN=arn)
    assert False
"""
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    assert result.stdout.str().count("rotation of app/db, token") == 2
    assert "earlier rotation(s)" not in result.stdout.str()


def test_an_unregistered_function_arn_gets_a_hint_next_to_aws_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        GENERATED
        + """
def test_forgot_to_register(secretsmanager, rotation_lambdas):
    rotation_lambdas.register(rotator, name="registered-one")
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    secretsmanager.rotate_secret(
        SecretId="app/db",
        RotationLambdaARN="arn:aws:lambda:us-east-1:123456789012:function:my-rotator",
    )
"""
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            # AWS's own error text stays...
            "E * (AccessDeniedException) when calling the RotateSecret operation: Secrets Manager "
            "cannot invoke the specified Lambda function. Ensure that the function policy grants "
            "access to the principal secretsmanager.amazonaws.com.",
            # ...and the report adds what is registered and what to do.
            "*- rotation timeline -*",
            "Secrets Manager could not invoke "
            "arn:aws:lambda:us-east-1:123456789012:function:my-rotator: no function with this "
            "ARN is registered in this test (registered: "
            "arn:aws:lambda:us-east-1:123456789012:function:registered-one).",
            "Did you forget rotation_lambdas.register(handler)? Pass the ARN it returns as "
            "RotationLambdaARN.",
        ]
    )


def test_a_registered_function_gets_no_hint(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GENERATED
        + """
def test_fails_after_rotating(secretsmanager, rotation_lambdas):
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    secretsmanager.rotate_secret(SecretId="app/db", RotationLambdaARN=rotation_lambdas.register(rotator))
    assert False
"""
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    assert "could not invoke" not in result.stdout.str()


# --- assert_rotations_succeed ---------------------------------------------------------------------

STUCK = """
def test_stuck(secretsmanager, rotation_lambdas):
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    secretsmanager.rotate_secret(SecretId="app/db", RotationLambdaARN=rotation_lambdas.register(broken))
"""


def test_a_rotation_that_ended_failed_is_no_error_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(GENERATED + STUCK)

    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    "opt_in",
    [
        "marker",
        "ini",
    ],
)
def test_opted_in_a_rotation_that_ended_failed_fails_the_test(
    pytester: pytest.Pytester, opt_in: str
) -> None:
    if opt_in == "ini":
        pytester.makeini("[pytest]\nrotation_testkit_assert_rotations_succeed = true\n")
        pytester.makepyfile(GENERATED + STUCK)
    else:
        pytester.makepyfile(
            GENERATED
            + "\npytestmark = pytest.mark.rotation_testkit(assert_rotations_succeed=True)\n"
            + STUCK
        )

    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    assert "at teardown" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*_ test_stuck _*",
            "a rotation ended failed after every attempt, and no fault this test planned fired "
            "during it:",
            "  - app/db, token * (attempt 3, createSecret): RuntimeError: the database refused "
            "the connection",
            "AWS reports such a rotation as no error*assert_rotations_succeed=False).",
        ]
    )


def test_opted_in_a_failure_the_test_planned_with_a_fault_is_expected(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        GENERATED
        + """
@pytest.mark.rotation_testkit(assert_rotations_succeed=True)
def test_planned(secretsmanager, rotation_lambdas, rotation_faults, rotation_kit):
    rotation_faults.fail_step("testSecret", times=None)
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    secretsmanager.rotate_secret(SecretId="app/db", RotationLambdaARN=rotation_lambdas.register(rotator))
    assert rotation_kit.events("RotationFailed")[-1].detail["final"]


@pytest.mark.rotation_testkit(assert_rotations_succeed=True)
def test_succeeds(secretsmanager, rotation_lambdas):
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    secretsmanager.rotate_secret(SecretId="app/db", RotationLambdaARN=rotation_lambdas.register(rotator))
"""
    )

    pytester.runpytest().assert_outcomes(passed=2)


def test_the_report_carries_no_botocore_credentials_line(pytester: pytest.Pytester) -> None:
    # A rotator that sets the root logger to INFO, as AWS's templates do, at import time. In a
    # process of its own: botocore says "Found credentials" once per session, at the first look.
    pytester.makepyfile(
        """
import logging

import boto3

logging.getLogger().setLevel(logging.INFO)


def rotator(event, context):
    boto3.client("secretsmanager").describe_secret(SecretId=event["SecretId"])
    raise RuntimeError("the database refused the connection")


def test_rotation(secretsmanager, rotation_lambdas):
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    arn = rotation_lambdas.register(rotator)
    secretsmanager.rotate_secret(SecretId="app/db", RotationLambdaARN=arn)
    assert False, "the test's own failure"
"""
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "the database refused the connection" in output  # the function's logs are there
    assert "botocore.credentials" not in output
    assert "Found credentials" not in output
