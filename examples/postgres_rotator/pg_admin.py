"""What the tests do to the PostgreSQL server around the rotator: create, reset and drop the login
role a secret protects (as the admin role), and ask whether the server accepts a secret's password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class PostgresServer:
    """The server the tests use: the admin DSN, and where a secret's role connects."""

    admin_dsn: str
    host: str
    port: int
    dbname: str

    @classmethod
    def connect(cls, admin_dsn: str) -> PostgresServer:
        """Check that the admin DSN works; take host, port and database from the live connection."""
        with psycopg.connect(admin_dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            conn.execute("SELECT 1")
            return cls(admin_dsn, conn.info.host, conn.info.port, conn.info.dbname)

    def secret(self, username: str, password: str) -> dict[str, Any]:
        """The secret value of AWS's template for PostgreSQL, for this role on this server."""
        return {
            "engine": "postgres",
            "host": self.host,
            "port": self.port,
            "username": username,
            "password": password,
            "dbname": self.dbname,
        }

    def reset_role(self, secret: dict[str, Any]) -> None:
        """Make the secret's role exist, able to log in with the secret's password."""
        role, password = sql.Identifier(secret["username"]), sql.Literal(secret["password"])
        with self._admin() as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = %s", (secret["username"],)
            ).fetchone()
            statement = sql.SQL(
                "ALTER ROLE {} WITH LOGIN PASSWORD {}"
                if exists
                else "CREATE ROLE {} WITH LOGIN PASSWORD {}"
            )
            conn.execute(statement.format(role, password))

    def drop_role(self, username: str) -> None:
        """End the role's sessions and drop it."""
        with self._admin() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (username,),
            )
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(username)))

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self.admin_dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True
        )


def can_log_in(secret: dict[str, Any]) -> bool:
    """Does the server accept the secret's username and password? Raises if it cannot be reached,
    so that an unreachable server is not mistaken for a refused password."""
    try:
        conn = psycopg.connect(
            host=secret["host"],
            port=int(secret["port"]),
            user=secret["username"],
            password=secret["password"],
            dbname=secret["dbname"],
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        )
    except psycopg.OperationalError as error:
        if "password authentication failed" in str(error):
            return False
        raise
    conn.close()
    return True
