"""Bug: a Powertools rotator that logs the pending secret in a structured field."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from shaped_service import RealClient

from . import steps

logger = Logger(service="leaky-rotator")
client = RealClient()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    sm = steps.secrets_client()
    arn, token = event["SecretId"], event["ClientRequestToken"]
    if event["Step"] == "createSecret" and steps.check_token(sm, arn, token):
        pending = steps.create(sm, arn, token)
        logger.info("created the pending secret", extra={"pending": pending})
        return
    steps.rotate(event, client)
