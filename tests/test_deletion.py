"""A secret scheduled for deletion: the recovery window on the fake clock, and its events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

DELETE_EVENTS = ("StartSecretVersionDelete", "CancelSecretVersionDelete", "EndSecretVersionDelete")


def deletion_events(rotation_kit) -> list[str]:
    return [e.name for e in rotation_kit.history if e.name in DELETE_EVENTS]


def test_the_secret_is_deleted_when_the_recovery_window_ends(
    secretsmanager, rotation_clock, rotation_kit
):
    secretsmanager.create_secret(Name="app/db", SecretString="value")
    deleted = secretsmanager.delete_secret(SecretId="app/db", RecoveryWindowInDays=7)
    assert deleted["DeletionDate"] == rotation_clock.now() + timedelta(days=7)

    rotation_clock.advance(days=6, hours=23)
    assert deletion_events(rotation_kit) == []
    with pytest.raises(ClientError) as refused:
        secretsmanager.get_secret_value(SecretId="app/db")
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"

    rotation_clock.advance(hours=1)

    assert deletion_events(rotation_kit) == ["StartSecretVersionDelete", "EndSecretVersionDelete"]
    with pytest.raises(ClientError) as gone:
        secretsmanager.describe_secret(SecretId="app/db")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # The name is free again.
    secretsmanager.create_secret(Name="app/db", SecretString="new")


def test_restoring_cancels_the_deletion(secretsmanager, rotation_clock, rotation_kit):
    secretsmanager.create_secret(Name="app/db", SecretString="value")
    secretsmanager.delete_secret(SecretId="app/db", RecoveryWindowInDays=7)
    rotation_clock.advance(days=3)

    secretsmanager.restore_secret(SecretId="app/db")
    rotation_clock.advance(days=30)

    assert deletion_events(rotation_kit) == ["CancelSecretVersionDelete"]
    assert secretsmanager.get_secret_value(SecretId="app/db")["SecretString"] == "value"


def test_a_forced_deletion_happens_at_once_without_these_events(secretsmanager, rotation_kit):
    secretsmanager.create_secret(Name="app/db", SecretString="value")
    secretsmanager.delete_secret(SecretId="app/db", ForceDeleteWithoutRecovery=True)

    assert deletion_events(rotation_kit) == []
    with pytest.raises(ClientError):
        secretsmanager.describe_secret(SecretId="app/db")
