"""The alternating-users example: each rotation switches user, reading the master secret."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from alternating_rotator import lambda_handler
from multi_user_database import DATABASE, MASTER, setup

from rotation_testkit.contract import RotatorContract

INITIAL = {"username": "app", "password": "initial-password-0"}


@pytest.fixture
def app_secret(secretsmanager: Any) -> str:
    """The master secret, and the app's secret pointing at it; the database knows both users."""
    master = secretsmanager.create_secret(Name="db/master", SecretString=json.dumps(MASTER))
    secret = {**INITIAL, "masterarn": master["ARN"]}
    setup(secret)
    return str(secretsmanager.create_secret(Name="db/app", SecretString=json.dumps(secret))["ARN"])


def current(secretsmanager: Any) -> dict[str, str]:
    value: dict[str, str] = json.loads(
        secretsmanager.get_secret_value(SecretId="db/app")["SecretString"]
    )
    return value


def test_each_rotation_switches_to_the_other_user_and_leaves_the_one_in_use_alone(
    secretsmanager: Any, rotation_lambdas: Any, app_secret: str
) -> None:
    arn = rotation_lambdas.register(lambda_handler)

    secretsmanager.rotate_secret(SecretId=app_secret, RotationLambdaARN=arn)

    first = current(secretsmanager)
    assert first["username"] == "app_clone"
    assert DATABASE.login(first["username"], first["password"])
    assert DATABASE.login("app", INITIAL["password"])  # the user in use was never touched

    secretsmanager.rotate_secret(SecretId=app_secret)

    second = current(secretsmanager)
    assert second["username"] == "app"
    assert second["password"] != INITIAL["password"]
    assert DATABASE.login(second["username"], second["password"])
    assert DATABASE.login(first["username"], first["password"])


def test_without_the_master_user_the_rotation_fails_and_nothing_moves(
    secretsmanager: Any, rotation_lambdas: Any, rotation_kit: Any, app_secret: str
) -> None:
    DATABASE.passwords.pop(MASTER["username"])
    arn = rotation_lambdas.register(lambda_handler)

    secretsmanager.rotate_secret(SecretId=app_secret, RotationLambdaARN=arn)

    assert current(secretsmanager)["username"] == "app"
    failures = rotation_kit.events("RotationFailed")
    assert failures
    assert all(event.step == "setSecret" for event in failures)
    assert "login failed for the master user" in failures[-1].error


class TestMultiUserRotatorContract(RotatorContract):
    """Every contract check, with the master secret created before each one."""

    handler = lambda_handler
    strategy = "alternating-users"
    extra_secrets: ClassVar[dict[str, Any]] = {"master": MASTER}
    initial_secret: ClassVar[dict[str, str]] = {**INITIAL, "masterarn": "{arn:master}"}

    def setup(self, secret: dict[str, Any]) -> None:
        setup(secret)

    def probe(self, secret: dict[str, Any]) -> bool:
        return DATABASE.login(secret["username"], secret["password"])
