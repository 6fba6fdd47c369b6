"""Bug: createSecret generates and stores a new password every time it runs.

It skips the "does the pending version already have a value?" check of AWS's templates. On the
first attempt that is harmless. When the rotation is retried (from createSecret, with the same
token), it tries to overwrite the pending value with a different password. AWS refuses that
(``ResourceExistsException``: a version's value never changes), so every retry fails and the
rotation is stuck; if setSecret had already run, the database holds a password no version of the
secret that applications read has.

(moto on its own silently replaces the pending value, which hides this bug.)
"""

from __future__ import annotations

import json
from typing import Any

from rotator import STEPS, run_step


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    # The correct rotator, but for createSecret.
    run_step(event, {**STEPS, "createSecret": create_secret})


def create_secret(client: Any, arn: str, token: str) -> None:
    current = json.loads(
        client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    )
    # BUG: no get_secret_value(VersionId=token, VersionStage="AWSPENDING") first.
    password = client.get_random_password(ExcludeCharacters="/@\"'\\", PasswordLength=32)
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, "password": password["RandomPassword"]}),
        VersionStages=["AWSPENDING"],
    )
