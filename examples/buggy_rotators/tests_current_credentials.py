"""Bug: testSecret logs in with the AWSCURRENT credentials instead of the pending ones.

It reads the secret without naming the version, which returns AWSCURRENT, so it proves only that the
old password still works. When setSecret did not apply the new password (a typo in the SQL, a
replica that never got it), testSecret passes anyway and finishSecret makes a password the database
refuses AWSCURRENT.
"""

from __future__ import annotations

import json
from typing import Any

from rotator import STEPS, run_step
from toy_database import DATABASE


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    # The correct rotator, but for testSecret.
    run_step(event, {**STEPS, "testSecret": test_secret})


def test_secret(client: Any, arn: str, token: str) -> None:
    # BUG: no VersionId/VersionStage, so this is the AWSCURRENT value, not the pending one.
    secret = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    if not DATABASE.login(secret["username"], secret["password"]):
        raise ValueError(f"testSecret: the credentials of {arn} are refused")
