"""Bug: testSecret checks only that the pending secret is well formed; it never logs in with it.

A common shortcut ("setSecret just changed the password, what could go wrong?"). But when setSecret
did not really apply the new password (a statement that silently changed nothing, a replica that
never got it), testSecret passes anyway and finishSecret makes a password the database refuses
AWSCURRENT: every application is locked out.
"""

from __future__ import annotations

import json
from typing import Any

from rotator import STEPS, run_step


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    # The correct rotator, but for testSecret.
    run_step(event, {**STEPS, "testSecret": test_secret})


def test_secret(client: Any, arn: str, token: str) -> None:
    pending = json.loads(
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")[
            "SecretString"
        ]
    )
    # BUG: a format check instead of a login with the pending credentials.
    if not pending.get("username") or not pending.get("password"):
        raise ValueError(f"testSecret: the pending secret of {arn} lacks a username or password")
