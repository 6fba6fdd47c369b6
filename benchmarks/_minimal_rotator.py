"""The smallest rotator worth measuring, imported by ``_rotation``; not a benchmark itself.

Its client is built once, when the module is imported, as most rotators build theirs; it changes
no protected service, so a rotation is its API calls and nothing else: eight per rotation, RotateSecret
(or the hand-driven equivalent) included.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

# Explicit fake credentials: the client exists before any mock starts, and plain moto signs.
client: Any = boto3.client(
    "secretsmanager",
    region_name="us-east-1",
    aws_access_key_id="AKIAMINIMALROTATOR00",
    aws_secret_access_key="minimal-rotator-fake-secret",
)


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step == "createSecret":
        current = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            return
        except client.exceptions.ResourceNotFoundException:
            pass
        password = client.get_random_password(PasswordLength=32)["RandomPassword"]
        value = {**json.loads(current["SecretString"]), "password": password}
        client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=json.dumps(value),
            VersionStages=["AWSPENDING"],
        )
    elif step == "testSecret":
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    elif step == "finishSecret":
        stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
        current_version = next(v for v, labels in stages.items() if "AWSCURRENT" in labels)
        if current_version != token:
            client.update_secret_version_stage(
                SecretId=arn,
                VersionStage="AWSCURRENT",
                MoveToVersionId=token,
                RemoveFromVersionId=current_version,
            )
