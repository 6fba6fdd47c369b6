"""Rotation functions for the reproduce tests: a correct one, and two with the bugs of the saved
incidents (createSecret that always stores a new value; a function that needs a key the pending
value lacks)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from stuck_service import USERS


def _client() -> Any:
    return boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])


def _value(client: Any, arn: str, **selector: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(
        client.get_secret_value(SecretId=arn, **selector)["SecretString"]
    )
    return value


def _rotate(event: dict[str, Any], create: Any, required: tuple[str, ...] = ()) -> None:
    client = _client()
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    if "AWSCURRENT" in stages.get(token, []):
        return
    if step == "createSecret":
        create(client, arn, token)
        return
    pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
    _ = [pending[key] for key in required]  # it connects with them, as a real function would
    if step == "setSecret":
        if USERS.get(pending["username"]) == pending["password"]:
            return
        for stage in ("AWSCURRENT", "AWSPREVIOUS"):
            old = _value(client, arn, VersionStage=stage)
            if USERS.get(old["username"]) == old["password"]:
                USERS[pending["username"]] = pending["password"]
                return
        raise ValueError("setSecret: neither AWSCURRENT nor AWSPREVIOUS can log in")
    if step == "testSecret":
        if USERS.get(pending["username"]) != pending["password"]:
            raise ValueError("testSecret: the pending credentials are refused")
        return
    current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
    )


def _store_new(client: Any, arn: str, token: str) -> None:
    current = _value(client, arn, VersionStage="AWSCURRENT")
    password = client.get_random_password(ExcludePunctuation=True)["RandomPassword"]
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, "password": password}),
        VersionStages=["AWSPENDING"],
    )


def _create_once(client: Any, arn: str, token: str) -> None:
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    except client.exceptions.ResourceNotFoundException:
        _store_new(client, arn, token)


def correct(event: dict[str, Any], context: Any) -> None:
    """createSecret keeps a pending value that is already there, as AWS's templates do."""
    _rotate(event, _create_once)


def always_new_value(event: dict[str, Any], context: Any) -> None:
    """Bug: createSecret stores a new value on every attempt, even into a version that has one."""
    _rotate(event, _store_new)


def needs_host(event: dict[str, Any], context: Any) -> None:
    """Connects to the host the secret names: a pending value without "host" stops it."""
    _rotate(event, _create_once, required=("host",))


def never_finishes(event: dict[str, Any], context: Any) -> None:
    """Bug: finishSecret returns without moving AWSCURRENT to the new version."""
    if event["Step"] != "finishSecret":
        correct(event, context)
