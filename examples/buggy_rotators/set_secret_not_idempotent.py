"""Bug: setSecret always logs in with the AWSCURRENT password to change it.

AWS's templates first check whether the pending password already works (an earlier attempt applied
it), and fall back to AWSPREVIOUS. This one does neither. If an attempt fails after setSecret
changed the password, the retry logs in with the AWSCURRENT password, which the database no longer
accepts: every retry fails, and the database now refuses the credentials applications read.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from rotator import create_secret, finish_secret, test_secret
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
    if "AWSCURRENT" in versions[token]:
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError(f"Secret version {token} not set as AWSPENDING for rotation of {arn}.")
    steps = {
        "createSecret": create_secret,
        "setSecret": set_secret,
        "testSecret": test_secret,
        "finishSecret": finish_secret,
    }
    steps[step](client, arn, token)


def set_secret(client: Any, arn: str, token: str) -> None:
    pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
    current = _value(client, arn, VersionStage="AWSCURRENT")
    # BUG: no "does the pending password already work?" check, no AWSPREVIOUS fallback.
    DATABASE.change_password(current["username"], current["password"], pending["password"])


def _value(client: Any, arn: str, **selector: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(
        client.get_secret_value(SecretId=arn, **selector)["SecretString"]
    )
    return value
