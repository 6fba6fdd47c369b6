"""Rotation functions the tests register: one correct rotator and deliberately buggy ones.

The correct rotator follows AWS's own rotation templates (ROTATION-SEMANTICS section 5) for a JSON
``{"username": ..., "password": ...}`` secret that protects ``PROTECTED``, a module-level user table
standing in for a database. Each buggy rotator is the correct one with exactly one step changed, and
is named after its bug.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

import protected_table

Handler = Callable[[dict[str, Any], Any], Any]
ClientFactory = Callable[[], Any]

#: The protected service: username -> password. Reset it with :func:`reset_protected`. The table
#: itself lives in ``protected_table``, so a cold start of a rotator here does not empty it.
PROTECTED: dict[str, str] = protected_table.USERS


class LoginFailed(Exception):
    """The protected service refused a username and password."""


class InjectedFailure(Exception):
    """Raised by :func:`fails_at` handlers."""


def reset_protected(users: dict[str, str] | None = None) -> None:
    PROTECTED.clear()
    PROTECTED.update(users or {})


def login(username: str, password: str) -> bool:
    return PROTECTED.get(username) == password


def change_password(username: str, old_password: str, new_password: str) -> None:
    if not login(username, old_password):
        raise LoginFailed(f"login failed for user {username!r}")
    PROTECTED[username] = new_password


# --- clients ------------------------------------------------------------------------------------


def endpoint_client() -> Any:
    """How AWS's templates build their client: inside the handler, from SECRETS_MANAGER_ENDPOINT."""
    return boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])


def default_client() -> Any:
    return boto3.client("secretsmanager")


def session_client() -> Any:
    return boto3.Session().client("secretsmanager")


# --- the steps of the correct rotator -----------------------------------------------------------


def _value(client: Any, arn: str, **selector: str) -> dict[str, str]:
    value: dict[str, str] = json.loads(
        client.get_secret_value(SecretId=arn, **selector)["SecretString"]
    )
    return value


def create_secret(client: Any, arn: str, token: str) -> None:
    current = _value(client, arn, VersionStage="AWSCURRENT")
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    password = client.get_random_password(ExcludePunctuation=True, PasswordLength=24)
    pending = {**current, "password": password["RandomPassword"]}
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(pending),
        VersionStages=["AWSPENDING"],
    )


def set_secret(client: Any, arn: str, token: str) -> None:
    pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
    if login(pending["username"], pending["password"]):
        return  # applied by an earlier attempt
    current = _value(client, arn, VersionStage="AWSCURRENT")
    try:
        change_password(current["username"], current["password"], pending["password"])
    except LoginFailed:
        previous = _value(client, arn, VersionStage="AWSPREVIOUS")
        change_password(previous["username"], previous["password"], pending["password"])


def test_secret(client: Any, arn: str, token: str) -> None:
    pending = _value(client, arn, VersionId=token, VersionStage="AWSPENDING")
    if not login(pending["username"], pending["password"]):
        raise LoginFailed(f"testSecret: the pending credentials of {arn} are refused")


def _current_version(client: Any, arn: str) -> str | None:
    stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
    return next((vid for vid, labels in stages.items() if "AWSCURRENT" in labels), None)


def finish_secret(client: Any, arn: str, token: str) -> None:
    current = _current_version(client, arn)
    if current == token:
        return
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
    )


Step = Callable[[Any, str, str], None]
CORRECT_STEPS: dict[str, Step] = {
    "createSecret": create_secret,
    "setSecret": set_secret,
    "testSecret": test_secret,
    "finishSecret": finish_secret,
}


def make_rotator(
    name: str, *, client: ClientFactory = endpoint_client, **replaced_steps: Step
) -> Handler:
    """A template-style handler; ``replaced_steps`` swaps single steps (keyed by step name)."""
    steps = {**CORRECT_STEPS, **replaced_steps}

    def handler(event: dict[str, Any], context: Any) -> None:
        arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
        sm = client()
        metadata = sm.describe_secret(SecretId=arn)
        if not metadata.get("RotationEnabled"):
            raise ValueError(f"Secret {arn} is not enabled for rotation")
        versions = metadata["VersionIdsToStages"]
        if token not in versions:
            raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}")
        if "AWSCURRENT" in versions[token]:
            return
        if "AWSPENDING" not in versions[token]:
            raise ValueError(f"Secret version {token} not set as AWSPENDING for {arn}")
        if step not in steps:
            raise ValueError(f"Invalid step parameter {step}")
        steps[step](sm, arn, token)

    handler.__name__ = handler.__qualname__ = name
    return handler


# --- the correct rotator, with the three ways of building a client -------------------------------

correct = make_rotator("correct")
with_default_client = make_rotator("with_default_client", client=default_client)
with_session_client = make_rotator("with_session_client", client=session_client)


# --- buggy rotators, each named after its bug ---------------------------------------------------


def _create_always_generates(client: Any, arn: str, token: str) -> None:
    current = _value(client, arn, VersionStage="AWSCURRENT")
    password = client.get_random_password(ExcludePunctuation=True, PasswordLength=24)
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, "password": password["RandomPassword"]}),
        VersionStages=["AWSPENDING"],
    )


