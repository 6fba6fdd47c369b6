"""Bug: every step catches every exception, logs it and returns.

The intent is "never let the Lambda fail". But a step that returns tells Secrets Manager it
succeeded, so the rotation goes on: when setSecret could not apply the new password, testSecret's
refusal is swallowed too, and finishSecret makes a password the database refuses AWSCURRENT. When
createSecret could not store the new value, finishSecret makes the empty version AWSCURRENT, and
applications can no longer read the secret at all.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from rotator import create_secret, finish_secret, set_secret, test_secret

logger = logging.getLogger(__name__)


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
    try:
        steps[step](client, arn, token)
    except Exception:
        # BUG: the failure is logged, and the step reported as a success.
        logger.exception("%s failed for %s", step, arn)
