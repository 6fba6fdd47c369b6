"""`rotation-testkit diagnose` names the root cause from the evidence a user can save.

Each case reads evidence files in tests/evidence/, written for these tests after the formats the
AWS CLI prints (describe-secret, list-secret-version-ids, logs filter-log-events / get-log-events,
console text, CloudTrail lookup-events), and checks the cause, the quoted evidence and the advice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rotation_testkit import cli
from rotation_testkit.diagnose import diagnose

EVIDENCE = Path(__file__).parent / "evidence"
SAVED_AT = "2025-06-02T09:30:00Z"
ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3"
FUNCTION = "arn:aws:lambda:eu-west-1:111122223333:function:rotate-app-db"


def run(capsys: pytest.CaptureFixture[str], *files: str, fmt: str = "text") -> tuple[int, str]:
    paths = [str(EVIDENCE / name) for name in files]
    code = cli.main(["diagnose", *paths, "--now", SAVED_AT, "--format", fmt])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out


def causes_of(capsys: pytest.CaptureFixture[str], *files: str) -> list[dict[str, Any]]:
    code, out = run(capsys, *files, fmt="json")
    document = json.loads(out)
    assert document["exit_code"] == code
    (secret,) = document["secrets"]
    causes: list[dict[str, Any]] = secret["causes"]
    return causes


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_silent_timeout_in_a_vpc_is_a_guess_at_the_secrets_manager_endpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (cause,) = causes_of(
        capsys, "describe-stuck.json", "versions-placeholder.json", "logs-vpc-timeout.txt"
    )

    assert cause["code"] == "cannot-reach-secretsmanager"
    assert cause["certain"] is False
    assert "Connect timeout on endpoint URL" in cause["settle"]
    assert any("Task timed out after 30.03 seconds" in quote for quote in cause["evidence"])
    assert (
        "aws ec2 describe-vpc-endpoints --filters "
        "Name=service-name,Values=com.amazonaws.eu-west-1.secretsmanager --region eu-west-1"
    ) in cause["commands"]


def test_a_connect_timeout_on_the_endpoint_names_it_for_certain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys, "describe-stuck.json", "versions-placeholder.json", "logs-endpoint-timeout.json"
    )

    assert code == 1
    assert "Causes:\n  1. The function cannot reach the Secrets Manager endpoint (certain)." in out
    assert 'Connect timeout on endpoint URL: "https://secretsmanager.eu-west-1.amazonaws.com/"' in (
        flat(out)
    )
    assert "(a guess)" not in out


def test_a_database_connection_timeout_is_the_database_path_not_a_refusal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    causes = causes_of(capsys, "describe-stuck.json", "logs-database-unreachable.json")

    assert [cause["code"] for cause in causes] == ["cannot-reach-database"]
    assert "In setSecret" in causes[0]["explanation"]
    assert "port 5432" in causes[0]["evidence"][0]


def test_kms_access_denied_names_the_customer_managed_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = "arn:aws:kms:eu-west-1:111122223333:key/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"

    (cause,) = causes_of(capsys, "describe-kms.json", "logs-kms.json")

    assert cause["code"] == "kms-access-denied"
    assert cause["certain"] is True
    assert key in cause["explanation"]
    assert "Access to KMS is not allowed" in cause["evidence"][0]
    assert cause["commands"] == [
        f"aws kms get-key-policy --key-id {key} --policy-name default --output text "
        "--region eu-west-1"
    ]


def test_a_customer_managed_key_without_logs_is_only_a_guess_and_says_what_settles_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (cause,) = causes_of(capsys, "describe-kms.json")

    assert (cause["code"], cause["certain"]) == ("kms-access-denied", False)
    assert "the function's logs" in cause["settle"]


def test_a_missing_permission_names_the_action_the_resource_and_the_role(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (cause,) = causes_of(capsys, "describe-stuck.json", "logs-iam.json")

    assert cause["code"] == "missing-permission"
    assert cause["title"] == "The function's role lacks secretsmanager:PutSecretValue"
    assert f"on {ARN} to the policy of role rotate-app-db-role" in cause["fix"]
    assert cause["commands"] == [
        "aws iam simulate-principal-policy --policy-source-arn "
        "arn:aws:iam::111122223333:role/rotate-app-db-role --action-names "
        f"secretsmanager:PutSecretValue --resource-arns {ARN} --query "
        "'EvaluationResults[].[EvalActionName,EvalDecision]' --output text"
    ]


def test_secrets_manager_unable_to_invoke_the_function_offers_the_permission_to_add(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "describe-cannot-invoke.json", "trail-cannot-invoke.json")

    assert code == 1  # NextRotationDate in the past: inconsistent
    assert "Secrets Manager cannot invoke the rotation function" in out
    assert (
        f"       aws lambda add-permission --function-name {FUNCTION} --statement-id "
        "SecretsManagerAccess --action lambda:InvokeFunction --principal "
        "secretsmanager.amazonaws.com --region eu-west-1\n"
    ) in out


def test_a_key_missing_from_the_secrets_json_is_named_and_no_value_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "describe-stuck.json", "logs-missing-key.txt")

    assert code == 1
    assert 'The secret\'s JSON lacks what the function needs: the key "engine" is missing' in (
        flat(out)
    )
    assert "In createSecret the function read the AWSCURRENT value and stopped" in flat(out)
    assert "| jq keys" in out
    # The log printed the secret; its password never reaches the output.
    assert "Zr8#kP2!wQ9x" not in out


def test_a_password_the_database_refuses_quotes_its_error_and_masks_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (cause,) = causes_of(capsys, "describe-stuck.json", "logs-password-policy.json")

    assert cause["code"] == "database-rejected-value"
    assert (
        "(1819, 'Your password does not satisfy the current policy requirements')"
        in cause["evidence"][0]
    )
    assert "EXCLUDE_CHARACTERS" in cause["fix"]
    _, out = run(capsys, "describe-stuck.json", "logs-password-policy.json", fmt="json")
    assert "q7Vb2kLm9PzX" not in out


def test_the_database_refusing_the_change_is_quoted_in_its_own_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (cause,) = causes_of(capsys, "describe-stuck.json", "logs-permission-denied.txt")

    assert cause["code"] == "database-refused-change"
    assert "'M': 'permission denied to alter role'" in cause["evidence"][0]
    assert "CREATEROLE" in cause["evidence"][0]


def test_test_secret_before_the_change_propagated(capsys: pytest.CaptureFixture[str]) -> None:
    (cause,) = causes_of(
        capsys,
        "describe-stuck.json",
        "versions-pending-value.json",
        "logs-propagation.json",
        "trail-set-secret-failed.json",
    )

    assert cause["code"] == "test-before-propagation"
    assert "run 1 second later" in cause["explanation"]
    assert "a later attempt found the password already set" in cause["explanation"]
    assert len(cause["evidence"]) == 3
    # The secret's ARN is quoted whole: an ARN's "secret:NAME" is not a value to mask.
    assert ARN in cause["evidence"][0]


def test_a_rotation_started_before_the_secret_had_a_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "describe-never-held-value.json", "logs-never-held-value.txt")
    document = json.loads(run(capsys, "describe-never-held-value.json", fmt="json")[1])

    assert code == 1
    text = flat(out)
    assert "A rotation started before the secret had any value" in text
    assert "can't find the specified secret value for staging label: AWSCURRENT" in text
    assert "as Terraform does" in text  # the tags show who manages it
    store = (
        "aws secretsmanager put-secret-value --secret-id "
        "arn:aws:secretsmanager:us-east-2:444455556666:secret:svc/api-token-Q1w2E3 "
        "--secret-string file://secret.json --region us-east-2"
    )
    assert f"       {store}\n" in out
    # Never "move AWSCURRENT to the version the service accepts": there is no such version.
    assert "--move-to-version-id" not in out
    assert "update-secret-version-stage" not in out
    # From describe-secret alone, the state says it too.
    (secret,) = document["secrets"]
    assert [cause["code"] for cause in secret["causes"]] == ["rotation-before-value"]
    assert secret["commands"] == [store]


def test_infrastructure_code_writing_the_value_during_rotation_abandons_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "describe-abandoned.json", "trail-abandoned.json")

    assert code == 0  # abandonment leaves valid labels
    text = flat(out)
    assert "so the rotation was abandoned" in text
    assert "CloudTrail 2025-05-31 03:05:14 UTC: RotationAbandoned" in text
    assert "Terraform/1.7.5" in text
    assert "ignore_changes = [secret_string]" in text


def test_cloudtrail_events_of_other_secrets_are_left_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    causes = causes_of(capsys, "describe-stuck.json", "trail-set-secret-failed.json")

    (cause,) = causes
    assert cause["code"] == "function-error"
    assert cause["title"] == "The function failed in setSecret"
    assert all("rotate-other" not in quote for quote in cause["evidence"])


def test_without_evidence_the_diagnosis_says_which_files_would_settle_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "describe-stuck.json", "versions-placeholder.json")

    assert code == 1
    assert "Causes:\n  1. (a guess) Version " in out
    assert out.count("Causes:") == 1
    assert (
        "aws logs filter-log-events --log-group-name /aws/lambda/rotate-app-db --start-time "
        "1748657110000 --output json --region eu-west-1 > logs.json"
    ) in out
    # The AWS CLI v2 form, beside the v1 one.
    assert "aws logs tail /aws/lambda/rotate-app-db --since 3d --region eu-west-1" in out
    assert (
        "aws cloudtrail lookup-events --lookup-attributes "
        "AttributeKey=EventSource,AttributeValue=secretsmanager.amazonaws.com --start-time "
        "2025-05-31T02:05:10Z --output json --region eu-west-1 > trail.json"
    ) in out


# --- causes shown with a few lines of console text ------------------------------------------------

REQUEST = "5b0f7a3e-2c1d-4e8f-9a6b-1c2d3e4f5a6b"


def cause_codes(logs: str | None = None, events: Any = None) -> list[tuple[str, bool]]:
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())
    result = diagnose(described, now=SAVED_AT, logs=logs, events=events)
    return [(cause.code, cause.certain) for cause in result.causes]


def test_a_timeout_after_progress_is_a_timeout_not_a_guess_at_the_endpoint() -> None:
    logs = (
        f"START RequestId: {REQUEST} Version: $LATEST\n"
        f"[INFO]\t2025-05-31T03:05:12.031Z\t{REQUEST}\tsetSecret: connecting to the database\n"
        f"2025-05-31T03:05:41.733Z {REQUEST} Task timed out after 30.03 seconds\n"
        f"END RequestId: {REQUEST}\n"
    )

    assert cause_codes(logs) == [("function-timed-out", True)]


def test_a_bare_key_error_names_the_key_masterarn() -> None:
    logs = (
        "[ERROR] KeyError: 'masterarn'\nTraceback (most recent call last):\n"
        '  File "/var/task/lambda_function.py", line 185, in set_secret\n'
    )
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())

    (cause,) = diagnose(described, now=SAVED_AT, logs=logs).causes

    assert cause.code == "secret-json-missing-key"
    assert 'the key "masterarn" is missing' in cause.title
    assert "In setSecret" in cause.explanation
    assert "administrator's credentials" in cause.explanation


def test_a_secret_that_is_not_json() -> None:
    logs = "[ERROR] JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n"

    assert cause_codes(logs) == [("secret-not-json", True)]


def test_none_of_the_credentials_accepted_is_a_guess_with_what_settles_it() -> None:
    logs = (
        f"[ERROR]\t2025-05-31T03:05:32.502Z\t{REQUEST}\tsetSecret: Unable to log into database "
        f"with previous, current, or pending secret of secret arn {ARN}\n"
    )

    assert cause_codes(logs) == [("database-refused-login", False)]


def test_a_deleted_function() -> None:
    events = {
        "Events": [
            {
                "EventName": "RotationFailed",
                "EventTime": "2025-05-31T03:05:33+00:00",
                "CloudTrailEvent": json.dumps(
                    {
                        "eventName": "RotationFailed",
                        "eventTime": "2025-05-31T03:05:33Z",
                        "errorMessage": f"Function not found: {FUNCTION}",
                        "additionalEventData": {"SecretId": ARN},
                        "eventType": "AwsServiceEvent",
                    }
                ),
            }
        ]
    }
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())

    (cause,) = diagnose(described, now=SAVED_AT, events=events).causes

    assert cause.code == "function-not-found"
    assert cause.commands == (
        f"aws lambda get-function --function-name {FUNCTION} --query "
        "Configuration.FunctionArn --region eu-west-1",
    )
