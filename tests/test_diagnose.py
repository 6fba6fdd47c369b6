"""`rotation-testkit diagnose`: explaining saved describe-secret (and list-secret-version-ids) output.

The analysis is pure, so most tests give ``now`` explicitly; the command-line tests build their
dates around the real current time, since the command reads the clock.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from rotation_testkit import cli
from rotation_testkit.diagnose import (
    HEALTHY,
    IN_PROGRESS,
    INCONSISTENT,
    STUCK,
    UnreadableInput,
    diagnose,
    parse_date,
    run_diagnose_command,
    stage_command,
)

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3"
NAME = "prod/app/db"
FUNCTION = "arn:aws:lambda:eu-west-1:111122223333:function:rotate-app-db"
PREVIOUS = "7d0c1a52-6f7e-4b8e-9a51-2f4c8b0e1d11"
CURRENT = "c8a3e1f0-1b2d-4c5e-8f9a-0b1c2d3e4f50"
PENDING = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"

PREVIOUS_ROTATION_INCOMPLETE = (
    "A previous rotation isn't complete. That rotation will be reattempted."
)
REMOVE_PENDING = (
    f"aws secretsmanager update-secret-version-stage --secret-id {ARN} "
    f"--version-stage AWSPENDING --remove-from-version-id {PENDING} --region eu-west-1"
)
MOVE_CURRENT = (
    f"aws secretsmanager update-secret-version-stage --secret-id {ARN} "
    f"--version-stage AWSCURRENT --move-to-version-id {PENDING} --remove-from-version-id {CURRENT} "
    "--region eu-west-1"
)


def iso(moment: datetime) -> str:
    """A date as AWS CLI v2 prints it."""
    return moment.isoformat(timespec="microseconds")


def described(
    stages: Mapping[str, list[str]] | None = None, *, now: datetime = NOW, **fields: Any
) -> dict[str, Any]:
    """describe-secret output of a secret rotated every 30 days by a function."""
    document: dict[str, Any] = {
        "ARN": ARN,
        "Name": NAME,
        "RotationEnabled": True,
        "RotationLambdaARN": FUNCTION,
        "RotationRules": {"AutomaticallyAfterDays": 30},
        "LastRotatedDate": iso(now - timedelta(days=20)),
        "LastChangedDate": iso(now - timedelta(days=3)),
        "NextRotationDate": iso(now + timedelta(days=10)),
        "VersionIdsToStages": dict(
            stages
            if stages is not None
            else {PREVIOUS: ["AWSPREVIOUS"], CURRENT: ["AWSCURRENT"], PENDING: ["AWSPENDING"]}
        ),
        "CreatedDate": iso(now - timedelta(days=200)),
    }
    document.update(fields)
    return {key: value for key, value in document.items() if value is not None}


def listed(*entries: tuple[str, list[str], datetime], **fields: Any) -> dict[str, Any]:
    """list-secret-version-ids output: (version id, labels, created) per version."""
    return {
        "Versions": [
            {"VersionId": vid, "VersionStages": labels, "CreatedDate": iso(created)}
            for vid, labels, created in entries
        ],
        "ARN": ARN,
        "Name": NAME,
        **fields,
    }


def stuck_listing(pending_age: timedelta | None, *, now: datetime = NOW) -> dict[str, Any]:
    """The listing of the default three versions; the pending one only with an age (a value)."""
    entries = [
        (PREVIOUS, ["AWSPREVIOUS"], now - timedelta(days=50)),
        (CURRENT, ["AWSCURRENT"], now - timedelta(days=20)),
    ]
    if pending_age is not None:
        entries.append((PENDING, ["AWSPENDING"], now - pending_age))
    return listed(*entries)


def flat(text: str) -> str:
    """The text with its line wrapping undone."""
    return " ".join(text.split())


def codes(diagnosis: Any) -> list[str]:
    return [problem.code for problem in diagnosis.problems]


# --- the state --------------------------------------------------------------------------------


def test_a_secret_with_no_pending_rotation_is_healthy() -> None:
    result = diagnose(described({PREVIOUS: ["AWSPREVIOUS"], CURRENT: ["AWSCURRENT"]}), now=NOW)

    assert result.state == HEALTHY
    assert result.exit_code == 0
    assert result.problems == []
    assert result.commands == []
    assert result.current_version == CURRENT
    assert result.pending_version is None
    assert "State: HEALTHY" in result.text
    assert f"AWSCURRENT is on version {CURRENT}" in result.text


def test_pending_on_the_current_version_is_a_valid_end_state() -> None:
    result = diagnose(described({CURRENT: ["AWSCURRENT", "AWSPENDING"]}), now=NOW)

    assert result.state == HEALTHY
    assert result.exit_code == 0
    assert "valid end state" in result.text


def test_a_pending_version_created_minutes_ago_is_a_rotation_in_progress() -> None:
    result = diagnose(described(), stuck_listing(timedelta(minutes=12)), now=NOW)

    assert result.state == IN_PROGRESS
    assert result.exit_code == 0
    assert result.pending_version == PENDING
    assert result.commands == []
    assert "created 12 minutes ago" in result.text
    assert "may still be running" in result.text
    assert "Do not remove AWSPENDING now" in result.text


def test_an_empty_placeholder_with_a_recent_change_is_a_rotation_in_progress() -> None:
    # Empty versions are never listed with a date: the secret's last change stands in for it.
    state = described(LastChangedDate=iso(NOW - timedelta(minutes=5)))

    result = diagnose(state, stuck_listing(None), now=NOW)

    assert result.state == IN_PROGRESS
    assert "the secret last changed 5 minutes ago" in flat(result.text)


def test_a_pending_version_older_than_an_hour_is_stuck() -> None:
    result = diagnose(described(), stuck_listing(timedelta(hours=3)), now=NOW)

    assert result.state == STUCK
    assert result.exit_code == 1
    assert result.pending_version == PENDING
    assert result.current_version == CURRENT
    assert "State: STUCK" in result.text
    assert f"    InvalidRequestException: {PREVIOUS_ROTATION_INCOMPLETE}\n" in result.text


def test_stuck_with_a_pending_value_offers_to_unblock_or_to_finish_by_hand() -> None:
    result = diagnose(described(), stuck_listing(timedelta(days=2)), now=NOW)

    assert result.commands == [REMOVE_PENDING, MOVE_CURRENT]
    lines = result.text.splitlines()
    # Each command is printed whole, on a line of its own, to copy.
    assert f"       {REMOVE_PENDING}" in lines
    assert f"       {MOVE_CURRENT}" in lines
    assert "(a guess) Version " in result.text
    assert "holds a value, so createSecret succeeded" in flat(result.text)
    assert f"(AWSPREVIOUS follows to {CURRENT})" in flat(result.text)
    assert "aws logs tail /aws/lambda/rotate-app-db --since 3d" in result.text


def test_stuck_with_an_empty_placeholder_offers_only_to_remove_the_label() -> None:
    result = diagnose(described(), stuck_listing(None), now=NOW)

    assert result.state == STUCK
    assert result.commands == [REMOVE_PENDING]
    text = flat(result.text)
    assert f"Version {PENDING} holds no value" in text
    assert f"Do not move AWSCURRENT to {PENDING}: it holds no value" in text
    assert "createSecret failed on every attempt" in text


def test_stuck_without_a_listing_explains_every_likely_cause() -> None:
    result = diagnose(described(), now=NOW)

    assert result.state == STUCK
    assert result.commands == [REMOVE_PENDING, MOVE_CURRENT]
    text = flat(result.text)
    assert "A step of the rotation function failed on every attempt" in text
    assert "finishSecret returned without moving AWSCURRENT" in text
    assert "empty placeholder" in text
    # How to tell whether the pending version has a value, without printing it.
    assert (
        f"`aws secretsmanager get-secret-value --secret-id {ARN} --version-id {PENDING} "
        "--query VersionId --output text --region eu-west-1`"
    ) in result.text


def test_the_commands_name_the_secret_by_name_when_the_arn_is_unknown() -> None:
    state = described()
    del state["ARN"]

    result = diagnose(state, now=NOW)

    assert result.commands[0] == stage_command(NAME, "AWSPENDING", remove_from=PENDING)
    assert result.commands[0].startswith(
        "aws secretsmanager update-secret-version-stage --secret-id prod/app/db "
    )


def test_every_command_runs_in_the_region_of_the_secrets_arn() -> None:
    result = diagnose(described(), now=NOW)

    assert result.commands
    assert all(command.endswith(" --region eu-west-1") for command in result.commands)
    assert "default region" not in result.text


def test_without_an_arn_the_commands_say_they_use_the_default_region() -> None:
    state = described()
    del state["ARN"]

    result = diagnose(state, now=NOW)

    assert all("--region" not in command for command in result.commands)
    assert "the commands use your default region" in flat(result.text)


# --- inconsistencies ----------------------------------------------------------------------------


def test_no_version_with_awscurrent_is_a_problem() -> None:
    result = diagnose(described({PREVIOUS: ["AWSPREVIOUS"], CURRENT: ["custom"]}), now=NOW)

    assert result.state == INCONSISTENT
    assert result.exit_code == 1
    assert codes(result) == ["no-current"]
    assert (
        f"AWSPREVIOUS, the last known good version, is on {PREVIOUS}" in result.problems[0].message
    )


def test_a_secret_without_versions_has_no_current_value() -> None:
    state = described({})

    result = diagnose(state, now=NOW)

    assert codes(result) == ["no-current"]
    assert "holds no value yet" in result.problems[0].message


def test_a_label_on_two_versions_is_a_problem() -> None:
    state = described({CURRENT: ["AWSCURRENT"], PENDING: ["AWSCURRENT"]})

    result = diagnose(state, now=NOW)

    assert "label-on-two-versions" in codes(result)
    assert result.exit_code == 1


def test_pending_with_rotation_turned_off_points_at_cancel_rotate_secret() -> None:
    state = described(RotationEnabled=False, NextRotationDate=None)

    result = diagnose(state, now=NOW)

    assert result.state == STUCK
    assert codes(result) == ["pending-without-rotation"]
    assert "CancelRotateSecret" in result.problems[0].message
    assert REMOVE_PENDING in result.commands
    # Rotation is off: nothing reattempts it, so that alternative is not offered.
    assert "reattempts the unfinished rotation" not in flat(result.text)


def test_pending_on_a_secret_never_configured_for_rotation() -> None:
    state = described(
        RotationEnabled=None,
        RotationLambdaARN=None,
        RotationRules=None,
        LastRotatedDate=None,
        NextRotationDate=None,
    )

    result = diagnose(state, now=NOW)

    assert codes(result) == ["pending-without-rotation"]
    assert "never configured for rotation" in result.problems[0].message
    assert "never configured" in result.text


def test_a_next_rotation_date_in_the_past_is_a_problem() -> None:
    state = described({CURRENT: ["AWSCURRENT"]}, NextRotationDate=iso(NOW - timedelta(days=4)))

    result = diagnose(state, now=NOW)

    assert result.state == INCONSISTENT
    assert codes(result) == ["next-rotation-past"]
    assert "4 days ago" in result.problems[0].message
    assert "secretsmanager.amazonaws.com" in result.problems[0].message


def test_a_past_next_rotation_date_is_not_a_problem_when_rotation_is_off() -> None:
    state = described(
        {CURRENT: ["AWSCURRENT"]},
        RotationEnabled=False,
        NextRotationDate=iso(NOW - timedelta(days=4)),
    )

    assert diagnose(state, now=NOW).problems == []


def test_a_secret_marked_for_deletion_is_a_problem_with_the_restore_command() -> None:
    state = described({CURRENT: ["AWSCURRENT"]}, DeletedDate=iso(NOW + timedelta(days=5)))

    result = diagnose(state, now=NOW)

    assert codes(result) == ["scheduled-for-deletion"]
    assert result.commands == [
        f"aws secretsmanager restore-secret --secret-id {ARN} --region eu-west-1"
    ]
    assert "marked for deletion" in result.problems[0].message


def test_rotation_on_without_a_function_is_a_problem() -> None:
    state = described({CURRENT: ["AWSCURRENT"]}, RotationLambdaARN=None)

    result = diagnose(state, now=NOW)

    assert codes(result) == ["rotation-without-lambda"]
    assert "No Lambda rotation function ARN is associated with this secret." in (
        result.problems[0].message
    )


def test_rotation_managed_by_another_service_needs_no_function() -> None:
    state = described({CURRENT: ["AWSCURRENT"]}, RotationLambdaARN=None, OwningService="rds")

    result = diagnose(state, now=NOW)

    assert result.problems == []
    assert any("managed by rds" in note for note in result.notes)


def test_outputs_saved_at_different_times_are_noted() -> None:
    listing = listed(
        (CURRENT, ["AWSPREVIOUS"], NOW - timedelta(days=20)),
        (PENDING, ["AWSCURRENT"], NOW - timedelta(days=1)),
    )

    result = diagnose(described(), listing, now=NOW)

    assert any("saved at different times" in note for note in result.notes)
    assert result.current_version == CURRENT  # describe-secret's labels win


# --- input layouts and dates ------------------------------------------------------------------


def test_one_object_with_both_outputs_merged() -> None:
    merged = {**described(), **stuck_listing(timedelta(days=2))}

    assert diagnose(merged, now=NOW).commands == [REMOVE_PENDING, MOVE_CURRENT]
    assert (
        diagnose(merged, now=NOW).text
        == diagnose(described(), stuck_listing(timedelta(days=2)), now=NOW).text
    )


@pytest.mark.parametrize(
    "value",
    [
        "2025-06-01T10:00:00+00:00",
        "2025-06-01T12:00:00.000+02:00",
        "2025-06-01T10:00:00.123456789Z",
        "2025-06-01 10:00:00Z",
        1748772000,
        1748772000.0,
        "1748772000",
        1748772000000,
        datetime(2025, 6, 1, 10, 0, tzinfo=timezone.utc),
        datetime(2025, 6, 1, 10, 0),
    ],
)
def test_dates_in_every_form_the_cli_and_sdks_print(value: object) -> None:
    parsed = parse_date(value)

    assert parsed is not None
    assert parsed.replace(microsecond=0) == datetime(2025, 6, 1, 10, 0, tzinfo=timezone.utc)


def test_an_unreadable_date_is_ignored_with_a_note() -> None:
    result = diagnose(described(LastRotatedDate="last tuesday"), now=NOW)

    assert any("LastRotatedDate" in note for note in result.notes)
    assert result.state == STUCK


def test_boto3_responses_can_be_diagnosed_directly() -> None:
    response = described(ResponseMetadata={"HTTPStatusCode": 200})
    response["LastChangedDate"] = NOW - timedelta(days=3)

    assert diagnose(response, now=NOW).state == STUCK


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"ARN": ARN, "Name": NAME, "SecretString": "s3cret"}, "get-secret-value output"),
        ({"SecretList": []}, "list-secrets output"),
        ({"ARN": ARN, "Name": NAME, "Versions": []}, "list-secret-version-ids output only"),
        ({"hello": "world"}, "not describe-secret output"),
        ({"ARN": ARN, "VersionIdsToStages": ["AWSCURRENT"]}, "VersionIdsToStages is not"),
    ],
)
def test_what_is_not_describe_secret_output_is_refused(
    document: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(UnreadableInput, match=fragment) as refused:
        diagnose(document, now=NOW)

    assert "s3cret" not in str(refused.value)


def test_a_listing_of_another_secret_is_refused() -> None:
    other = {**stuck_listing(None), "ARN": ARN.replace("db-", "cache-"), "Name": "prod/app/cache"}

    with pytest.raises(UnreadableInput, match="for prod/app/cache"):
        diagnose(described(), other, now=NOW)


# --- the command line ---------------------------------------------------------------------------


def now_state(kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """describe-secret and list-secret-version-ids output around the real current time."""
    now = datetime.now(timezone.utc)
    if kind == "healthy":
        return described({CURRENT: ["AWSCURRENT"]}, now=now), listed(
            (CURRENT, ["AWSCURRENT"], now - timedelta(days=20))
        )
    age = timedelta(minutes=10) if kind == "in progress" else timedelta(days=2)
    return described(now=now), stuck_listing(age, now=now)


def write(path: Path, *documents: Any) -> str:
    path.write_text("\n".join(json.dumps(document, indent=4) for document in documents))
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["diagnose", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("kind", "exit_code", "heading"),
    [("healthy", 0, "HEALTHY"), ("in progress", 0, "ROTATION IN PROGRESS"), ("stuck", 1, "STUCK")],
)
def test_the_command_prints_the_state_and_exits_with_its_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, exit_code: int, heading: str
) -> None:
    describe, versions = now_state(kind)

    code, out, err = run(capsys, write(tmp_path / "state.json", describe, versions))

    assert (code, err) == (exit_code, "")
    assert f"State: {heading}\n" in out


def test_the_command_prints_the_unblock_command_for_this_arn_and_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    describe, versions = now_state("stuck")

    code, out, _ = run(capsys, write(tmp_path / "state.json", describe, versions))

    assert code == 1
    assert f"       {REMOVE_PENDING}\n" in out
    assert f"       {MOVE_CURRENT}\n" in out


def test_the_listing_may_be_in_a_second_file_before_or_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    describe, versions = now_state("stuck")
    together = write(tmp_path / "state.json", describe, versions)
    first = write(tmp_path / "describe.json", describe)
    second = write(tmp_path / "versions.json", versions)

    outputs = {run(capsys, *files)[1] for files in ([together], [first, second], [second, first])}

    assert len(outputs) == 1


def test_the_listing_in_one_object_with_the_description(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    describe, versions = now_state("stuck")

    code, out, _ = run(capsys, write(tmp_path / "state.json", {**describe, **versions}))

    assert code == 1
    assert REMOVE_PENDING in out
    assert "holds a value, so createSecret succeeded" in flat(out)


def test_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    describe, versions = now_state("stuck")
    text = json.dumps(describe) + json.dumps(versions)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))

    code, out, err = run(capsys, "-")

    assert (code, err) == (1, "")
    assert REMOVE_PENDING in out


def test_standard_input_without_a_byte_buffer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    describe, _ = now_state("healthy")
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(describe)))

    assert run(capsys, "-")[0] == 0


def test_a_file_saved_by_powershell_in_utf16(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    describe, _ = now_state("healthy")
    path = tmp_path / "state.json"
    path.write_bytes(json.dumps(describe).encode("utf-16"))

    assert run(capsys, str(path))[0] == 0


def test_several_secrets_exit_with_the_worst_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy, _ = now_state("healthy")
    stuck, stuck_versions = now_state("stuck")
    other = {**healthy, "ARN": ARN.replace("db-", "cache-"), "Name": "prod/app/cache"}

    code, out, _ = run(capsys, write(tmp_path / "all.json", other, stuck, stuck_versions))

    assert code == 1
    assert out.count("Secret: ") == 2


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "no such file"),
        ("", "is empty: did the aws command fail?"),
        ('{"ARN": "x",\n "password": "hunter2"', "is not valid JSON (line 2"),
        ("ARN  arn:aws:...  Name  prod/app/db", "--output json"),
        ("[1, 2]", "is a JSON array"),
        (json.dumps({"ARN": ARN, "Name": NAME, "SecretString": "hunter2"}), "get-secret-value"),
        (json.dumps({"Versions": [], "ARN": ARN, "Name": NAME}), "describe-secret output"),
        (json.dumps({"SecretList": []}), "list-secrets output"),
    ],
    ids=["missing", "empty", "invalid", "text-output", "array", "a-value", "versions-only", "list"],
)
def test_unreadable_input_exits_2_and_says_what_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, fragment: str
) -> None:
    path = tmp_path / "state.json"
    if content is not None:
        path.write_text(content)

    code, out, err = run(capsys, str(path))

    assert code == 2
    assert out == ""
    assert err.startswith("rotation-testkit diagnose: ")
    assert fragment in err
    assert "aws secretsmanager describe-secret" in err or "JSON" in err
    assert "hunter2" not in err  # a value in the input is never echoed


def test_a_listing_for_a_secret_not_described_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    describe, versions = now_state("stuck")
    versions = {**versions, "ARN": "arn:other", "Name": "prod/other"}

    code, _, err = run(capsys, write(tmp_path / "state.json", describe, versions))

    assert code == 2
    assert "for prod/other, but no describe-secret output of that secret" in err


def test_a_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path))

    assert code == 2
    assert "is a directory" in err


def test_the_command_requires_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diagnose"]) == 2


def test_the_sample_output_in_the_documentation_is_what_the_command_prints(
    tmp_path: Path,
) -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "stuck-pending.md").read_text()
    saved = dict(re.findall(r'```json title="([a-z.]+)"\n(.*?)```', page, re.DOTALL))
    sample = re.search(r"```text\n(Secret: .*?)```", page, re.DOTALL)
    assert set(saved) == {"state.json", "logs.json"}
    assert sample is not None
    for name, content in saved.items():
        (tmp_path / name).write_text(content)
    out = io.StringIO()

    code = run_diagnose_command(
        [str(tmp_path / "state.json"), str(tmp_path / "logs.json")],
        stdout=out,
        now="2025-06-02T09:30:00Z",
    )

    assert code == 1
    assert out.getvalue() == sample.group(1)
