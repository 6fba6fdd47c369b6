"""Bug: a class-based rotator that keeps the new password in the instance between steps.

createSecret stores the value it generated in ``self.pending``; setSecret reads it from there.
In one warm environment that works; in a new one (a retry, a cold start) ``self.pending`` is empty.
"""

from __future__ import annotations

from typing import Any

from shaped_service import RealClient

from . import steps

client = RealClient()


class Rotator:
    def __init__(self) -> None:
        self.pending: dict[str, dict[str, str]] = {}

    def handle(self, event: dict[str, Any], context: Any) -> None:
        sm = steps.secrets_client()
        arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
        if not steps.check_token(sm, arn, token):
            return
        if step == "createSecret":
            self.pending[token] = steps.create(sm, arn, token)
        elif step == "setSecret":
            steps.set_password(client, sm, arn, self.pending[token])
        elif step == "testSecret":
            steps.test(client, self.pending[token])
        elif step == "finishSecret":
            steps.finish(sm, arn, token)


lambda_handler = Rotator().handle
