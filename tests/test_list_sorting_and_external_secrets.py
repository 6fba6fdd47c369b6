"""ListSecrets' SortBy/SortOrder and the fields of managed external secrets (see docs/faithfulness.md)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import rotators

METADATA = [{"Key": "apiVersion", "Value": "v65.0"}, {"Key": "adminSecretArn", "Value": "arn:x"}]
ROLE = "arn:aws:iam::123456789012:role/external-rotation"


def names(listed: dict) -> list[str]:
    return [entry["Name"] for entry in listed["SecretList"]]


@pytest.fixture
def three_secrets(secretsmanager, rotation_clock):
    """b, c, a created a day apart; c changed last; a read most recently, b never read."""
    for name in ("b", "c", "a"):
        secretsmanager.create_secret(Name=name, SecretString=f"value of {name}")
        rotation_clock.advance(days=1)
    secretsmanager.get_secret_value(SecretId="c")
    rotation_clock.advance(days=1)
    secretsmanager.get_secret_value(SecretId="a")
    rotation_clock.advance(days=1)
    secretsmanager.put_secret_value(SecretId="c", SecretString="changed")
    return secretsmanager


@pytest.mark.parametrize(
    ("sort_by", "ascending"),
    [
        ("created-date", ["b", "c", "a"]),
        ("name", ["a", "b", "c"]),
        ("last-changed-date", ["b", "a", "c"]),
        ("last-accessed-date", ["b", "c", "a"]),  # never read sorts as the oldest
    ],
)
def test_list_secrets_sorts_by_each_field_both_ways(three_secrets, sort_by, ascending):
    assert names(three_secrets.list_secrets(SortBy=sort_by)) == ascending
    assert names(three_secrets.list_secrets(SortBy=sort_by, SortOrder="asc")) == ascending
    descending = names(three_secrets.list_secrets(SortBy=sort_by, SortOrder="desc"))
    assert descending == list(reversed(ascending))


def test_list_secrets_sorts_by_created_date_when_sort_by_is_not_given(three_secrets):
    assert names(three_secrets.list_secrets(SortOrder="desc")) == ["a", "c", "b"]
    assert names(three_secrets.list_secrets()) == ["b", "c", "a"]


def test_list_secrets_sorts_before_it_pages(three_secrets):
    first = three_secrets.list_secrets(SortBy="name", SortOrder="desc", MaxResults=2)
    rest = three_secrets.list_secrets(
        SortBy="name", SortOrder="desc", MaxResults=2, NextToken=first["NextToken"]
    )
    assert names(first) + names(rest) == ["c", "b", "a"]


@pytest.mark.parametrize(
    ("parameters", "field"),
    [({"SortBy": "size"}, "sortBy"), ({"SortOrder": "upward"}, "sortOrder")],
)
def test_list_secrets_refuses_a_sort_outside_the_enumeration(secretsmanager, parameters, field):
    with pytest.raises(ClientError) as raised:
        secretsmanager.list_secrets(**parameters)
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert f"at '{field}'" in error["Message"]
    assert "enum value set" in error["Message"]


def test_type_is_stored_by_create_and_update_and_returned_by_describe_and_list(secretsmanager):
    secretsmanager.create_secret(Name="partner", SecretString="{}", Type="SalesforceClientSecret")
    secretsmanager.create_secret(Name="plain", SecretString="x")

    assert secretsmanager.describe_secret(SecretId="partner")["Type"] == "SalesforceClientSecret"
    assert "Type" not in secretsmanager.describe_secret(SecretId="plain")

    secretsmanager.update_secret(SecretId="plain", Type="BigIDClientSecret")

    listed = {e["Name"]: e for e in secretsmanager.list_secrets()["SecretList"]}
    assert listed["partner"]["Type"] == "SalesforceClientSecret"
    assert listed["plain"]["Type"] == "BigIDClientSecret"


def test_a_type_longer_than_the_model_allows_is_refused_before_the_secret_exists(secretsmanager):
    with pytest.raises(ClientError) as raised:
        secretsmanager.create_secret(Name="partner", SecretString="{}", Type="x" * 257)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert secretsmanager.list_secrets()["SecretList"] == []


def test_rotate_secret_stores_the_external_rotation_fields(
    secretsmanager, secret, rotation_lambdas
):
    secretsmanager.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=rotation_lambdas.register(rotators.correct),
        ExternalSecretRotationMetadata=METADATA,
        ExternalSecretRotationRoleArn=ROLE,
    )

    described = secretsmanager.describe_secret(SecretId=secret)
    [listed] = secretsmanager.list_secrets()["SecretList"]
    for entry in (described, listed):
        assert entry["ExternalSecretRotationMetadata"] == METADATA
        assert entry["ExternalSecretRotationRoleArn"] == ROLE


def test_managed_external_rotation_is_refused_as_not_simulated(secretsmanager):
    secretsmanager.create_secret(Name="partner", SecretString="{}", Type="SalesforceClientSecret")

    with pytest.raises(ClientError) as raised:
        secretsmanager.rotate_secret(
            SecretId="partner",
            ExternalSecretRotationMetadata=METADATA,
            ExternalSecretRotationRoleArn=ROLE,
        )

    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidRequestException"
    assert "does not simulate managed external secret rotation" in error["Message"]
    described = secretsmanager.describe_secret(SecretId="partner")
    assert "ExternalSecretRotationRoleArn" not in described
    assert "RotationEnabled" not in described
