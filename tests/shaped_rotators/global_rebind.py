"""Bug: createSecret rebinds a module global that setSecret reads."""

from __future__ import annotations

from typing import Any

from shaped_service import RealClient

from . import steps

client = RealClient()
PENDING: dict[str, str] | None = None


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    global PENDING
    sm = steps.secrets_client()
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if not steps.check_token(sm, arn, token):
        return
    if step == "createSecret":
        PENDING = steps.create(sm, arn, token)
    elif step == "setSecret":
        if PENDING is None:
            raise RuntimeError("no pending password in memory")
        steps.set_password(client, sm, arn, PENDING)
    elif step == "testSecret":
        steps.test(client, steps.value(sm, arn, VersionId=token, VersionStage="AWSPENDING"))
    elif step == "finishSecret":
        steps.finish(sm, arn, token)
