"""The example's own test: the rotator rotates, and the database follows."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from rotator import lambda_handler
from toy_database import DATABASE


@pytest.fixture
def database() -> Iterator[None]:
    DATABASE.reset({"app": "initial-password"})
    yield
    DATABASE.reset({})


def test_rotation_changes_the_password_everywhere(secretsmanager, rotation_lambdas, database):
    secretsmanager.create_secret(
        Name="app/db", SecretString=json.dumps({"username": "app", "password": "initial-password"})
    )
    arn = rotation_lambdas.register(lambda_handler)

    secretsmanager.rotate_secret(
        SecretId="app/db", RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )

    new = json.loads(secretsmanager.get_secret_value(SecretId="app/db")["SecretString"])
    assert new["password"] != "initial-password"
    assert DATABASE.login("app", new["password"])
    assert not DATABASE.login("app", "initial-password")
    steps = [inv.event["Step"] for inv in rotation_lambdas.invocations(arn)]
    assert steps == ["createSecret", "setSecret", "testSecret", "finishSecret"]
