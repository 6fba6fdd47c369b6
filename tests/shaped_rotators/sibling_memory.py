"""Bug: createSecret keeps the new value in a sibling module's dict, setSecret reads it there."""

from __future__ import annotations

from typing import Any

from shaped_service import RealClient

from . import memory, steps

client = RealClient()


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    sm = steps.secrets_client()
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if not steps.check_token(sm, arn, token):
        return
    if step == "createSecret":
        memory.PENDING[token] = steps.create(sm, arn, token)
    elif step == "setSecret":
        steps.set_password(client, sm, arn, memory.PENDING[token])
    elif step == "testSecret":
        steps.test(client, memory.PENDING[token])
    elif step == "finishSecret":
        steps.finish(sm, arn, token)
