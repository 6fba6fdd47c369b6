"""diagnose recognises each saved output by its content, reads every field it holds, masks values
in what it quotes, and prints commands that run as printed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from rotation_testkit import cli
from rotation_testkit.diagnose import (
    IN_PROGRESS,
    STATES,
    STUCK,
    LogLine,
    TrailEvent,
    diagnose,
    read_evidence,
)
from rotation_testkit.diagnose.commands import log_commands
from rotation_testkit.diagnose.log_text import from_text
from rotation_testkit.diagnose.logs import from_document
from rotation_testkit.diagnose.masking import mask_values
from rotation_testkit.diagnose.trail import from_document as trail_from_document

EVIDENCE = Path(__file__).parent / "evidence"
SAVED_AT = datetime(2025, 6, 2, 9, 30, tzinfo=timezone.utc)
PENDING = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"


def load(name: str) -> Any:
    return json.loads((EVIDENCE / name).read_text())


def flat(text: str) -> str:
    return " ".join(text.split())


# --- recognising the files ------------------------------------------------------------------------


def test_each_file_is_recognised_by_its_content_whatever_its_name_or_order(
    tmp_path: Path,
) -> None:
    names = [
        "trail-set-secret-failed.json",
        "logs-propagation.json",
        "versions-pending-value.json",
        "describe-stuck.json",
        "logs-missing-key.txt",
    ]
    copies = []
    for number, name in enumerate(names):
        copy = tmp_path / f"file{number}"
        copy.write_bytes((EVIDENCE / name).read_bytes())
        copies.append(str(copy))

    evidence = read_evidence(copies)

    (described, versions), *others = evidence.secrets
    assert others == []
    assert described["Name"] == "prod/app/db"
    assert versions is not None
    assert len(versions["Versions"]) == 3
    assert evidence.logs_given
    assert evidence.trail_given
    assert any("engine key is missing" in line.text for line in evidence.logs)
    assert {event.name for event in evidence.events} == {"RotationStarted", "RotationFailed"}


def test_console_text_keeps_a_traceback_with_its_error_line() -> None:
    lines = from_text((EVIDENCE / "logs-missing-key.txt").read_text())

    error = next(line for line in lines if line.text.startswith("[ERROR]"))
    assert "raise KeyError" in error.text
    assert error.step == "createSecret"
    assert [line.request_id for line in lines[:1]] == ["5b0f7a3e-2c1d-4e8f-9a6b-1c2d3e4f5a6b"]


def test_log_events_carry_their_time_and_request_id() -> None:
    lines = from_document(load("logs-propagation.json"))

    set_line = next(line for line in lines if "Successfully set password" in line.text)
    assert set_line.time == datetime(2025, 5, 31, 3, 5, 13, 20000, tzinfo=timezone.utc)
    assert set_line.request_id == "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    assert set_line.message.startswith("[INFO] setSecret: Successfully set password")


def test_lambdas_json_log_format_is_read_as_the_line_it_stands_for() -> None:
    record = {
        "timestamp": "2025-05-31T03:05:12Z",
        "level": "ERROR",
        "requestId": "5b0f7a3e-2c1d-4e8f-9a6b-1c2d3e4f5a6b",
        "errorType": "KeyError",
        "errorMessage": "'masterarn'",
        "stackTrace": ['  File "/var/task/lambda_function.py", line 185, in set_secret\n'],
    }
    document = {"events": [{"timestamp": 1748660712000, "message": json.dumps(record)}]}

    (line,) = from_document(document)

    assert line.text.startswith("[ERROR] KeyError: 'masterarn'")
    assert line.step == "setSecret"


def test_cloudtrail_records_are_read_from_the_json_string_lookup_events_holds() -> None:
    (failed, started, _other) = trail_from_document(load("trail-set-secret-failed.json"))

    assert (failed.name, failed.step) == ("RotationFailed", "setSecret")
    assert str(failed.secret_id).endswith(":secret:prod/app/db-a1B2c3")
    assert started.time == datetime(2025, 5, 31, 3, 5, 11, tzinfo=timezone.utc)


def test_list_secrets_with_several_entries_asks_which_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(EVIDENCE / "list-secrets.json")

    assert cli.main(["diagnose", path]) == 2
    err = capsys.readouterr().err
    assert "describe 2 secrets (prod/app/cache, prod/app/db): say which one with --secret" in err

    code = cli.main(["diagnose", path, "--secret", "prod/app/db", "--now", "2025-06-02T09:30Z"])
    out = capsys.readouterr().out
    assert code == 1
    assert "State: STUCK" in out
    assert out.count("Secret: ") == 1


def test_an_unknown_secret_name_exits_2_naming_those_the_files_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(["diagnose", str(EVIDENCE / "list-secrets.json"), "--secret", "prod/x"])

    assert code == 2
    assert "no secret named prod/x in the files; they hold: prod/app/cache, prod/app/db" in (
        capsys.readouterr().err
    )


def test_logs_alone_are_not_enough(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose", str(EVIDENCE / "logs-kms.json")]) == 2
    assert "only logs or CloudTrail events" in capsys.readouterr().err


# --- --now --------------------------------------------------------------------------------------


def test_now_judges_the_files_as_they_were_when_saved(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(EVIDENCE / "describe-stuck.json"), str(EVIDENCE / "versions-pending-value.json")]

    at_the_time = cli.main(["diagnose", *files, "--now", "2025-05-31T03:20:00Z"])
    first = capsys.readouterr().out
    days_later = cli.main(["diagnose", *files, "--now", "2025-06-09T10:00:00Z"])
    later = capsys.readouterr().out

    assert (at_the_time, days_later) == (0, 1)
    assert "State: ROTATION IN PROGRESS" in first
    assert "created 14 minutes ago" in first
    assert "State: STUCK" in later


def test_an_unreadable_now_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["diagnose", str(EVIDENCE / "describe-stuck.json"), "--now", "yesterday"])

    assert code == 2
    assert "--now 'yesterday' is not a date" in capsys.readouterr().err


# --- --format json ------------------------------------------------------------------------------


def test_json_output_holds_the_state_problems_causes_and_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = [str(EVIDENCE / n) for n in ("describe-kms.json", "logs-kms.json")]

    code = cli.main(["diagnose", *files, "--now", "2025-06-02T09:30:00Z", "--format", "json"])
    document = json.loads(capsys.readouterr().out)

    assert code == document["exit_code"] == 1
    (secret,) = document["secrets"]
    assert secret["state"] == STUCK
    assert secret["secret"] == {
        "arn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3",
        "name": "prod/app/db",
        "region": "eu-west-1",
    }
    assert secret["judged_at"] == "2025-06-02T09:30:00+00:00"
    assert secret["pending_version"] == PENDING
    assert [p["code"] for p in secret["problems"]] == ["next-rotation-past"]
    assert [c["code"] for c in secret["causes"]] == ["kms-access-denied"]
    assert secret["commands"][0].startswith("aws secretsmanager update-secret-version-stage")
    assert secret["state"] in STATES


# --- the fields of describe-secret ------------------------------------------------------------------


def test_a_recent_pending_version_with_a_value_warns_that_applications_may_be_failing() -> None:
    described = load("describe-stuck.json")
    versions = load("versions-pending-value.json")

    result = diagnose(described, versions, now="2025-05-31T03:25:00Z")

    assert result.state == IN_PROGRESS
    text = flat(result.text)
    assert "setSecret may already have changed the password in the database" in text
    assert "applications still read the old one from AWSCURRENT" in text
    assert "aws logs filter-log-events --log-group-name /aws/lambda/rotate-app-db" in text


def test_an_empty_recent_placeholder_is_in_progress_without_the_warning() -> None:
    result = diagnose(
        load("describe-stuck.json"), load("versions-placeholder.json"), now="2025-05-31T03:25Z"
    )

    assert result.state == IN_PROGRESS
    assert "may already have changed the password" not in result.text


def test_never_rotated_kms_key_and_managing_tool_are_noted() -> None:
    described = load("describe-kms.json")
    del described["LastRotatedDate"]
    described["Tags"] = [{"Key": "aws:cloudformation:stack-name", "Value": "app-db"}]

    notes = " ".join(diagnose(described, now=SAVED_AT).notes)

    assert "key/1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b" in notes
    assert "no rotation of this secret has ever succeeded" in notes
    assert "CloudFormation manages this secret" in notes


def test_the_stuck_summary_reads_without_doubled_commas() -> None:
    described = load("describe-stuck.json")

    text = diagnose(described, load("versions-pending-value.json"), now=SAVED_AT).text

    assert ",," not in text
    assert f"AWSPENDING is on version {PENDING} (created 2 days ago), but AWSCURRENT" in flat(text)


def test_no_current_with_a_previous_version_offers_a_real_version_id() -> None:
    described = load("describe-stuck.json")
    described["VersionIdsToStages"] = {
        "7d0c1a52-6f7e-4b8e-9a51-2f4c8b0e1d11": ["AWSPREVIOUS"],
        "c8a3e1f0-1b2d-4c5e-8f9a-0b1c2d3e4f50": [],
    }

    result = diagnose(described, now=SAVED_AT)

    assert result.commands == [
        "aws secretsmanager update-secret-version-stage --secret-id "
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3 "
        "--version-stage AWSCURRENT --move-to-version-id 7d0c1a52-6f7e-4b8e-9a51-2f4c8b0e1d11 "
        "--region eu-west-1"
    ]
    assert "VERSION_ID" not in result.text


def test_rotation_without_a_function_prints_no_placeholder_command() -> None:
    described = load("describe-stuck.json")
    del described["RotationLambdaARN"]
    described["VersionIdsToStages"] = {"c8a3e1f0-1b2d-4c5e-8f9a-0b1c2d3e4f50": ["AWSCURRENT"]}

    result = diagnose(described, now=SAVED_AT)

    assert "rotation-without-lambda" in [problem.code for problem in result.problems]
    assert "FUNCTION_ARN" not in result.text
    assert all("rotate-secret" not in command for command in result.commands)


def test_evidence_objects_may_be_given_to_diagnose_directly() -> None:
    line = LogLine(
        "[ERROR] ClientError: ... GetSecretValue operation: Access to KMS is not allowed"
    )
    other = TrailEvent("RotationFailed", secret_id="arn:aws:secretsmanager:x:1:secret:other-AbCdEf")

    result = diagnose(load("describe-kms.json"), now=SAVED_AT, logs=[line], events=[other])

    assert [cause.code for cause in result.causes] == ["kms-access-denied"]
    assert result.causes[0].certain


# --- masking and commands -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Loaded {'username': 'app', 'password': 'Zr8#kP2!wQ9x'}", "Zr8#kP2!wQ9x"),
        ('value {"password": "Zr8#kP2", "apiKey": "tok-123456"}', "tok-123456"),
        ("ALTER USER app WITH PASSWORD 'Zr8#kP2!wQ9x'", "Zr8#kP2!wQ9x"),
        ("ALTER USER 'app'@'%' IDENTIFIED BY 'q7Vb2kLm9PzX'", "q7Vb2kLm9PzX"),
        ("connecting to postgresql://app:Zr8kP2wQ9x@db.internal:5432/app", "Zr8kP2wQ9x"),
        ("retrying with password=Zr8kP2wQ9x host=db", "Zr8kP2wQ9x"),
        ("token: abc.def.ghi expired", "abc.def.ghi"),
        ("{'SecretString': '{\"password\": \"p\"}'}", '\\"p\\"'),
    ],
)
def test_values_in_quoted_lines_are_masked(line: str, secret: str) -> None:
    masked = mask_values(line)

    assert secret not in masked
    assert "****" in masked


def test_names_keys_and_arns_stay_readable_when_masked() -> None:
    line = (
        "setSecret: Successfully set password for user app in PostgreSQL DB for secret arn "
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3. "
        "{'host': 'db.internal', 'engine': 'postgres'} KeyError: 'masterarn'"
    )

    assert mask_values(line) == line


def test_log_commands_offer_the_v1_form_beside_aws_logs_tail() -> None:
    since = datetime(2025, 5, 31, 3, 5, 10, tzinfo=timezone.utc)
    function = "arn:aws:lambda:ap-southeast-2:111122223333:function:rotate-app-db"

    commands = log_commands(function, since, since + timedelta(days=2))

    assert commands == (
        "aws logs tail /aws/lambda/rotate-app-db --since 3d --region ap-southeast-2",
        "aws logs filter-log-events --log-group-name /aws/lambda/rotate-app-db --start-time "
        "1748657110000 --output json --region ap-southeast-2 > logs.json",
    )


def test_log_lines_of_invocations_for_other_secrets_are_left_out() -> None:
    other = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/other-Zz9Yy8"
    logs = (
        "START RequestId: 11111111-2222-4333-8444-555555555555 Version: $LATEST\n"
        f"[INFO]\t2025-05-31T03:05:12Z\t11111111-2222-4333-8444-555555555555\tcreateSecret: "
        f"Successfully retrieved secret for {other}.\n"
        "[ERROR] ClientError: An error occurred (AccessDeniedException) when calling the "
        "GetSecretValue operation: Access to KMS is not allowed\n"
    )

    result = diagnose(load("describe-stuck.json"), now=SAVED_AT, logs=logs)

    assert result.causes == []


def test_for_a_stuck_secret_the_first_command_unblocks_it_even_without_awscurrent() -> None:
    described = load("describe-stuck.json")
    described["VersionIdsToStages"] = {
        "7d0c1a52-6f7e-4b8e-9a51-2f4c8b0e1d11": ["AWSPREVIOUS"],
        PENDING: ["AWSPENDING"],
    }

    result = diagnose(described, load("versions-pending-value.json"), now=SAVED_AT)

    assert result.state == STUCK
    assert result.commands[0].endswith(
        f"--version-stage AWSPENDING --remove-from-version-id {PENDING} --region eu-west-1"
    )
