"""A rotation function for a plain (non-JSON) API token of a vendor's REST API.

The secret's value is the token itself, as the vendor issued it. Rotation asks the vendor for a new
key, checks that the vendor accepts it, makes it AWSCURRENT and revokes the key it replaced.

It follows the contract of AWS's own rotation templates: every step checks the token first, and
every step is safe to run again with the same token, because Secrets Manager retries a failed
rotation from createSecret. One addition: finishSecret still has work to do when an earlier attempt
already made the token AWSCURRENT but failed to revoke the old key, so it finishes that instead of
returning at once.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from vendor_api import BASE_URL, VendorApi, VendorError, key_id_of

logger = logging.getLogger(__name__)


def lambda_handler(event: dict[str, Any], context: Any) -> None:
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
        if step == "finishSecret":
            revoke_previous_key(client, arn, token)
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError(
            f"Secret version {token} not set as AWSPENDING for rotation of secret {arn}."
        )

    if step == "createSecret":
        create_secret(client, arn, token)
    elif step == "setSecret":
        pass  # the vendor activates a key when it creates it: nothing to apply
    elif step == "testSecret":
        test_secret(client, arn, token)
    elif step == "finishSecret":
        finish_secret(client, arn, token)
    else:
        raise ValueError(f"Invalid step parameter {step}")


def vendor(token: str) -> VendorApi:
    return VendorApi(token, base_url=os.environ.get("VENDOR_API_URL", BASE_URL))


def create_secret(client: Any, arn: str, token: str) -> None:
    current = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        logger.info("createSecret: the pending version already holds a token")
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    # The rotation token doubles as the idempotency key: if an earlier attempt's request reached
    # the vendor but its answer was lost, the vendor returns that key instead of making another.
    key = vendor(current).create_key(
        description=f"Secrets Manager rotation {token}", idempotency_key=token
    )
    if key_id_of(key.token) != key.id:
        raise VendorError(f"the vendor's new token does not belong to key {key.id}")
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=key.token, VersionStages=["AWSPENDING"]
    )


def test_secret(client: Any, arn: str, token: str) -> None:
    pending = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    pending_token = pending["SecretString"]
    if vendor(pending_token).whoami() != key_id_of(pending_token):
        raise VendorError(f"testSecret: the vendor refuses the pending token of {arn}")


def finish_secret(client: Any, arn: str, token: str) -> None:
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    current_version = next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)
    if current_version != token:
        client.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current_version,
        )
    revoke_previous_key(client, arn, token)


def revoke_previous_key(client: Any, arn: str, token: str) -> None:
    """Revoke the key AWSCURRENT replaced (now AWSPREVIOUS); a key already revoked is fine."""
    try:
        previous = client.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")
    except client.exceptions.ResourceNotFoundException:
        return
    new_token = client.get_secret_value(SecretId=arn, VersionId=token)["SecretString"]
    old_key = key_id_of(previous["SecretString"])
    if old_key == key_id_of(new_token):
        return
    if not vendor(new_token).revoke_key(old_key):
        logger.info("finishSecret: key %s was already revoked", old_key)
