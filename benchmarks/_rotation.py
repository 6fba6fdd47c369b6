"""A rotator on both sides of a comparison: in a rotation-testkit world, and hand-driven on plain moto
(the baseline). Not a benchmark itself; imported by the scripts beside it.

Two rotators, each run unmodified on both sides (``ROTATORS``):

- ``example``: examples/password_rotator/rotator.py builds a boto3 client per step, as AWS's
  templates do, and changes the password of a toy database (14 API calls per rotation);
- ``minimal``: ``_minimal_rotator.py`` builds one client at import time and changes nothing but the
  secret (8 API calls per rotation), so its rotation is API calls and the service's own work.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import _common
from _common import REGION

from rotation_testkit.sandbox import patched_environ
from rotation_testkit.world import World

_common.use_example_rotator()
rotator: Any = importlib.import_module("rotator")  # examples/password_rotator/rotator.py
DATABASE: Any = importlib.import_module("toy_database").DATABASE

SECRET_NAME = "bench/db"
USERNAME = "app"
INITIAL_PASSWORD = "initial-password"
INITIAL = json.dumps({"username": USERNAME, "password": INITIAL_PASSWORD})
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
ENDPOINT = f"https://secretsmanager.{REGION}.amazonaws.com"
lambda_handler = rotator.lambda_handler
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class Rotator:
    name: str
    handler: Handler
    description: str


def _minimal_handler() -> Handler:
    # Imported on first use: its client is built at import time, after moto is imported.
    module: Any = importlib.import_module("_minimal_rotator")
    handler: Handler = module.lambda_handler
    return handler


ROTATORS = {
    "example": lambda: Rotator(
        "example", lambda_handler, "examples/password_rotator: a client per step, a toy database"
    ),
    "minimal": lambda: Rotator(
        "minimal", _minimal_handler(), "_minimal_rotator: one client built at import time"
    ),
}


def reset_database() -> None:
    DATABASE.reset({USERNAME: INITIAL_PASSWORD})


def current_password(client: Any) -> str:
    value = client.get_secret_value(SecretId=SECRET_NAME, VersionStage="AWSCURRENT")
    password: str = json.loads(value["SecretString"])["password"]
    return password


def check_database(client: Any, who: str, rotator: str = "example") -> None:
    """The rotations really happened: the database accepts the AWSCURRENT password, only it (the
    minimal rotator has no database: its AWSCURRENT password must have changed)."""
    password = current_password(client)
    if password == INITIAL_PASSWORD:
        raise SystemExit(f"{who}: the AWSCURRENT password never changed")
    if rotator == "example" and not DATABASE.login(USERNAME, password):
        raise SystemExit(f"{who}: the database does not accept the AWSCURRENT password")


# --- rotation-testkit ---------------------------------------------------------------------------


def kit_setup(world: World, days: int, handler: Handler = lambda_handler) -> Any:
    """In an active world: the secret, the registered rotator and a first rotation. The client."""
    client = world.client()
    client.create_secret(Name=SECRET_NAME, SecretString=INITIAL)
    arn = world.lambdas.register(handler, name="password-rotator")
    client.rotate_secret(
        SecretId=SECRET_NAME, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": days}
    )
    return client


# --- plain moto, hand-driven ----------------------------------------------------------------------


@contextmanager
def lambda_environment() -> Iterator[None]:
    """The variables Lambda sets and the rotator reads (the kit sets them for each invocation)."""
    wanted = {
        "SECRETS_MANAGER_ENDPOINT": ENDPOINT,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }
    with patched_environ(wanted):
        yield


def moto_setup(client: Any) -> str:
    """Under mock_aws: a secret with rotation enabled, as the rotator's checks require. Its ARN."""
    from moto.secretsmanager.models import SecretsManagerBackend, secretsmanager_backends

    arn: str = client.create_secret(Name=SECRET_NAME, SecretString=INITIAL)["ARN"]
    # moto turns RotationEnabled on only through rotate_secret; without a Lambda ARN it makes an
    # empty version AWSCURRENT, so the value is put back afterwards.
    client.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 1})
    client.put_secret_value(SecretId=arn, SecretString=INITIAL)
    if not client.describe_secret(SecretId=arn).get("RotationEnabled"):
        raise SystemExit("moto: rotation could not be enabled")
    account = arn.split(":")[4]
    backend = secretsmanager_backends[account][REGION]
    if type(backend) is not SecretsManagerBackend:
        raise SystemExit(f"the moto baseline runs on {type(backend).__name__}, not moto's own")
    return arn


def hand_rotation(client: Any, arn: str, handler: Handler = lambda_handler) -> None:
    """One rotation as a test on plain moto drives it.

    moto cannot run an in-process rotation function, so the test stores the new password as
    AWSPENDING itself, calls the four steps, and removes AWSPENDING afterwards (moto leaves it,
    and the next rotation would fail). The handler's createSecret finds the pending value and
    stops early, so the API calls per rotation are the same as through rotation-testkit.
    """
    token = str(uuid.uuid4())
    password = client.get_random_password(ExcludeCharacters="/@\"'\\", PasswordLength=32)[
        "RandomPassword"
    ]
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({"username": USERNAME, "password": password}),
        VersionStages=["AWSPENDING"],
    )
    for step in STEPS:
        handler({"Step": step, "SecretId": arn, "ClientRequestToken": token}, None)
    client.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSPENDING", RemoveFromVersionId=token
    )
