"""Bug: setSecret always logs in with the AWSCURRENT password to change it.

AWS's templates first check whether the pending password already works (an earlier attempt applied
it), and fall back to AWSPREVIOUS. This one does neither. If an attempt fails after setSecret
changed the password, the retry logs in with the AWSCURRENT password, which the database no longer
accepts: every retry fails, and the database now refuses the credentials applications read.
"""

from __future__ import annotations

import json
from typing import Any

from rotator import STEPS, run_step
from toy_database import DATABASE


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    # The correct rotator, but for setSecret.
    run_step(event, {**STEPS, "setSecret": set_secret})


def set_secret(client: Any, arn: str, token: str) -> None:
    pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
    current = _value(client, arn, VersionStage="AWSCURRENT")
    # BUG: no "does the pending password already work?" check, no AWSPREVIOUS fallback.
    DATABASE.change_password(current["username"], current["password"], pending["password"])


def _value(client: Any, arn: str, **selector: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(
        client.get_secret_value(SecretId=arn, **selector)["SecretString"]
    )
    return value
