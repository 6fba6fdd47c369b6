"""Bug: createSecret logs the new secret "to help debugging".

The log line prints the whole pending value, password included. CloudWatch Logs are read by far more
people than the secret (everyone who debugs the function, every log shipper and dashboard), so the
rotation itself works and the password leaks at every rotation.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rotator import STEPS, create_secret, run_step

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)  # as AWS's rotation templates do


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    # The correct rotator, but for createSecret.
    run_step(event, {**STEPS, "createSecret": create_secret_and_log})


def create_secret_and_log(client: Any, arn: str, token: str) -> None:
    create_secret(client, arn, token)
    pending = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    # BUG: the value itself, not its version id, goes to the logs.
    logger.info("createSecret: new secret %s", json.loads(pending["SecretString"]))
