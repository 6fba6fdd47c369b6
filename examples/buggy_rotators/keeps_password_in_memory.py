"""Bug: createSecret keeps the new password in a module global, and setSecret applies that.

It works while Lambda reuses one warm execution environment for every step, even across retries.
But each invocation may land in a new environment (a cold start, a scaled-out instance, a
redeploy): setSecret then finds no password in memory and fails, every time, until the rotation is
stuck. The pending version in Secrets Manager is the only state a step may rely on.
"""

from __future__ import annotations

import json
from typing import Any

from rotator import STEPS, run_step
from toy_database import DATABASE

# BUG: state carried in memory from one step to the next.
NEW_PASSWORD: dict[str, str] = {}


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    # The correct rotator, but for createSecret and setSecret.
    run_step(event, {**STEPS, "createSecret": create_secret, "setSecret": set_secret})


def create_secret(client: Any, arn: str, token: str) -> None:
    STEPS["createSecret"](client, arn, token)
    pending = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    NEW_PASSWORD[token] = json.loads(pending["SecretString"])["password"]


def set_secret(client: Any, arn: str, token: str) -> None:
    current = json.loads(
        client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    )
    new_password = NEW_PASSWORD[token]  # a KeyError in a new execution environment
    if DATABASE.login(current["username"], new_password):
        return
    DATABASE.change_password(current["username"], current["password"], new_password)
