"""Loading a saved production state into a test, and replaying its rotation there.

The saved state is what the AWS CLI printed for a secret stuck with AWSPENDING: a rotation whose
createSecret failed on every attempt, leaving the empty placeholder behind.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
from botocore.exceptions import ClientError

import rotators
from conftest import INITIAL
from rotation_testkit.diagnose import STUCK, diagnose
from rotation_testkit.state import StateError, load_state, placeholder_value
from rotation_testkit.world import World

PREVIOUS = "7d0c1a52-6f7e-4b8e-9a51-2f4c8b0e1d11"
CURRENT = "c8a3e1f0-1b2d-4c5e-8f9a-0b1c2d3e4f50"
PENDING = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
OLD = "0a1b2c3d-0000-4000-8000-000000000000"
SAVED_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3"

# aws secretsmanager describe-secret --secret-id prod/app/db
DESCRIBED = json.loads(
    """
{
    "ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3",
    "Name": "prod/app/db",
    "Description": "Credentials of the app user",
    "RotationEnabled": true,
    "RotationLambdaARN": "arn:aws:lambda:eu-west-1:111122223333:function:rotate-app-db",
    "RotationRules": {"AutomaticallyAfterDays": 30},
    "LastRotatedDate": "2025-05-01T03:12:45.120000+00:00",
    "LastChangedDate": "2025-05-31T03:05:10.880000+00:00",
    "LastAccessedDate": "2025-06-02T00:00:00+00:00",
    "NextRotationDate": "2025-05-31T23:59:59+00:00",
    "Tags": [{"Key": "team", "Value": "payments"}],
    "VersionIdsToStages": {
        "7d0c1a52-6f7e-4b8e-9a51-2f4c8b0e1d11": ["AWSPREVIOUS"],
        "c8a3e1f0-1b2d-4c5e-8f9a-0b1c2d3e4f50": ["AWSCURRENT"],
        "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8": ["AWSPENDING"]
    },
    "CreatedDate": "2024-11-02T10:00:00+00:00"
}
"""
)

# aws secretsmanager list-secret-version-ids --secret-id prod/app/db --include-deprecated
VERSIONS = json.loads(
    """
{
    "Versions": [
        {"VersionId": "0a1b2c3d-0000-4000-8000-000000000000", "VersionStages": [],
         "CreatedDate": "2025-03-02T03:10:00+00:00"},
        {"VersionId": "7d0c1a52-6f7e-4b8e-9a51-2f4c8b0e1d11", "VersionStages": ["AWSPREVIOUS"],
         "LastAccessedDate": "2025-05-01T00:00:00+00:00",
         "CreatedDate": "2025-04-01T03:10:02.500000+00:00"},
        {"VersionId": "c8a3e1f0-1b2d-4c5e-8f9a-0b1c2d3e4f50", "VersionStages": ["AWSCURRENT"],
         "LastAccessedDate": "2025-06-02T00:00:00+00:00",
         "CreatedDate": "2025-05-01T03:11:40.300000+00:00"}
    ],
    "ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3",
    "Name": "prod/app/db"
}
"""
)

PREVIOUS_ROTATION_INCOMPLETE = (
    "A previous rotation isn't complete. That rotation will be reattempted."
)


def run_aws(client: Any, command: str) -> Any:
    """Run an ``aws secretsmanager ...`` command line through a boto3 client (of the region the
    command names)."""
    words = shlex.split(command)
    assert words[:2] == ["aws", "secretsmanager"], command
    operation = words[2].replace("-", "_")
    options = words[3:]
    assert len(options) % 2 == 0, command
    assert all(option.startswith("--") for option in options[::2]), command
    parameters = {
        "".join(part.title() for part in option[2:].split("-")): value
        for option, value in zip(options[::2], options[1::2], strict=True)
    }
    region = parameters.pop("Region", None)
    assert region == client.meta.region_name, command
    return getattr(client, operation)(**parameters)


def current_value(client: Any, arn: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    return value


@pytest.fixture
def stuck(rotation_kit: Any, protected: dict[str, str]) -> str:
    """The saved stuck state, loaded with the real current credentials; returns its ARN."""
    return load_state(
        rotation_kit.world, DESCRIBED, VERSIONS, values={CURRENT: json.dumps(INITIAL)}
    )


# --- what is rebuilt ------------------------------------------------------------------------


def test_the_versions_labels_and_rotation_settings_are_rebuilt(secretsmanager, stuck) -> None:
    described = secretsmanager.describe_secret(SecretId=stuck)

    assert described["Name"] == "prod/app/db"
    assert described["VersionIdsToStages"] == DESCRIBED["VersionIdsToStages"]
    assert described["RotationEnabled"] is True
    assert described["RotationLambdaARN"] == DESCRIBED["RotationLambdaARN"]
    assert described["RotationRules"] == {"AutomaticallyAfterDays": 30}
    assert described["Description"] == "Credentials of the app user"
    assert described["Tags"] == [{"Key": "team", "Value": "payments"}]
    assert described["LastRotatedDate"].isoformat().startswith("2025-05-01T03:12:45")
    assert described["NextRotationDate"].isoformat().startswith("2025-05-31T23:59:59")


def test_the_arn_has_the_worlds_region_and_account(stuck) -> None:
    assert stuck.startswith("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-")
    assert stuck != SAVED_ARN


def test_values_are_the_given_ones_or_placeholders(secretsmanager, stuck) -> None:
    def value(**selector: str) -> str:
        return str(secretsmanager.get_secret_value(SecretId=stuck, **selector)["SecretString"])

    assert json.loads(value()) == INITIAL
    assert value(VersionStage="AWSPREVIOUS") == placeholder_value(PREVIOUS) == "value-of-7d0c1a52"
    assert value(VersionId=OLD) == "value-of-0a1b2c3d"
    # The AWSPENDING placeholder stays empty, as the failed createSecret left it.
    with pytest.raises(ClientError) as empty:
        value(VersionStage="AWSPENDING")
    assert empty.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_deprecated_versions_and_dates_come_from_the_listing(secretsmanager, stuck) -> None:
    versions = secretsmanager.list_secret_version_ids(SecretId=stuck, IncludeDeprecated=True)
    by_id = {v["VersionId"]: v for v in versions["Versions"]}

    assert by_id[OLD]["VersionStages"] == []
    assert by_id[CURRENT]["CreatedDate"].isoformat().startswith("2025-05-01T03:11:40")
    assert by_id[PREVIOUS]["LastAccessedDate"].isoformat().startswith("2025-05-01")


def test_values_may_name_a_label_and_fill_the_pending_version(rotation_kit) -> None:
    arn = load_state(
        rotation_kit.world, DESCRIBED, values={"AWSCURRENT": "current", PENDING: "pending"}
    )
    client = rotation_kit.secretsmanager

    assert client.get_secret_value(SecretId=arn)["SecretString"] == "current"
    assert client.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")["SecretString"] == (
        "pending"
    )


@pytest.mark.rotation_testkit(region="eu-west-1", account_id="111122223333")
def test_in_the_saved_region_and_account_the_arn_is_the_saved_one(rotation_kit) -> None:
    arn = load_state(rotation_kit.world, DESCRIBED, VERSIONS)

    assert arn == SAVED_ARN
    assert rotation_kit.secretsmanager.describe_secret(SecretId=SAVED_ARN)["ARN"] == SAVED_ARN


def test_a_state_with_a_schedule_expression_keeps_it(rotation_kit) -> None:
    rules = {"AutomaticallyAfterDays": 1, "ScheduleExpression": "rate(4 hours)", "Duration": "2h"}
    arn = load_state(rotation_kit.world, {**DESCRIBED, "RotationRules": rules})

    assert rotation_kit.secretsmanager.describe_secret(SecretId=arn)["RotationRules"] == rules


def test_a_secret_marked_for_deletion_stays_marked(rotation_kit) -> None:
    arn = load_state(
        rotation_kit.world,
        {**DESCRIBED, "DeletedDate": "2025-06-10T00:00:00+00:00"},
        values={CURRENT: json.dumps(INITIAL)},
    )
    function = rotation_kit.lambdas.register(rotators.correct)

    with pytest.raises(ClientError, match="marked for deletion"):
        rotation_kit.secretsmanager.rotate_secret(SecretId=arn, RotationLambdaARN=function)


# --- replaying the stuck rotation -----------------------------------------------------------------


def test_rotate_fails_then_the_diagnosed_command_unblocks_then_rotation_succeeds(
    secretsmanager, rotation_lambdas, stuck, protected
) -> None:
    function = rotation_lambdas.register(rotators.correct)

    # Production's symptom, reproduced.
    with pytest.raises(ClientError) as refused:
        secretsmanager.rotate_secret(SecretId=stuck, RotationLambdaARN=function)
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert refused.value.response["Error"]["Message"] == PREVIOUS_ROTATION_INCOMPLETE

    # What diagnose says about the rebuilt secret, and the command it prints.
    diagnosis = diagnose(
        secretsmanager.describe_secret(SecretId=stuck),
        secretsmanager.list_secret_version_ids(SecretId=stuck),
    )
    assert diagnosis.state == STUCK
    assert diagnosis.pending_version == PENDING
    unblock = diagnosis.commands[0]
    assert unblock == (
        f"aws secretsmanager update-secret-version-stage --secret-id {stuck} "
        f"--version-stage AWSPENDING --remove-from-version-id {PENDING} --region us-east-1"
    )
    run_aws(secretsmanager, unblock)

    rotated = secretsmanager.rotate_secret(SecretId=stuck, RotationLambdaARN=function)

    labels = secretsmanager.describe_secret(SecretId=stuck)["VersionIdsToStages"]
    assert labels == {CURRENT: ["AWSPREVIOUS"], rotated["VersionId"]: ["AWSCURRENT"]}
    new = current_value(secretsmanager, stuck)
    assert new["password"] != INITIAL["password"]
    assert protected == {"app": new["password"]}
    assert diagnose(secretsmanager.describe_secret(SecretId=stuck)).exit_code == 0


def test_the_saved_function_arn_reaches_a_function_registered_under_its_name(
    secretsmanager, rotation_lambdas, stuck
) -> None:
    rotation_lambdas.register(rotators.correct, name="rotate-app-db")
    saved_command = diagnose(DESCRIBED, VERSIONS).commands[0]
    run_aws(
        secretsmanager, saved_command.replace(SAVED_ARN, stuck).replace("eu-west-1", "us-east-1")
    )

    rotated = secretsmanager.rotate_secret(SecretId=stuck)  # no RotationLambdaARN: the saved one

    assert secretsmanager.get_secret_value(SecretId=stuck)["VersionId"] == rotated["VersionId"]


def test_finishing_by_hand_when_the_pending_credentials_are_already_in_use(
    rotation_kit, protected
) -> None:
    # setSecret changed the password, then finishSecret failed: the service already uses the
    # pending credentials, so the fix is to make that version current.
    new = {**INITIAL, "password": "already-applied"}
    arn = load_state(
        rotation_kit.world,
        DESCRIBED,
        {
            **VERSIONS,
            "Versions": [
                *VERSIONS["Versions"],
                {"VersionId": PENDING, "VersionStages": ["AWSPENDING"]},
            ],
        },
        values={CURRENT: json.dumps(INITIAL), PENDING: json.dumps(new)},
    )
    protected["app"] = new["password"]
    client = rotation_kit.secretsmanager
    diagnosis = diagnose(
        client.describe_secret(SecretId=arn), client.list_secret_version_ids(SecretId=arn)
    )

    remove, move = diagnosis.commands
    run_aws(client, move)
    run_aws(client, remove)

    assert current_value(client, arn) == new
    assert client.describe_secret(SecretId=arn)["VersionIdsToStages"] == {
        PENDING: ["AWSCURRENT"],
        CURRENT: ["AWSPREVIOUS"],
    }
    function = rotation_kit.lambdas.register(rotators.correct)
    client.rotate_secret(SecretId=arn, RotationLambdaARN=function)
    assert protected == {"app": current_value(client, arn)["password"]}


@pytest.mark.rotation_testkit(clock_start="2025-06-03T12:00:00Z")
def test_left_alone_the_service_reattempts_the_stuck_rotation(
    secretsmanager, rotation_lambdas, rotation_clock, stuck, protected
) -> None:
    # Fix the function and change no label: the overdue schedule reattempts the same version.
    rotation_lambdas.register(rotators.correct, name="rotate-app-db")

    rotation_clock.advance(hours=1)

    assert secretsmanager.get_secret_value(SecretId=stuck)["VersionId"] == PENDING
    assert protected == {"app": current_value(secretsmanager, stuck)["password"]}
    assert [i.event["ClientRequestToken"] for i in rotation_lambdas.invocations()] == [PENDING] * 4


# --- what cannot be loaded ----------------------------------------------------------------------


def test_a_name_already_in_the_world_is_refused(rotation_kit, stuck) -> None:
    with pytest.raises(StateError, match="already exists"):
        load_state(rotation_kit.world, DESCRIBED)


def test_values_for_an_unknown_version_are_refused(rotation_kit) -> None:
    with pytest.raises(StateError, match="neither a version id nor a staging label"):
        load_state(rotation_kit.world, DESCRIBED, values={"AWSPENDNG": "x"})


def test_a_label_on_two_versions_is_refused(rotation_kit) -> None:
    doubled = {
        **DESCRIBED,
        "VersionIdsToStages": {CURRENT: ["AWSCURRENT"], PENDING: ["AWSCURRENT"]},
    }

    with pytest.raises(StateError, match="AWSCURRENT is on 2 versions"):
        load_state(rotation_kit.world, doubled)


def test_invalid_rotation_rules_are_refused(rotation_kit) -> None:
    with pytest.raises(StateError, match="RotationRules"):
        load_state(rotation_kit.world, {**DESCRIBED, "RotationRules": {"Every": 3}})


def test_output_that_is_not_describe_secret_is_refused(rotation_kit) -> None:
    with pytest.raises(ValueError, match="list-secret-version-ids output only"):
        load_state(rotation_kit.world, VERSIONS)


def test_a_world_that_is_not_active_is_refused() -> None:
    with pytest.raises(StateError, match="active world"):
        load_state(World(), DESCRIBED)


def test_a_pending_version_the_listing_shows_keeps_a_value(rotation_kit) -> None:
    # list-secret-version-ids lists only versions that hold a value: this pending one held one.
    listing = {
        **VERSIONS,
        "Versions": [
            *VERSIONS["Versions"],
            {
                "VersionId": PENDING,
                "VersionStages": ["AWSPENDING"],
                "CreatedDate": "2025-05-31T03:05:11.204000+00:00",
            },
        ],
    }
    arn = load_state(rotation_kit.world, DESCRIBED, listing)
    client = rotation_kit.secretsmanager

    pending = client.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")

    assert pending["VersionId"] == PENDING
    assert pending["SecretString"] == placeholder_value(PENDING)
    # The rebuilt state reads as production's did: a pending version that holds a value.
    rebuilt = diagnose(
        client.describe_secret(SecretId=arn),
        client.list_secret_version_ids(SecretId=arn, IncludeDeprecated=True),
    )
    assert rebuilt.pending_version == PENDING
    assert "holds a value, so createSecret succeeded" in " ".join(rebuilt.text.split())
