"""Multi-user rotators, as AWS's alternating-users templates work, and their harness.

The rotated secret names one of two users of ``rotators.PROTECTED`` (``app`` and ``app_clone``) and
the ARN of a master secret (``masterarn``) whose user may set any user's password. Each rotation
switches to the other user, so the credentials applications read keep working at every step.
"""

from __future__ import annotations

import json
from typing import Any

import rotators
from rotators import endpoint_client, login

MASTER = {"username": "admin", "password": "master-password"}
INITIAL = {"username": "app", "password": "initial-password", "masterarn": "{arn:master}"}


def other_user(username: str) -> str:
    return username[: -len("_clone")] if username.endswith("_clone") else f"{username}_clone"


def setup(secret: dict[str, str]) -> None:
    """The master user and the secret's user exist; the clone does not yet."""
    rotators.reset_protected(
        {MASTER["username"]: MASTER["password"], secret["username"]: secret["password"]}
    )


def probe(secret: dict[str, str]) -> bool:
    return login(secret["username"], secret["password"])


def _value(client: Any, arn: str, **selector: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(
        client.get_secret_value(SecretId=arn, **selector)["SecretString"]
    )
    return value


def _set_as_master(client: Any, current: dict[str, str], user: str, password: str) -> None:
    master = _value(client, current["masterarn"])
    if not login(master["username"], master["password"]):
        raise rotators.LoginFailed("the master credentials are refused")
    rotators.PROTECTED[user] = password


def _rotate(event: dict[str, Any], *, alternate: bool) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = endpoint_client()
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    if token not in stages:
        raise ValueError(f"Secret version {token} has no stage for rotation of {arn}.")
    if "AWSCURRENT" in stages[token]:
        return
    if "AWSPENDING" not in stages[token]:
        raise ValueError(f"Secret version {token} not set as AWSPENDING for {arn}.")
    current = _value(client, arn, VersionStage="AWSCURRENT")
    if step == "createSecret":
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            return
        except client.exceptions.ResourceNotFoundException:
            pass
        password = client.get_random_password(ExcludePunctuation=True)["RandomPassword"]
        # The bug of the second variant: it keeps the user in use.
        user = other_user(current["username"]) if alternate else current["username"]
        pending = {**current, "username": user, "password": password}
        client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=json.dumps(pending),
            VersionStages=["AWSPENDING"],
        )
    elif step == "setSecret":
        pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
        if not login(pending["username"], pending["password"]):
            _set_as_master(client, current, pending["username"], pending["password"])
    elif step == "testSecret":
        pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
        if not login(pending["username"], pending["password"]):
            raise rotators.LoginFailed("testSecret: the pending credentials are refused")
    elif step == "finishSecret":
        holder = next(v for v, labels in stages.items() if "AWSCURRENT" in labels)
        client.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=holder,
        )


def alternating(event: dict[str, Any], context: Any) -> None:
    """Switches between app and app_clone: the user in use is never touched."""
    _rotate(event, alternate=True)


def changes_user_in_use(event: dict[str, Any], context: Any) -> None:
    """Sets a new password for the user in use: applications fail from setSecret to finishSecret."""
    _rotate(event, alternate=False)
