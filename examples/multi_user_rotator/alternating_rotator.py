"""An alternating-users rotation function, as AWS's multi-user templates rotate.

The secret names one of two users, ``app`` and ``app_clone``, and the ARN of a master secret
(``masterarn``) whose user may set any user's password. Each rotation gives the *other* user a new
password and then points AWSCURRENT at it, so the credentials applications read keep working at
every step: the user in use is never touched.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from multi_user_database import DATABASE, LoginFailed

CLONE_SUFFIX = "_clone"


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"Secret {arn} is not enabled for rotation")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    if "AWSCURRENT" in versions[token]:
        return  # this rotation already finished
    if "AWSPENDING" not in versions[token]:
        raise ValueError(f"Secret version {token} not set as AWSPENDING for rotation of {arn}.")
    if step == "createSecret":
        create_secret(client, arn, token)
    elif step == "setSecret":
        set_secret(client, arn, token)
    elif step == "testSecret":
        test_secret(client, arn, token)
    elif step == "finishSecret":
        finish_secret(client, arn, token, versions)
    else:
        raise ValueError(f"Invalid step parameter {step}")


def other_user(username: str) -> str:
    """``app`` -> ``app_clone`` -> ``app``."""
    if username.endswith(CLONE_SUFFIX):
        return username[: -len(CLONE_SUFFIX)]
    return username + CLONE_SUFFIX


def create_secret(client: Any, arn: str, token: str) -> None:
    try:  # a retried rotation keeps the value an earlier attempt stored
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    current = _secret(client, arn, VersionStage="AWSCURRENT")
    password = client.get_random_password(ExcludePunctuation=True)["RandomPassword"]
    pending = {**current, "username": other_user(current["username"]), "password": password}
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(pending),
        VersionStages=["AWSPENDING"],
    )


def set_secret(client: Any, arn: str, token: str) -> None:
    pending = _secret(client, arn, VersionId=token, VersionStage="AWSPENDING")
    if DATABASE.login(pending["username"], pending["password"]):
        return  # applied by an earlier attempt
    master = _secret(client, pending["masterarn"], VersionStage="AWSCURRENT")
    DATABASE.set_password(master, pending["username"], pending["password"])


def test_secret(client: Any, arn: str, token: str) -> None:
    pending = _secret(client, arn, VersionId=token, VersionStage="AWSPENDING")
    if not DATABASE.login(pending["username"], pending["password"]):
        raise LoginFailed(f"testSecret: the pending credentials of {arn} are refused")


def finish_secret(client: Any, arn: str, token: str, versions: dict[str, list[str]]) -> None:
    current = next(version for version, labels in versions.items() if "AWSCURRENT" in labels)
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
    )


def _secret(client: Any, secret_id: str, **selector: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(
        client.get_secret_value(SecretId=secret_id, **selector)["SecretString"]
    )
    return value