def _finish_without_remove_from(client: Any, arn: str, token: str) -> None:
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token
    )


def _finish_nothing(client: Any, arn: str, token: str) -> None:
    return None


def _create_without_version_stages(client: Any, arn: str, token: str) -> None:
    current = _value(client, arn, VersionStage="AWSCURRENT")
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    password = client.get_random_password(ExcludePunctuation=True, PasswordLength=24)
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, "password": password["RandomPassword"]}),
    )


#: createSecret generates and puts a new value every time, with no get-first check.
regenerates_on_retry = make_rotator("regenerates_on_retry", createSecret=_create_always_generates)
#: finishSecret moves AWSCURRENT without RemoveFromVersionId.
forgets_remove_from_version = make_rotator(
    "forgets_remove_from_version", finishSecret=_finish_without_remove_from
)
#: finishSecret returns without moving AWSCURRENT.
never_finishes = make_rotator("never_finishes", finishSecret=_finish_nothing)
#: createSecret puts the new value without VersionStages, so AWSCURRENT moves at createSecret.
puts_current_early = make_rotator("puts_current_early", createSecret=_create_without_version_stages)


def fails_at(
    step: str, *, times: int | None = None, inner: Handler = correct, after: bool = False
) -> Handler:
    """A handler that raises at ``step`` (every time, or only the first ``times`` times).

    With ``after=True`` the step does its work first, then the invocation fails. Every other
    invocation is handed to ``inner``. ``handler.failures`` counts the failures raised so far.
    """

    def handler(event: dict[str, Any], context: Any) -> Any:
        failing = event["Step"] == step and (times is None or handler.failures < times)  # type: ignore[attr-defined]
        if failing and not after:
            handler.failures += 1  # type: ignore[attr-defined]
            raise InjectedFailure(f"injected failure at {step}")
        result = inner(event, context)
        if failing:
            handler.failures += 1  # type: ignore[attr-defined]
            raise InjectedFailure(f"injected failure after {step}")
        return result

    handler.failures = 0  # type: ignore[attr-defined]
    handler.__name__ = handler.__qualname__ = f"fails_at_{step}"
    return handler


# --- observing handlers -------------------------------------------------------------------------

ENVIRONMENT_KEYS = (
    "SECRETS_MANAGER_ENDPOINT",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_SESSION_TOKEN",
)


class Recorder:
    """A handler that records each event, context and environment, then delegates to ``inner``.

    ``probe(client, event)`` (optional) runs before ``inner``, with an endpoint client; what it
    returns is kept in ``observations`` (one entry per call).
    """

    def __init__(
        self,
        inner: Handler | None = correct,
        probe: Callable[[Any, dict[str, Any]], Any] | None = None,
        env_keys: tuple[str, ...] = ENVIRONMENT_KEYS,
    ) -> None:
        self.inner = inner
        self.probe = probe
        self.env_keys = env_keys
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.environments: list[dict[str, str | None]] = []
        self.observations: list[Any] = []
        self.remaining_millis: list[int] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(dict(event))
        self.contexts.append(context)
        self.environments.append({key: os.environ.get(key) for key in self.env_keys})
        self.remaining_millis.append(context.get_remaining_time_in_millis())
        if self.probe is not None:
            self.observations.append(self.probe(endpoint_client(), event))
        if self.inner is not None:
            return self.inner(event, context)
        return None

    @property
    def steps(self) -> list[str]:
        return [event["Step"] for event in self.events]


# --- a rotator that builds its client when its module is imported --------------------------------

IMPORT_TIME_CLIENT_SOURCE = textwrap.dedent(
    """
    import boto3
    import rotators

    IMPORTED = True
    client = boto3.client("secretsmanager")  # built once, when Lambda loads the module


    def lambda_handler(event, context):
        return rotators.make_rotator("import_time", client=lambda: client)(event, context)
    """
)


def write_import_time_rotator(directory: Path, module_name: str = "import_time_rotator") -> Path:
    """Write a rotator module whose client is built at import time; returns the file's path."""
    path = directory / f"{module_name}.py"
    path.write_text(IMPORT_TIME_CLIENT_SOURCE)
    return path


# --- reading a secret's labels in tests ----------------------------------------------------------


def stages(
    client: Any, secret_id: str, *, include_deprecated: bool = False
) -> dict[str, list[str]]:
    """VersionId -> staging labels (sorted).

    Labelled versions come from DescribeSecret, which (unlike ListSecretVersionIds) also shows
    the empty AWSPENDING placeholder; deprecated ones, on request, from ListSecretVersionIds.
    """
    labelled = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    result = {vid: sorted(labels) for vid, labels in labelled.items()}
    if include_deprecated:
        versions = client.list_secret_version_ids(SecretId=secret_id, IncludeDeprecated=True)
        for v in versions["Versions"]:
            result.setdefault(v["VersionId"], sorted(v.get("VersionStages", [])))
    return result


def holder(client: Any, secret_id: str, label: str) -> str | None:
    """The version that carries a label, or None; fails if two versions carry it."""
    holders = [vid for vid, labels in stages(client, secret_id).items() if label in labels]
    assert len(holders) <= 1, f"{label} is on {len(holders)} versions: {holders}"
    return holders[0] if holders else None
