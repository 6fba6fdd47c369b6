"""A rotation function run the way Lambda runs Python: by AWS's runtime interface client.

    rotation-testkit check --command "python -m awslambdaric rotator.lambda_handler"

It rotates a JSON ``{"username": ..., "password": ...}`` secret as AWS's templates do. The process
is not the kit's: it reaches Secrets Manager over HTTP at ``SECRETS_MANAGER_ENDPOINT``, the kit's
endpoint on 127.0.0.1, exactly as it would reach AWS from Lambda.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

# Built once per execution environment, as in Lambda.
client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    if token not in versions:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    if "AWSCURRENT" in versions[token]:
        print(f"Secret version {token} already set as AWSCURRENT for secret {arn}.")
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError(f"Secret version {token} not set as AWSPENDING for rotation of {arn}.")
    if step == "createSecret":
        create_secret(arn, token)
    elif step in ("setSecret", "testSecret"):
        # A real rotator changes, then tries, the password in its database here.
        if not _value(arn, VersionId=token, VersionStage="AWSPENDING").get("password"):
            raise ValueError(f"{step}: version {token} of {arn} has no password")
    elif step == "finishSecret":
        finish_secret(arn, token, versions)
    else:
        raise ValueError(f"Invalid step parameter {step}")


def create_secret(arn: str, token: str) -> None:
    current = _value(arn, VersionStage="AWSCURRENT")
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return  # a retry: the pending version already has its value
    except client.exceptions.ResourceNotFoundException:
        pass
    password = client.get_random_password(PasswordLength=32, ExcludeCharacters="/@\"'\\")
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, "password": password["RandomPassword"]}),
        VersionStages=["AWSPENDING"],
    )
    print(f"createSecret: stored a new password in version {token}")


def finish_secret(arn: str, token: str, versions: dict[str, list[str]]) -> None:
    current = next(vid for vid, stages in versions.items() if "AWSCURRENT" in stages)
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
    )


def _value(arn: str, **selector: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(
        client.get_secret_value(SecretId=arn, **selector)["SecretString"]
    )
    return value
