"""Bug: finishSecret moves AWSCURRENT without naming the version it comes from.

``UpdateSecretVersionStage`` moves a label that is already attached to another version only when
``RemoveFromVersionId`` names that version; otherwise AWS answers ``InvalidParameterException``.
This rotator fails at finishSecret on every attempt, after setSecret changed the password: the
rotation is stuck with AWSPENDING, and the database refuses the AWSCURRENT credentials.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from rotator import create_secret, set_secret, test_secret


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


def finish_secret(client: Any, arn: str, token: str) -> None:
    # BUG: RemoveFromVersionId=<the version that holds AWSCURRENT> is missing.
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token
    )
