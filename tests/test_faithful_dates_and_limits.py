"""Dates and limits where plain moto differs from AWS's API reference (see docs/faithfulness.md)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

import rotators

UTC = timezone.utc
TOKEN_A = "a" * 32
TOKEN_B = "b" * 32


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


# --- LastRotatedDate while rotation is off --------------------------------------------------------


def test_last_rotated_date_is_null_after_cancel_rotate_secret(
    secretsmanager, secret, rotation_lambdas
):
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=rotation_lambdas.register(rotators.correct)
    )
    assert "LastRotatedDate" in secretsmanager.describe_secret(SecretId=secret)

    secretsmanager.cancel_rotate_secret(SecretId=secret)

    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["RotationEnabled"] is False
    assert "LastRotatedDate" not in described  # AWS: null when rotation has been disabled
    # ListSecrets documents LastRotatedDate as the last rotation, null only if never rotated.
    [entry] = secretsmanager.list_secrets()["SecretList"]
    assert "LastRotatedDate" in entry


def test_last_rotated_date_comes_back_when_rotation_is_turned_on_again(
    secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(SecretId=secret, RotationLambdaARN=arn)
    secretsmanager.cancel_rotate_secret(SecretId=secret)

    secretsmanager.rotate_secret(SecretId=secret, RotationLambdaARN=arn)

    assert "LastRotatedDate" in secretsmanager.describe_secret(SecretId=secret)


# --- the limit of 20 staging labels ------------------------------------------------------------------


def test_version_stages_longer_than_20_is_a_validation_error(secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString="one")

    with pytest.raises(ClientError) as raised:
        secretsmanager.put_secret_value(
            SecretId="app/db", SecretString="two", VersionStages=[f"L{i}" for i in range(21)]
        )

    code, message = error_of(raised)
    assert code == "ValidationException"
    assert "at 'versionStages' failed to satisfy constraint" in message
    assert "less than or equal to 20" in message
    assert len(secretsmanager.list_secret_version_ids(SecretId="app/db")["Versions"]) == 1


def test_labels_across_versions_are_limited_to_20(secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString="one")  # AWSCURRENT: 1 label
    secretsmanager.put_secret_value(
        SecretId="app/db", SecretString="two", VersionStages=[f"L{i}" for i in range(19)]
    )  # 20 labels now

    with pytest.raises(ClientError) as raised:
        secretsmanager.put_secret_value(
            SecretId="app/db", SecretString="three", VersionStages=["ONE-TOO-MANY"]
        )

    code, message = error_of(raised)
    assert code == "LimitExceededException"
    assert "more than 20 staging labels" in message
    assert "would leave 21" in message
    assert len(secretsmanager.list_secret_version_ids(SecretId="app/db")["Versions"]) == 2

    # Moving an existing label keeps the count; a new one through UpdateSecretVersionStage not.
    versions = secretsmanager.list_secret_version_ids(SecretId="app/db")["Versions"]
    first = next(v["VersionId"] for v in versions if "AWSCURRENT" in v["VersionStages"])
    second = next(v["VersionId"] for v in versions if "L0" in v["VersionStages"])
    secretsmanager.update_secret_version_stage(
        SecretId="app/db", VersionStage="L0", MoveToVersionId=first, RemoveFromVersionId=second
    )
    with pytest.raises(ClientError) as raised:
        secretsmanager.update_secret_version_stage(
            SecretId="app/db", VersionStage="NEW", MoveToVersionId=first
        )
    assert error_of(raised)[0] == "LimitExceededException"


def test_moving_awscurrent_counts_the_awsprevious_it_creates(secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString="one")
    secretsmanager.put_secret_value(
        SecretId="app/db", SecretString="two", VersionStages=[f"L{i}" for i in range(19)]
    )

    # AWSCURRENT moves to the new version and AWSPREVIOUS appears: 21 labels.
    with pytest.raises(ClientError) as raised:
        secretsmanager.put_secret_value(SecretId="app/db", SecretString="three")

    assert error_of(raised)[0] == "LimitExceededException"


# --- UpdateSecret with a token that names a version ----------------------------------------------


@pytest.mark.parametrize("value", ["one", "two"], ids=["same value", "other value"])
def test_update_secret_with_an_existing_versions_token_is_refused(secretsmanager, value):
    created = secretsmanager.create_secret(
        Name="app/db", SecretString="one", ClientRequestToken=TOKEN_A
    )

    with pytest.raises(ClientError) as raised:
        secretsmanager.update_secret(
            SecretId="app/db", SecretString=value, ClientRequestToken=TOKEN_A
        )

    code, message = error_of(raised)
    assert code == "ResourceExistsException"
    assert TOKEN_A in message
    assert created["ARN"] in message
    assert secretsmanager.get_secret_value(SecretId="app/db")["SecretString"] == "one"


def test_update_secret_with_a_new_token_creates_the_version(secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString="one", ClientRequestToken=TOKEN_A)

    updated = secretsmanager.update_secret(
        SecretId="app/db", SecretString="two", ClientRequestToken=TOKEN_B
    )

    assert updated["VersionId"] == TOKEN_B
    assert secretsmanager.get_secret_value(SecretId="app/db")["VersionId"] == TOKEN_B


def test_put_secret_value_with_the_same_token_and_value_stays_idempotent(secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString="one", ClientRequestToken=TOKEN_A)

    again = secretsmanager.put_secret_value(
        SecretId="app/db", SecretString="one", ClientRequestToken=TOKEN_A
    )

    assert again["VersionId"] == TOKEN_A


# --- LastAccessedDate and LastChangedDate -----------------------------------------------------------


def test_describe_secret_has_no_last_accessed_date_before_a_read(rotation_clock, secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString="one")

    assert "LastAccessedDate" not in secretsmanager.describe_secret(SecretId="app/db")


def test_describe_secret_shows_the_date_of_the_last_read(rotation_clock, secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString="one")
    rotation_clock.advance(days=2, hours=5, minutes=17)  # 2025-01-03 14:17 UTC

    secretsmanager.get_secret_value(SecretId="app/db")
    rotation_clock.advance(hours=3)

    described = secretsmanager.describe_secret(SecretId="app/db")
    # The date only: midnight UTC of the day of the read.
    assert described["LastAccessedDate"] == datetime(2025, 1, 3, tzinfo=UTC)
    [entry] = secretsmanager.list_secrets()["SecretList"]
    assert entry["LastAccessedDate"] == datetime(2025, 1, 3, tzinfo=UTC)


def test_last_changed_date_moves_when_a_staging_label_moves(rotation_clock, secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString="one", ClientRequestToken=TOKEN_A)
    secretsmanager.put_secret_value(
        SecretId="app/db", SecretString="two", ClientRequestToken=TOKEN_B, VersionStages=["NEXT"]
    )
    before = secretsmanager.describe_secret(SecretId="app/db")["LastChangedDate"]

    rotation_clock.advance(hours=1)
    secretsmanager.update_secret_version_stage(
        SecretId="app/db",
        VersionStage="AWSCURRENT",
        MoveToVersionId=TOKEN_B,
        RemoveFromVersionId=TOKEN_A,
    )

    after = secretsmanager.describe_secret(SecretId="app/db")["LastChangedDate"]
    assert after - before == timedelta(hours=1)
    assert after == rotation_clock.now()

    rotation_clock.advance(hours=1)
    secretsmanager.update_secret_version_stage(
        SecretId="app/db", VersionStage="NEXT", RemoveFromVersionId=TOKEN_B
    )
    assert secretsmanager.describe_secret(SecretId="app/db")["LastChangedDate"] == (
        rotation_clock.now()
    )
