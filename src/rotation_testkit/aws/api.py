"""The request layer: every Secrets Manager request passes through here.

This is the one place that sees each API call as AWS does, so it is where API faults are injected,
calls are recorded in the history, the parameters moto's own responses drop are read, and where
RotateSecret and CancelRotateSecret are handed to the rotation control plane (the data store never
calls up into it).
"""

from __future__ import annotations

import json
from typing import Any

import moto.secretsmanager.urls
from moto.core.common_types import TYPE_RESPONSE
from moto.secretsmanager.responses import SecretsManagerResponse

from .backend import FaithfulSecretsManagerBackend
from .ports import active_world

# Request parameters worth keeping in the history: identifiers only, never a value.
_RECORDED_PARAMETERS = (
    "VersionId",
    "VersionStage",
    "ClientRequestToken",
    "MoveToVersionId",
    "RemoveFromVersionId",
    "RotationLambdaARN",
    "RotateImmediately",
)


class FaithfulSecretsManagerResponse(SecretsManagerResponse):
    def call_action(self) -> TYPE_RESPONSE:
        world = active_world()
        operation = self._get_action()
        # CreateSecret names its secret with Name; every other operation with SecretId.
        secret_id = self._get_param("SecretId") or self._get_param("Name")
        parameters = {name: self._get_param(name) for name in _RECORDED_PARAMETERS}
        slot = world.before_api_call(operation, secret_id)
        status, headers, body = super().call_action()
        error = _error_code(status, body)
        world.after_api_call(
            operation,
            secret_id=secret_id if isinstance(secret_id, str) else None,
            parameters={k: v for k, v in parameters.items() if v is not None},
            error=error,
            slot=slot,
        )
        return status, headers, body

    @property
    def store(self) -> FaithfulSecretsManagerBackend:
        backend: Any = self.backend
        return backend  # type: ignore[no-any-return]

    def rotate_secret(self) -> str:
        secret = self.store.secret(self._get_param("SecretId"))
        token = self.store.client_request_token(self._get_param("ClientRequestToken"))
        active_world().control_plane.rotate(
            secret,
            token=token,
            lambda_arn=self._get_param("RotationLambdaARN"),
            rules=self._get_param("RotationRules"),
            rotate_immediately=self._get_bool_param("RotateImmediately", True),
        )
        return json.dumps({"ARN": secret.arn, "Name": secret.name, "VersionId": token})

    def cancel_rotate_secret(self) -> str:
        secret = self.store.secret(self._get_param("SecretId"))
        pending = active_world().control_plane.cancel(secret)
        result: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name}
        if pending:
            result["VersionId"] = pending
        return json.dumps(result)

    def list_secret_version_ids(self) -> str:
        include_deprecated = self._get_param("IncludeDeprecated", if_none=False)
        return json.dumps(
            self.store.list_versions(
                self._get_param("SecretId", if_none=""),
                include_deprecated=bool(include_deprecated),
                max_results=self._get_int_param("MaxResults"),
                next_token=self._get_param("NextToken"),
            )
        )


def _error_code(status: int, body: Any) -> str | None:
    if status < 400:
        return None
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return f"HTTP {status}"
    code = data.get("__type") if isinstance(data, dict) else None
    return str(code) if code else f"HTTP {status}"


class ServedSecretsManagerBackend(FaithfulSecretsManagerBackend):
    """The class moto builds backends from while a world is active: the corrected data plane,
    answering through this request layer."""

    @property
    def urls(self) -> dict[str, Any]:
        return {url: FaithfulSecretsManagerResponse.dispatch for url in super().urls}

    @property
    def url_paths(self) -> dict[str, Any]:
        # What moto's server application routes by (the world's HTTP endpoint): the same layer.
        return {path: FaithfulSecretsManagerResponse.dispatch for path in super().url_paths}

    @property
    def _url_module(self) -> Any:
        # moto derives the URL module from the backend's module name; ours lives elsewhere.
        return moto.secretsmanager.urls
