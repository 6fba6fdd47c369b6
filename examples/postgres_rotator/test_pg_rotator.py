"""The PostgreSQL rotator against a real server: the password PostgreSQL checks really changes.

Every test gets a fresh login role (see conftest.py). The server only trusts its admin role; the
rotated role must give its password, so "the old password is refused" is PostgreSQL's answer.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from pg_admin import PostgresServer, can_log_in
from pg_rotator import lambda_handler

from rotation_testkit.contract import RotatorContract

STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]


def current_secret(secretsmanager: Any, name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(
        secretsmanager.get_secret_value(SecretId=name)["SecretString"]
    )
    return value


def start(secretsmanager: Any, rotation_lambdas: Any, secret: dict[str, Any]) -> str:
    """Store the secret and register the rotator; returns the function's ARN."""
    secretsmanager.create_secret(Name="app/postgres", SecretString=json.dumps(secret))
    return str(rotation_lambdas.register(lambda_handler))


def rotate(secretsmanager: Any, function_arn: str) -> None:
    secretsmanager.rotate_secret(
        SecretId="app/postgres",
        RotationLambdaARN=function_arn,
        RotationRules={"AutomaticallyAfterDays": 30},
    )


def test_rotation_changes_the_password_postgresql_checks(
    secretsmanager, rotation_lambdas, postgres_role
):
    function_arn = start(secretsmanager, rotation_lambdas, postgres_role)

    rotate(secretsmanager, function_arn)

    new = current_secret(secretsmanager, "app/postgres")
    assert new == {**postgres_role, "password": new["password"]}
    assert new["password"] != postgres_role["password"]
    assert can_log_in(new), "PostgreSQL refuses the new AWSCURRENT password"
    assert not can_log_in(postgres_role), "PostgreSQL still accepts the old password"
    assert [inv.step for inv in rotation_lambdas.invocations(function_arn)] == STEPS


def test_a_crash_after_set_secret_is_retried_to_success(
    secretsmanager, rotation_lambdas, rotation_faults, postgres_role
):
    function_arn = start(secretsmanager, rotation_lambdas, postgres_role)
    # setSecret runs ALTER USER, then the invocation fails: PostgreSQL already has the new
    # password while the secret's AWSCURRENT still holds the old one.
    rotation_faults.crash_after_step("setSecret")

    rotate(secretsmanager, function_arn)

    invocations = rotation_lambdas.invocations(function_arn)
    assert [inv.step for inv in invocations] == ["createSecret", "setSecret", *STEPS]
    assert invocations[1].error is not None
    assert all(inv.error is None for inv in invocations[2:])
    # The retry used the same token, so createSecret kept the password the first attempt stored
    # and applied: setSecret found it already working.
    tokens = {inv.event["ClientRequestToken"] for inv in invocations}
    assert tokens == {secretsmanager.get_secret_value(SecretId="app/postgres")["VersionId"]}
    new = current_secret(secretsmanager, "app/postgres")
    assert can_log_in(new)
    assert not can_log_in(postgres_role)


def test_set_secret_falls_back_to_the_previous_password(
    secretsmanager, rotation_lambdas, postgres_server: PostgresServer, postgres_role
):
    function_arn = start(secretsmanager, rotation_lambdas, postgres_role)
    rotate(secretsmanager, function_arn)
    # Someone restores the old password in PostgreSQL: AWSCURRENT no longer works, AWSPREVIOUS does.
    postgres_server.reset_role(postgres_role)
    assert not can_log_in(current_secret(secretsmanager, "app/postgres"))

    rotate(secretsmanager, function_arn)

    newest = current_secret(secretsmanager, "app/postgres")
    assert can_log_in(newest)
    assert not can_log_in(postgres_role)
    assert all(inv.error is None for inv in rotation_lambdas.invocations(function_arn))


def test_a_role_name_that_needs_quoting_is_rotated(
    secretsmanager, rotation_lambdas, new_postgres_role
):
    # ALTER USER is built with sql.Identifier and sql.Literal: no quoting bug, no injection.
    role = new_postgres_role(f'O\'Brien "app"; -- {secrets.token_hex(4)}')
    function_arn = start(secretsmanager, rotation_lambdas, role)

    rotate(secretsmanager, function_arn)

    assert can_log_in(current_secret(secretsmanager, "app/postgres"))
    assert not can_log_in(role)


class TestPostgresRotatorContract(RotatorContract):
    """Every contract check, against the real server. ``setup`` resets the role to the initial
    password before each check; ``probe`` asks PostgreSQL whether it accepts a secret value."""

    handler = lambda_handler

    @pytest.fixture(autouse=True)
    def _role(self, postgres_server: PostgresServer, postgres_role: dict[str, Any]) -> None:
        # A role of its own per test, so checks can run in parallel (pytest -n).
        self.server = postgres_server
        self.initial_secret = postgres_role  # type: ignore[misc]

    def setup(self, secret: dict[str, Any]) -> None:
        self.server.reset_role(secret)

    def probe(self, secret: dict[str, Any]) -> bool:
        return can_log_in(secret)
