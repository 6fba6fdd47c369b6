"""Bug: the handler does not return quietly when the token is already AWSCURRENT.

AWS's templates start every step with "if this version is already AWSCURRENT, there is nothing left
to do". This rotator forgets that check, and its testSecret is stricter than the template's: it also
makes sure the old password stopped working, reading it from AWSCURRENT. When finishSecret made the
new version AWSCURRENT but the invocation failed afterwards, the retry's testSecret reads the NEW
password as "the old one", finds it still works and fails; so does every later retry. The password
was rotated, yet the rotation is reported as failed, AWSPENDING is never cleaned up, and the service
keeps reattempting it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from rotator import STEPS
from toy_database import DATABASE


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"Secret {arn} is not enabled for rotation")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    # BUG: no `if "AWSCURRENT" in versions[token]: return` here.
    if "AWSPENDING" not in versions[token]:
        raise ValueError(f"Secret version {token} not set as AWSPENDING for rotation of {arn}.")
    # The correct rotator's steps, but for testSecret.
    {**STEPS, "testSecret": test_secret}[step](client, arn, token)


def test_secret(client: Any, arn: str, token: str) -> None:
    pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
    old = _value(client, arn, VersionStage="AWSCURRENT")
    if not DATABASE.login(pending["username"], pending["password"]):
        raise ValueError(f"testSecret: the pending credentials of {arn} are refused")
    if DATABASE.login(old["username"], old["password"]):
        raise ValueError(f"testSecret: the old password of {arn} still works")


def _value(client: Any, arn: str, **selector: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(
        client.get_secret_value(SecretId=arn, **selector)["SecretString"]
    )
    return value
