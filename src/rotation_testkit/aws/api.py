"""The request layer: every Secrets Manager request passes through here.

This is the one place that sees each API call as AWS does, so it is where API faults are injected,
calls are recorded in the history, the parameters moto's own responses drop are read, and where
RotateSecret and CancelRotateSecret are handed to the rotation control plane (the data store never
calls up into it).

A request arrives by one of two roads, and both end in :meth:`FaithfulSecretsManagerResponse.call_action`:
over HTTP as moto emulates it (a werkzeug request, :class:`FaithfulSecretsManagerResponse`), or
directly from a boto3 client with its parameters already parsed (:class:`DirectSecretsManagerResponse`,
reached from :mod:`.direct`). They differ only in how the parameters are read and how the answer
travels back.
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import moto.secretsmanager.urls
from moto.core.common_types import TYPE_RESPONSE
from moto.core.utils import camelcase_to_underscores, utcnow
from moto.moto_api._internal import mock_random
from moto.secretsmanager.models import secretsmanager_backends
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.secretsmanager.responses import _validate_filters as validate_filters
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date

from .backend import FaithfulSecretsManagerBackend
from .errors import MAX_SECRET_VALUE_BYTES, too_long, value_too_large
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

#: The longest ``Type`` (the partner of a managed external secret) the API model allows.
_MAX_TYPE_LENGTH = 256


class FaithfulSecretsManagerResponse(SecretsManagerResponse):
    def call_action(self) -> TYPE_RESPONSE:
        world = active_world()
        operation = self._get_action()
        # CreateSecret names its secret with Name; every other operation with SecretId.
        secret_id = self._get_param("SecretId") or self._get_param("Name")
        parameters = {name: self._get_param(name) for name in _RECORDED_PARAMETERS}
        slot = world.before_api_call(operation, secret_id)
        status, headers, body = self._respond()
        error = _error_code(status, body)
        world.after_api_call(
            operation,
            secret_id=secret_id if isinstance(secret_id, str) else None,
            parameters={k: v for k, v in parameters.items() if v is not None},
            error=error,
            slot=slot,
        )
        return status, headers, body

    def _respond(self) -> TYPE_RESPONSE:
        """Run the operation and build its HTTP answer (over HTTP: moto's own dispatch)."""
        return super().call_action()

    @staticmethod
    def _enrich_response(headers: dict[str, Any], body: Any) -> tuple[dict[str, Any], Any]:
        # AWS's request ids for Secrets Manager are UUIDs. moto draws 52 random characters one at
        # a time instead, which cost more than anything else in an answer. (From moto's random
        # source, so seeding it still makes a run repeatable.)
        if "status" in headers:
            headers["status"] = str(headers["status"])
        headers["x-amzn-requestid"] = str(mock_random.uuid4())
        return headers, body

    @property
    def backend(self) -> Any:
        return store_of(self.current_account, self.region)

    @property
    def store(self) -> FaithfulSecretsManagerBackend:
        return store_of(self.current_account, self.region)

    # The operations that take a value refuse one past AWS's quota, whichever road they came by;
    # CreateSecret and UpdateSecret also keep the Type of a managed external secret.
    def create_secret(self) -> str:
        self._refuse_oversized_values()
        secret_type = self._secret_type()
        result: str = super().create_secret()
        if secret_type is not None:
            self.store.secret(self._get_param("Name")).secret_type = secret_type
        return result

    def put_secret_value(self) -> str:
        self._refuse_oversized_values()
        return super().put_secret_value()

    def update_secret(self) -> str:
        self._refuse_oversized_values()
        secret_type = self._secret_type()
        result: str = super().update_secret()
        if secret_type is not None:
            self.store.secret(self._get_param("SecretId")).secret_type = secret_type
        return result

    def _refuse_oversized_values(self) -> None:
        too_large = [
            field
            for field, size in (
                ("secretString", _string_bytes(self._get_param("SecretString"))),
                ("secretBinary", _binary_bytes(self._get_param("SecretBinary"))),
            )
            if size > MAX_SECRET_VALUE_BYTES
        ]
        if too_large:
            raise value_too_large(too_large)

    def _secret_type(self) -> str | None:
        """The ``Type`` of a managed external secret, checked before anything changes."""
        secret_type = self._get_param("Type")
        if isinstance(secret_type, str) and len(secret_type) > _MAX_TYPE_LENGTH:
            raise too_long("type", _MAX_TYPE_LENGTH)
        return secret_type if isinstance(secret_type, str) else None

    def rotate_secret(self) -> str:
        secret = self.store.secret(self._get_param("SecretId"))
        token = self.store.client_request_token(self._get_param("ClientRequestToken"))
        metadata = self._get_param("ExternalSecretRotationMetadata")
        role_arn = self._get_param("ExternalSecretRotationRoleArn")
        active_world().control_plane.rotate(
            secret,
            token=token,
            lambda_arn=self._get_param("RotationLambdaARN"),
            rules=self._get_param("RotationRules"),
            rotate_immediately=self._get_bool_param("RotateImmediately", True),
            managed_external=metadata is not None or role_arn is not None,
        )
        # Kept as given once the request is accepted; no partner is ever called with them.
        if metadata is not None:
            secret.external_rotation_metadata = [dict(item) for item in metadata]
        if role_arn is not None:
            secret.external_rotation_role_arn = role_arn
        return json.dumps({"ARN": secret.arn, "Name": secret.name, "VersionId": token})

    def list_secrets(self) -> str:
        filters = self._get_param("Filters", if_none=[])
        validate_filters(filters)
        entries, next_token = self.store.list_secrets(
            filters,
            max_results=self._get_int_param("MaxResults"),
            next_token=self._get_param("NextToken"),
            include_planned_deletion=bool(self._get_param("IncludePlannedDeletion", if_none=False)),
            sort_by=self._get_param("SortBy"),
            sort_order=self._get_param("SortOrder"),
        )
        return json.dumps({"SecretList": entries, "NextToken": next_token})

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


class DirectSecretsManagerResponse(FaithfulSecretsManagerResponse):
    """The request layer reached without HTTP: the operation and its parameters arrive parsed.

    It answers exactly as moto's dispatch would (the same operation methods, the same headers and
    error bodies), without building a werkzeug request, looking the operation up among the
    class's members, or decoding the JSON body once per parameter.
    """

    def __init__(
        self, operation: str, parameters: Mapping[str, Any], *, region: str, account_id: str
    ) -> None:
        super().__init__()
        self._operation = operation
        self._parameters = parameters
        self.region = region
        self.current_account = account_id
        self.response_headers = {"server": "amazon.com", "date": _date_header(utcnow())}

    def _get_action(self) -> str:
        return self._operation

    def _get_param(self, param_name: str, if_none: Any = None) -> Any:
        value = self._parameters.get(param_name)
        return if_none if value is None else value

    def _respond(self) -> TYPE_RESPONSE:
        klass: Any = type(self)
        method = _operation_method(klass, self._operation)
        result: Any
        status: int
        headers: Any
        body: Any
        try:
            result = method(self)
        except HTTPException as error:
            error_headers: dict[str, Any] = dict(error.get_headers() or [])
            error_headers["status"] = error.code
            result = error.description, error_headers
        if isinstance(result, str):
            status, headers, body = 200, self.response_headers, result
        else:
            status, headers, body = self._transform_response(self.response_headers, result)
        headers, body = self._enrich_response(headers, body)
        return status, headers, body


_last_date: tuple[datetime, str] | None = None


def _date_header(now: datetime) -> str:
    """The Date header of an answer: formatted once per second, not once per call (formatting it
    cost more than the rest of building an answer's headers)."""
    global _last_date
    second = now.replace(microsecond=0)
    if _last_date is None or _last_date[0] != second:
        _last_date = (second, http_date(second))
    return _last_date[1]


@functools.cache
def _operation_method(cls: Any, operation: str) -> Callable[[Any], Any]:
    """The method of a response class answering an operation: found once per class and operation,
    not per request."""
    name = camelcase_to_underscores(operation)
    method = getattr(cls, name, None)
    if not inspect.isfunction(method):
        raise NotImplementedError(f"The {name} action has not been implemented")
    return method


def existing_store(account_id: str, region: str) -> FaithfulSecretsManagerBackend | None:
    """The backend of one account and region if a request has made it, else None (none is made:
    moto builds an account's backends from botocore's region lists, the largest part of a world's
    activation for a test that makes no API call)."""
    backends: Any = secretsmanager_backends
    account = dict.get(backends, account_id)
    return dict.get(account, region) if account is not None else None


def store_of(account_id: str, region: str) -> FaithfulSecretsManagerBackend:
    """The backend of one account and region.

    Once it exists, two dict lookups find it: moto's own lookup takes a lock and scans its list of
    backends on every call, several times per request.
    """
    store = existing_store(account_id, region)
    if store is None:
        backends: Any = secretsmanager_backends
        store = backends[account_id][region]
    return store


def _string_bytes(value: Any) -> int:
    return len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else 0


def _binary_bytes(value: Any) -> int:
    """The decoded size of a SecretBinary parameter (base64 on the wire)."""
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if not isinstance(value, str):
        return 0
    try:
        return len(base64.b64decode(value))
    except (binascii.Error, ValueError):
        return len(value)


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
