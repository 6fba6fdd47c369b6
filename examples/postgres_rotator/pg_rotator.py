"""A rotation function for a PostgreSQL user's password: the single-user strategy.

It follows AWS's rotation template for PostgreSQL (single user): the secret is a JSON object
``{"engine": "postgres", "host", "port", "username", "password", "dbname"}``, the user changes its
own password, and every step is safe to run again with the same token, because Secrets Manager
retries a failed rotation from createSecret.

- createSecret stores a new random password as AWSPENDING, unless an earlier attempt already did.
- setSecret does nothing if the pending password already works; otherwise it logs in with the
  current password (falling back to the previous one) and runs ``ALTER USER ... WITH PASSWORD``.
- testSecret logs in with the pending password and runs ``SELECT NOW()``.
- finishSecret moves AWSCURRENT to the new version.

Settings, as in the template: ``EXCLUDE_CHARACTERS`` (default ``:/@"'\\``), ``PASSWORD_LENGTH``
(default 32). An optional ``"ssl": true`` in the secret requires TLS; without it TLS is tried first,
then a plain connection, as the template does.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3
import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("host", "username", "password", "engine")
DEFAULT_EXCLUDE_CHARACTERS = ":/@\"'\\"
CONNECT_TIMEOUT_SECONDS = 5


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    arn = event["SecretId"]
    token = event["ClientRequestToken"]
    step = event["Step"]
    client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])

    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"Secret {arn} is not enabled for rotation")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    if "AWSCURRENT" in versions[token]:
        logger.info("Secret version %s already set as AWSCURRENT for secret %s.", token, arn)
        return
    if "AWSPENDING" not in versions[token]:
        raise ValueError(
            f"Secret version {token} not set as AWSPENDING for rotation of secret {arn}."
        )

    if step == "createSecret":
        create_secret(client, arn, token)
    elif step == "setSecret":
        set_secret(client, arn, token)
    elif step == "testSecret":
        test_secret(client, arn, token)
    elif step == "finishSecret":
        finish_secret(client, arn, token)
    else:
        raise ValueError(f"Invalid step parameter {step}")


def create_secret(client: Any, arn: str, token: str) -> None:
    """Store a new password as AWSPENDING, unless this token already has one."""
    current = get_secret_dict(client, arn, "AWSCURRENT")
    try:
        get_secret_dict(client, arn, "AWSPENDING", token)
        logger.info("createSecret: the pending version of %s already has a value.", arn)
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    password = client.get_random_password(
        ExcludeCharacters=os.environ.get("EXCLUDE_CHARACTERS", DEFAULT_EXCLUDE_CHARACTERS),
        PasswordLength=int(os.environ.get("PASSWORD_LENGTH", "32")),
    )["RandomPassword"]
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, "password": password}),
        VersionStages=["AWSPENDING"],
    )
    logger.info("createSecret: stored a new password for %s as version %s.", arn, token)


def set_secret(client: Any, arn: str, token: str) -> None:
    """Make the pending password the user's password in PostgreSQL; safe to repeat."""
    pending = get_secret_dict(client, arn, "AWSPENDING", token)
    conn = get_connection(pending)
    if conn is not None:
        conn.close()
        logger.info("setSecret: the pending password of %s already works.", arn)
        return

    current = get_secret_dict(client, arn, "AWSCURRENT")
    _require_same_user(current, pending, "current")
    conn = get_connection(current)
    if conn is None:
        try:
            previous = get_secret_dict(client, arn, "AWSPREVIOUS")
        except client.exceptions.ResourceNotFoundException:
            previous = None
        if previous is not None:
            _require_same_user(previous, pending, "previous")
            # The previous version may predate a change of TLS settings: use the current ones.
            previous = {k: v for k, v in previous.items() if k != "ssl"}
            if "ssl" in current:
                previous["ssl"] = current["ssl"]
            conn = get_connection(previous)
    if conn is None:
        raise ValueError(
            f"setSecret: unable to log into PostgreSQL with the pending, current or previous "
            f"password of {arn}"
        )

    try:
        conn.execute(
            sql.SQL("ALTER USER {} WITH PASSWORD {}").format(
                sql.Identifier(pending["username"]), sql.Literal(pending["password"])
            )
        )
    finally:
        conn.close()
    logger.info("setSecret: set the pending password of %s in PostgreSQL.", arn)


def test_secret(client: Any, arn: str, token: str) -> None:
    """Log in with the pending password and run a query."""
    pending = get_secret_dict(client, arn, "AWSPENDING", token)
    conn = get_connection(pending)
    if conn is None:
        raise ValueError(
            f"testSecret: unable to log into PostgreSQL with the pending secret of {arn}"
        )
    try:
        conn.execute("SELECT NOW()")
    finally:
        conn.close()
    logger.info("testSecret: the pending password of %s works.", arn)


def finish_secret(client: Any, arn: str, token: str) -> None:
    """Move AWSCURRENT to the new version."""
    metadata = client.describe_secret(SecretId=arn)
    current_version = None
    for version, stages in metadata["VersionIdsToStages"].items():
        if "AWSCURRENT" in stages:
            if version == token:
                logger.info("finishSecret: version %s is already AWSCURRENT for %s.", token, arn)
                return
            current_version = version
            break
    client.update_secret_version_stage(
        SecretId=arn,
        VersionStage="AWSCURRENT",
        MoveToVersionId=token,
        RemoveFromVersionId=current_version,
    )
    logger.info("finishSecret: version %s is now AWSCURRENT for %s.", token, arn)


def get_connection(secret: dict[str, Any]) -> psycopg.Connection[Any] | None:
    """A connection logged in with the secret's credentials, or None if PostgreSQL refuses them
    (or cannot be reached). The caller closes it."""
    try:
        return psycopg.connect(
            host=secret["host"],
            port=int(secret.get("port", 5432)),
            user=secret["username"],
            password=secret["password"],
            dbname=secret.get("dbname", "postgres"),
            sslmode="require" if secret.get("ssl") else "prefer",
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        # The message names the user and the server, never the password.
        logger.info("Could not log into PostgreSQL: %s", error)
        return None


def get_secret_dict(client: Any, arn: str, stage: str, token: str | None = None) -> dict[str, Any]:
    """The secret version with ``stage`` (and ``token``), checked to be a PostgreSQL secret."""
    if token is not None:
        response = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=stage)
    else:
        response = client.get_secret_value(SecretId=arn, VersionStage=stage)
    secret: dict[str, Any] = json.loads(response["SecretString"])
    if secret.get("engine") != "postgres":
        raise KeyError(
            "Database engine must be set to 'postgres' in order to use this rotation function"
        )
    for field in REQUIRED_FIELDS:
        if field not in secret:
            raise KeyError(f"{field} key is missing from secret JSON")
    return secret


def _require_same_user(other: dict[str, Any], pending: dict[str, Any], stage: str) -> None:
    for key in ("username", "host"):
        if other[key] != pending[key]:
            raise ValueError(
                f"setSecret: the pending secret's {key} {pending[key]!r} differs from the {stage} "
                f"secret's {other[key]!r}"
            )
