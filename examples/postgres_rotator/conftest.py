"""Fixtures for the PostgreSQL example: the server (or a skip), and a fresh login role per test.

The server is given by ``ROTATION_TESTKIT_POSTGRES_DSN``, an admin DSN such as
``postgresql://postgres@127.0.0.1:54329/postgres`` for a throwaway server on loopback. Without it,
or when the server cannot be reached, these tests are skipped; with
``ROTATION_TESTKIT_REQUIRE_POSTGRES=1`` they fail instead, so they never silently skip in CI.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from pg_admin import PostgresServer

DSN_VARIABLE = "ROTATION_TESTKIT_POSTGRES_DSN"
REQUIRE_VARIABLE = "ROTATION_TESTKIT_REQUIRE_POSTGRES"


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    """The PostgreSQL server of ``ROTATION_TESTKIT_POSTGRES_DSN``, checked to accept the admin."""
    dsn = os.environ.get(DSN_VARIABLE, "").strip()
    if not dsn:
        problem = f"{DSN_VARIABLE} is not set"
    else:
        try:
            return PostgresServer.connect(dsn)
        except psycopg.Error as error:
            problem = f"cannot connect with {DSN_VARIABLE}: {error}"
    message = (
        f"PostgreSQL not available: set {DSN_VARIABLE} to a server on loopback; "
        f".ci/run starts one ({problem})"
    )
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{message}. {REQUIRE_VARIABLE}=1, so this is a failure.", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def new_postgres_role(postgres_server: PostgresServer) -> Iterator[Callable[..., dict[str, Any]]]:
    """``new_postgres_role(username=None)`` creates a login role with a random password (and a
    random name unless given) and returns its secret value; every role is dropped after the test."""
    created: list[str] = []

    def create(username: str | None = None) -> dict[str, Any]:
        name = username or f"rotation_testkit_{secrets.token_hex(6)}"
        secret = postgres_server.secret(name, secrets.token_urlsafe(24))
        created.append(name)
        postgres_server.reset_role(secret)
        return secret

    yield create
    for name in created:
        postgres_server.drop_role(name)


@pytest.fixture
def postgres_role(new_postgres_role: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A fresh login role; returns the initial secret value
    ``{"engine", "host", "port", "username", "password", "dbname"}``."""
    return new_postgres_role()
