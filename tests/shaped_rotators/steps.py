"""The four steps of a correct single-user rotator, shared by the shapes of this package."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3

Remember = Callable[[str, dict[str, str]], None]
Recall = Callable[[str], dict[str, str]]


def secrets_client() -> Any:
    return boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])


def value(sm: Any, arn: str, **selector: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads(
        sm.get_secret_value(SecretId=arn, **selector)["SecretString"]
    )
    return loaded


def check_token(sm: Any, arn: str, token: str) -> bool:
    """False when the token's version is already AWSCURRENT (nothing to do)."""
    metadata = sm.describe_secret(SecretId=arn)
    stages = metadata["VersionIdsToStages"]
    if token not in stages:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    if "AWSCURRENT" in stages[token]:
        return False
    if "AWSPENDING" not in stages[token]:
        raise ValueError(f"Secret version {token} not set as AWSPENDING for {arn}.")
    return True


def create(sm: Any, arn: str, token: str) -> dict[str, str]:
    try:
        return value(sm, arn, VersionId=token, VersionStage="AWSPENDING")
    except sm.exceptions.ResourceNotFoundException:
        pending = dict(value(sm, arn, VersionStage="AWSCURRENT"))
        pending["password"] = sm.get_random_password(ExcludePunctuation=True)["RandomPassword"]
        sm.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=json.dumps(pending),
            VersionStages=["AWSPENDING"],
        )
        return pending


def set_password(service: Any, sm: Any, arn: str, pending: dict[str, str]) -> None:
    current = value(sm, arn, VersionStage="AWSCURRENT")
    service.set_password(pending["username"], current["password"], pending["password"])


def test(service: Any, pending: dict[str, str]) -> None:
    if not service.login(pending["username"], pending["password"]):
        raise PermissionError("the pending credentials do not log in")


def finish(sm: Any, arn: str, token: str) -> None:
    stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current = next(v for v, labels in stages.items() if "AWSCURRENT" in labels)
    if current != token:
        sm.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current,
        )


def rotate(event: dict[str, Any], service: Any) -> None:
    """One step of a correct rotation against ``service`` (read from the secret each time)."""
    sm = secrets_client()
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if not check_token(sm, arn, token):
        return
    if step == "createSecret":
        create(sm, arn, token)
    elif step == "setSecret":
        set_password(service, sm, arn, value(sm, arn, VersionId=token, VersionStage="AWSPENDING"))
    elif step == "testSecret":
        test(service, value(sm, arn, VersionId=token, VersionStage="AWSPENDING"))
    elif step == "finishSecret":
        finish(sm, arn, token)
    else:
        raise ValueError(f"Invalid step parameter {step}")
