"""A rotation function for a JSON ``{"username": ..., "password": ...}`` secret.

It follows the contract of AWS's own rotation templates: every step checks the token first, and
every step is safe to run again with the same token, because Secrets Manager retries a failed
rotation from createSecret.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from toy_database import DATABASE

logger = logging.getLogger(__name__)

Step = Callable[[Any, str, str], None]


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    run_step(event, STEPS)


def run_step(event: dict[str, Any], steps: Mapping[str, Step]) -> None:
    """The checks every step starts with, then the step itself from ``steps``."""
    arn = event["SecretId"]
    token = event["ClientRequestToken"]
    step = event["Step"]
    client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])

    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"Secret {arn} is not enabled for rotation")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    if "AWSCURRENT" in versions[token]:
        logger.info("Secret version %s already set as AWSCURRENT for secret %s.", token, arn)
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError(
            f"Secret version {token} not set as AWSPENDING for rotation of secret {arn}."
        )
    if step not in steps:
        raise ValueError(f"Invalid step parameter {step}")
    steps[step](client, arn, token)


def create_secret(client: Any, arn: str, token: str) -> None:
    current = json.loads(
        client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    )
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        logger.info("createSecret: the pending version already has a value")
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    password = client.get_random_password(
        ExcludeCharacters=os.environ.get("EXCLUDE_CHARACTERS", "/@\"'\\"),
        PasswordLength=int(os.environ.get("PASSWORD_LENGTH", "32")),
    )["RandomPassword"]
    pending = {**current, "password": password}
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(pending),
        VersionStages=["AWSPENDING"],
    )


def set_secret(client: Any, arn: str, token: str) -> None:
    pending = _secret(client, arn, VersionId=token, VersionStage="AWSPENDING")
    if DATABASE.login(pending["username"], pending["password"]):
        return  # already applied by an earlier attempt
    current = _secret(client, arn, VersionStage="AWSCURRENT")
    try:
        DATABASE.change_password(current["username"], current["password"], pending["password"])
    except Exception:
        previous = _secret(client, arn, VersionStage="AWSPREVIOUS")
        DATABASE.change_password(previous["username"], previous["password"], pending["password"])


def test_secret(client: Any, arn: str, token: str) -> None:
    pending = _secret(client, arn, VersionId=token, VersionStage="AWSPENDING")
    if not DATABASE.login(pending["username"], pending["password"]):
        raise ValueError(f"testSecret: the pending credentials of {arn} are refused")


def finish_secret(client: Any, arn: str, token: str) -> None:
    metadata = client.describe_secret(SecretId=arn)
    current_version = next(
        (vid for vid, stages in metadata["VersionIdsToStages"].items() if "AWSCURRENT" in stages),
        None,
    )
    if current_version == token:
        return
    client.update_secret_version_stage(
        SecretId=arn,
        VersionStage="AWSCURRENT",
        MoveToVersionId=token,
        RemoveFromVersionId=current_version,
    )


def _secret(client: Any, arn: str, **selector: str) -> dict[str, str]:
    try:
        value: dict[str, str] = json.loads(
            client.get_secret_value(SecretId=arn, **selector)["SecretString"]
        )
    except client.exceptions.ResourceNotFoundException:
        if selector.get("VersionStage") == "AWSPREVIOUS":
            raise ValueError(f"{arn} has no AWSPREVIOUS version to fall back to") from None
        raise
    return value


STEPS: dict[str, Step] = {
    "createSecret": create_secret,
    "setSecret": set_secret,
    "testSecret": test_secret,
    "finishSecret": finish_secret,
}
