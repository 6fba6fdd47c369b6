"""diagnose reads the evidence as one timeline whatever shape it was saved in, tells the root cause
from its trigger by reading the attempts in order, and names the remaining cause families.

The retry-story files hold one incident saved four ways (filter-log-events JSON, ``aws logs tail``,
``aws logs tail --format short``, rows copied from the CloudWatch console): createSecret stored the
pending value, setSecret timed out, and every retry failed in createSecret with
ResourceExistsException.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rotation_testkit import cli
from rotation_testkit.diagnose import (
    IN_PROGRESS,
    build_timeline,
    diagnose,
    read_evidence,
)
from rotation_testkit.diagnose.log_text import from_text

EVIDENCE = Path(__file__).parent / "evidence"
SAVED_AT = "2025-06-02T09:30:00Z"
STATE = ("describe-stuck.json", "versions-pending-value.json")
PLACEHOLDER = ("describe-stuck.json", "versions-placeholder.json")
RETRY_STORY = (
    "logs-retry-story.json",
    "logs-retry-story-tail.txt",
    "logs-retry-story-tail-short.txt",
    "logs-retry-story-console.txt",
)
REQUEST = "5b0f7a3e-2c1d-4e8f-9a6b-1c2d3e4f5a6b"


def paths(*names: str) -> list[str]:
    return [str(EVIDENCE / name) for name in names]


def run(capsys: pytest.CaptureFixture[str], *names: str) -> tuple[int, str]:
    code = cli.main(["diagnose", *paths(*names), "--now", SAVED_AT])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out


def document(capsys: pytest.CaptureFixture[str], *names: str) -> dict[str, Any]:
    code = cli.main(["diagnose", *paths(*names), "--now", SAVED_AT, "--format", "json"])
    captured = capsys.readouterr()
    assert captured.err == ""
    found: dict[str, Any] = json.loads(captured.out)
    assert found["exit_code"] == code
    (secret,) = found["secrets"]
    return secret  # type: ignore[no-any-return]


def codes(secret: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(cause["code"], cause["certain"]) for cause in secret["causes"]]


def flat(text: str) -> str:
    return " ".join(text.split())


# --- one timeline, whatever the shape -----------------------------------------------------------


def _attempts(name: str) -> list[tuple[Any, ...]]:
    evidence = read_evidence(paths(name, *STATE))
    return [
        (
            attempt.request_id,
            attempt.step,
            attempt.outcome,
            attempt.error_type,
            attempt.error_message,
            attempt.duration,
        )
        for attempt in build_timeline(evidence.logs, evidence.events).invocations
    ]


def test_each_saved_shape_of_the_logs_reads_into_the_same_timeline() -> None:
    timelines = {name: _attempts(name) for name in RETRY_STORY}

    expected = timelines["logs-retry-story.json"]
    assert [(step, outcome, error) for _id, step, outcome, error, _m, _d in expected] == [
        ("createSecret", "succeeded", None),
        ("setSecret", "timed out", "TaskTimedOut"),
        ("createSecret", "failed", "ResourceExistsException"),
        ("createSecret", "failed", "ResourceExistsException"),
        ("createSecret", "failed", "ResourceExistsException"),
    ]
    assert expected[1][5] == 30.031
    for name, timeline in timelines.items():
        assert timeline == expected, name


@pytest.mark.parametrize("logs", RETRY_STORY)
def test_three_formats_of_one_incident_give_the_same_state_and_causes(
    capsys: pytest.CaptureFixture[str], logs: str
) -> None:
    secret = document(capsys, *STATE, logs)

    assert secret["state"] == "stuck"
    assert codes(secret) == [("create-secret-not-idempotent", True)]
    assert secret["causes"][0]["trigger"].startswith("setSecret timed out once")
    assert [attempt["outcome"] for attempt in secret["attempts"]] == [
        "succeeded",
        "timed out",
        "failed",
        "failed",
        "failed",
    ]


def test_console_rows_are_read_as_their_messages_not_as_one_indented_block() -> None:
    rows = (
        "  | 2022-01-03T10:06:46.102+00:00 | START RequestId: "
        f"{REQUEST} Version: $LATEST\n"
        "  | 2022-01-03T10:06:48.697+00:00 | [ERROR] ModuleNotFoundError: No module named "
        "'pymysql'\n"
        f"  | 2022-01-03T10:06:48.700+00:00 | END RequestId: {REQUEST}\n"
    )
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())

    result = diagnose(described, now=SAVED_AT, logs=rows)

    (cause,) = result.causes
    assert cause.code == "missing-module"
    assert "START" not in cause.evidence[0]
    assert "[ERROR] ModuleNotFoundError: No module named 'pymysql'" in cause.evidence[0]
    assert result.attempts[0].request_id == REQUEST
    assert result.attempts[0].started is not None
    assert result.attempts[0].started.isoformat() == "2022-01-03T10:06:46.102000+00:00"


# --- the story of the attempts ------------------------------------------------------------------


def test_the_retry_story_names_the_root_cause_and_the_timeout_as_its_trigger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, *STATE, "logs-retry-story-console.txt")

    assert code == 1
    text = flat(out)
    assert (
        "createSecret is not idempotent: it stores a new value on each run instead of reusing "
        "the pending one (certain)"
    ) in text
    assert "setSecret timed out once (at 2025-05-31 03:05:12 UTC); every retry then failed in " in (
        text
    )
    assert "Set off by: setSecret timed out once" in text
    assert "Make createSecret idempotent" in text
    # The timeout is the trigger, not a cause of its own, nor a network guess.
    assert "The function timed out" not in text
    assert "cannot reach the Secrets Manager endpoint" not in text


def _story_lines(*, success_logged: bool) -> str:
    created = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
    other = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
    lines = [f"START RequestId: {REQUEST} Version: $LATEST"]
    if success_logged:
        lines.append(
            f"[INFO]\t2025-05-31T03:05:12.400Z\t{REQUEST}\tcreateSecret: Successfully put "
            f"secret for ARN arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/"
            f"db-a1B2c3 and version {created}."
        )
    lines += [
        f"END RequestId: {REQUEST}",
        f"START RequestId: {other} Version: $LATEST",
        f"2025-05-31T03:05:42.553Z {other} Task timed out after 30.03 seconds",
        f"END RequestId: {other}",
    ]
    return "\n".join(lines) + "\n"


def test_a_call_that_reached_secrets_manager_rules_out_the_network_guess() -> None:
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())

    reached = diagnose(described, now=SAVED_AT, logs=_story_lines(success_logged=True))
    silent = diagnose(described, now=SAVED_AT, logs=_story_lines(success_logged=False))

    assert "cannot-reach-secretsmanager" not in [cause.code for cause in reached.causes]
    assert [(cause.code, cause.certain) for cause in silent.causes] == [
        ("cannot-reach-secretsmanager", False)
    ]


def test_a_call_the_function_made_in_cloudtrail_also_rules_out_the_network_guess() -> None:
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())
    put = {
        "eventName": "PutSecretValue",
        "eventTime": "2025-05-31T03:05:12Z",
        "userAgent": "Boto3/1.34.34 md/Botocore#1.34.34 exec-env/AWS_Lambda_python3.12",
        "userIdentity": {
            "arn": "arn:aws:sts::111122223333:assumed-role/rotate-app-db-role/rotate-app-db"
        },
        "requestParameters": {"secretId": described["ARN"], "clientRequestToken": "x"},
    }

    result = diagnose(
        described,
        now=SAVED_AT,
        logs=_story_lines(success_logged=False),
        events={"Records": [put]},
    )

    assert "cannot-reach-secretsmanager" not in [cause.code for cause in result.causes]


# --- the remaining cause families ----------------------------------------------------------------


def test_a_missing_function_is_read_from_cloudtrail_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = document(capsys, *PLACEHOLDER, "trail-function-missing.json")

    assert codes(secret) == [("function-not-found", True)]
    (cause,) = secret["causes"]
    assert "Resource not found for ARN" in cause["evidence"][0]
    assert cause["commands"] == [
        "aws lambda get-function --function-name "
        "arn:aws:lambda:eu-west-1:111122223333:function:rotate-app-db --query "
        "Configuration.FunctionArn --region eu-west-1"
    ]


def test_a_module_missing_from_the_package_is_named_with_where_to_add_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = document(capsys, *PLACEHOLDER, "logs-missing-module-console.txt")

    assert codes(secret) == [("missing-module", True)]
    (cause,) = secret["causes"]
    assert cause["title"] == "The deployment package lacks the module psycopg2"
    assert "Add psycopg2 to the deployment package" in cause["fix"]
    assert "Lambda layer" in cause["fix"]
    assert "No module named 'psycopg2'" in cause["evidence"][0]


def test_a_settings_change_while_the_rotation_ran_is_read_from_a_cloudtrail_log_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = document(capsys, *STATE, "trail-records-reconfigured.json")

    assert codes(secret) == [("secret-changed-during-rotation", False)]
    (cause,) = secret["causes"]
    assert "kmsKeyId" in cause["title"]
    assert "assumed-role/Deployer/deploy" in cause["explanation"]
    assert "the function's log lines after this change" in cause["settle"]


def test_a_value_written_by_a_person_while_the_rotation_ran_abandons_it() -> None:
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())
    records = [
        {
            "eventName": "RotationStarted",
            "eventTime": "2025-05-31T03:05:11Z",
            "userIdentity": {"invokedBy": "secretsmanager.amazonaws.com"},
            "additionalEventData": {"SecretId": described["ARN"]},
        },
        {
            "eventName": "PutSecretValue",
            "eventTime": "2025-05-31T03:06:00Z",
            "userAgent": "aws-cli/2.15.30",
            "userIdentity": {"arn": "arn:aws:sts::111122223333:assumed-role/Admin/jane"},
            "requestParameters": {"secretId": described["ARN"], "clientRequestToken": "y"},
        },
    ]

    result = diagnose(described, now=SAVED_AT, events={"Records": records})

    assert [cause.code for cause in result.causes] == ["rotation-abandoned"]
    assert "assumed-role/Admin/jane" in result.causes[0].evidence[0]


# --- the report -----------------------------------------------------------------------------------


def test_one_causes_heading_lists_established_causes_before_guesses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys, "describe-stuck.json", "logs-missing-key.txt", "trail-records-reconfigured.json"
    )

    assert code == 1
    assert out.count("Causes:") == 1
    for other in ("Root cause", "Possible causes", "Likely causes"):
        assert other not in out
    certain = flat(out).index("(certain)")
    guess = flat(out).index("(a guess)")
    assert certain < guess
    assert "To settle it, save and give diagnose the function's log lines after" in flat(out)


def test_evidence_already_given_is_never_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    _, with_both = run(capsys, *STATE, "logs-propagation.json", "trail-set-secret-failed.json")
    _, logs_only = run(capsys, *STATE, "logs-retry-story.json")
    _, nothing = run(capsys, *STATE)

    assert "filter-log-events" not in with_both
    assert "lookup-events" not in with_both
    assert "Save them" not in with_both
    assert "filter-log-events" not in logs_only
    assert "filter-log-events" in nothing
    assert "lookup-events" in nothing


def test_both_given_without_a_failure_says_to_check_what_they_cover() -> None:
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())
    versions = json.loads((EVIDENCE / "versions-pending-value.json").read_text())
    quiet = f"START RequestId: {REQUEST} Version: $LATEST\nEND RequestId: {REQUEST}\n"

    result = diagnose(described, versions, now=SAVED_AT, logs=quiet, events={"Records": []})

    text = flat(result.text)
    assert "The logs and CloudTrail events given show no failure of this rotation" in text
    assert "Save them" not in text


def test_a_rotation_in_progress_exits_0_whatever_else_it_notes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())
    described["RotationEnabled"] = False  # a problem: nothing would reattempt it
    described["LastChangedDate"] = "2025-06-02T09:20:00+00:00"
    state = tmp_path / "state.json"
    state.write_text(json.dumps(described))

    code = cli.main(["diagnose", str(state), "--now", SAVED_AT, "--format", "json"])

    (secret,) = json.loads(capsys.readouterr().out)["secrets"]
    assert secret["state"] == IN_PROGRESS
    assert secret["problems"]
    assert code == secret["exit_code"] == 0


def test_the_functions_successful_read_in_cloudtrail_rules_out_the_kms_guess() -> None:
    described = json.loads((EVIDENCE / "describe-kms.json").read_text())
    read = {
        "eventName": "GetSecretValue",
        "eventTime": "2025-05-31T03:05:12Z",
        "userAgent": "Boto3/1.34.34 md/Botocore#1.34.34 exec-env/AWS_Lambda_python3.12",
        "requestParameters": {"secretId": described["ARN"], "versionStage": "AWSCURRENT"},
    }

    guessed = diagnose(described, now=SAVED_AT, events={"Records": []})
    ruled_out = diagnose(described, now=SAVED_AT, events={"Records": [read]})

    assert [(c.code, c.certain) for c in guessed.causes] == [("kms-access-denied", False)]
    assert "kms-access-denied" not in [cause.code for cause in ruled_out.causes]


def test_console_rows_with_a_closing_bar_a_header_and_rules_read_as_their_messages() -> None:
    rows = (
        "+-------------------------------+------------------------------------+\n"
        "| timestamp                     | message                            |\n"
        "|-------------------------------|------------------------------------|\n"
        f"| 2025-05-31T03:05:11.518+00:00 | START RequestId: {REQUEST} Version: $LATEST |\n"
        "| 2025-05-31T03:05:11.708+00:00 | [ERROR] KeyError: 'engine'         |\n"
        '|                               |   File "/var/task/f.py", in create_secret |\n'
        f"| 2025-05-31T03:05:11.712+00:00 | END RequestId: {REQUEST}           |\n"
    )

    lines = from_text(rows)

    assert [line.text.splitlines()[0] for line in lines] == [
        f"START RequestId: {REQUEST} Version: $LATEST",
        "[ERROR] KeyError: 'engine'",
        f"END RequestId: {REQUEST}",
    ]
    assert lines[1].step == "createSecret"
    assert {line.request_id for line in lines} == {REQUEST}


def test_a_first_failure_unlike_the_later_ones_is_named_as_the_trigger() -> None:
    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())
    first, second = REQUEST, "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
    logs = (
        f"2025-05-31T03:05:11Z START RequestId: {first} Version: $LATEST\n"
        f"2025-05-31T03:05:41Z 2025-05-31T03:05:41.733Z {first} "
        "Task timed out after 30.03 seconds\n"
        f"2025-05-31T03:05:41Z END RequestId: {first}\n"
        f"2025-05-31T03:07:11Z START RequestId: {second} Version: $LATEST\n"
        "2025-05-31T03:07:12Z [ERROR] KeyError: 'engine key is missing from secret JSON'\n"
        f"2025-05-31T03:07:12Z END RequestId: {second}\n"
    )

    result = diagnose(described, now=SAVED_AT, logs=logs)

    (cause,) = result.causes
    assert cause.code == "secret-json-missing-key"
    assert cause.trigger == "a step timed out once (at 2025-05-31 03:05:11 UTC)"
