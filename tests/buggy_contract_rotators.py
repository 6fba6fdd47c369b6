"""More buggy rotators, each caught by a contract check, and the adapters the contract tests use.

Like those in ``rotators.py``, each buggy rotator here is the correct template-style rotator with one
realistic mistake, and is named after it. They protect the same ``rotators.PROTECTED`` user table.
This module also holds what ``rotation-testkit check`` needs to run them from the command line:
``setup``/``probe`` over that table, a rotator for a plain-string secret, and rotators that depend
on their environment or their timeout.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import rotators
from rotators import (
    CORRECT_STEPS,
    LoginFailed,
    _value,
    change_password,
    endpoint_client,
    login,
    make_rotator,
)

logger = logging.getLogger(__name__)

# --- setup and probe over rotators.PROTECTED -----------------------------------------------------


def setup(secret: dict[str, str]) -> None:
    """The secret's user exists in the protected service with the secret's password."""
    rotators.reset_protected({secret["username"]: secret["password"]})


def probe(secret: dict[str, str]) -> bool:
    """Does the protected service accept these credentials?"""
    return login(secret["username"], secret["password"])


# --- 1. no token check: acts on a token the secret does not know --------------------------------


def skips_token_check(event: dict[str, Any], context: Any) -> None:
    """Returns for the AWSCURRENT token, but never checks that the token is a pending version."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = endpoint_client()
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"Secret {arn} is not enabled for rotation")
    if "AWSCURRENT" in metadata["VersionIdsToStages"].get(token, []):
        return
    # BUG: no "token in VersionIdsToStages" and no "token is AWSPENDING" check.
    CORRECT_STEPS[step](client, arn, token)


# --- 2. raises when the token is already AWSCURRENT ---------------------------------------------


def raises_when_already_current(event: dict[str, Any], context: Any) -> None:
    """Checks that the token is AWSPENDING before checking whether it is already AWSCURRENT."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = endpoint_client()
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"Secret {arn} is not enabled for rotation")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}")
    # BUG: a finished rotation's token is AWSCURRENT without AWSPENDING; this raises for it
    # instead of returning quietly.
    if "AWSPENDING" not in versions[token]:
        raise ValueError(f"Secret version {token} not set as AWSPENDING for {arn}")
    CORRECT_STEPS[step](client, arn, token)


# --- 3. setSecret applies another password, testSecret swallows the error ----------------------


def _set_fresh_password(client: Any, arn: str, token: str) -> None:
    # BUG: generates a password of its own instead of applying the one createSecret stored.
    current = _value(client, arn, VersionStage="AWSCURRENT")
    fresh = client.get_random_password(ExcludePunctuation=True, PasswordLength=24)
    change_password(current["username"], current["password"], fresh["RandomPassword"])


def _test_swallowing_errors(client: Any, arn: str, token: str) -> None:
    # BUG: a refused login is logged, not raised, so finishSecret runs anyway.
    try:
        pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
        if not login(pending["username"], pending["password"]):
            raise LoginFailed("the pending credentials are refused")
    except Exception:
        logger.exception("testSecret failed; continuing")


sets_other_password = make_rotator(
    "sets_other_password", setSecret=_set_fresh_password, testSecret=_test_swallowing_errors
)


# --- 4. the pending secret loses a JSON key -------------------------------------------------------


def _create_username_password_only(client: Any, arn: str, token: str) -> None:
    current = _value(client, arn, VersionStage="AWSCURRENT")
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    password = client.get_random_password(ExcludePunctuation=True, PasswordLength=24)
    # BUG: rebuilds the secret from two keys; "host", "port", "dbname"... are lost.
    pending = {"username": current["username"], "password": password["RandomPassword"]}
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(pending),
        VersionStages=["AWSPENDING"],
    )


drops_json_key = make_rotator("drops_json_key", createSecret=_create_username_password_only)


# --- 5. a testSecret that RotateImmediately=false cannot pass -------------------------------------


def _test_requires_new_password(client: Any, arn: str, token: str) -> None:
    pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
    current = _value(client, arn, VersionStage="AWSCURRENT")
    # BUG: RotateImmediately=false tests the function with a copy of the current secret.
    if pending["password"] == current["password"]:
        raise ValueError("testSecret: the pending password is the current one; nothing rotated")
    if not login(pending["username"], pending["password"]):
        raise LoginFailed("testSecret: the pending credentials are refused")


rejects_test_rotation = make_rotator(
    "rejects_test_rotation", testSecret=_test_requires_new_password
)


# --- correct rotators for the command-line tests ------------------------------------------------


def plain_token_rotator(event: dict[str, Any], context: Any) -> None:
    """A correct rotator for a plain-string secret (an API token): no protected service."""
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = endpoint_client()
    versions = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    if token not in versions:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}")
    if "AWSCURRENT" in versions[token]:
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError(f"Secret version {token} not set as AWSPENDING for {arn}")
    if step == "createSecret":
        current = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
        if current["SecretString"].startswith("{"):
            raise ValueError("plain_token_rotator rotates a plain-string secret, not JSON")
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        except client.exceptions.ResourceNotFoundException:
            value = client.get_random_password(ExcludePunctuation=True, PasswordLength=40)
            client.put_secret_value(
                SecretId=arn,
                ClientRequestToken=token,
                SecretString=value["RandomPassword"],
                VersionStages=["AWSPENDING"],
            )
    elif step == "finishSecret":
        current_version = next(v for v, stages in versions.items() if "AWSCURRENT" in stages)
        client.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current_version,
        )


_correct = rotators.correct


def needs_env(event: dict[str, Any], context: Any) -> Any:
    """The correct rotator, configured by its environment as Lambda functions are."""
    if os.environ.get("DB_ENGINE") != "toy":
        raise RuntimeError(f"DB_ENGINE must be 'toy', got {os.environ.get('DB_ENGINE')!r}")
    return _correct(event, context)


def slow_set_secret(event: dict[str, Any], context: Any) -> Any:
    """The correct rotator, whose setSecret takes 10 seconds (on the fake clock)."""
    if event["Step"] == "setSecret":
        time.sleep(10)
    return _correct(event, context)
