"""Bug: finishSecret moves AWSCURRENT without naming the version it comes from.

``UpdateSecretVersionStage`` moves a label that is already attached to another version only when
``RemoveFromVersionId`` names that version; otherwise AWS answers ``InvalidParameterException``.
This rotator fails at finishSecret on every attempt, after setSecret changed the password: the
rotation is stuck with AWSPENDING, and the database refuses the AWSCURRENT credentials.
"""

from __future__ import annotations

from typing import Any

from rotator import STEPS, run_step


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    # The correct rotator, but for finishSecret.
    run_step(event, {**STEPS, "finishSecret": finish_secret})


def finish_secret(client: Any, arn: str, token: str) -> None:
    # BUG: RemoveFromVersionId=<the version that holds AWSCURRENT> is missing.
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token
    )
