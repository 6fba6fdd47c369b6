"""A stand-in for a database with a superuser: the protected service of the multi-user example.

Any user may log in with its password; only the master user (the superuser whose credentials the
master secret holds) may create a user or set another user's password, as ``ALTER USER`` needs
in PostgreSQL or MySQL. ``setup`` and ``probe`` are the contract checks' hooks.
"""

from __future__ import annotations

from typing import Any

#: The master secret's value: the same JSON goes to ``rotation-testkit check --extra-secret``.
MASTER = {"username": "admin", "password": "master-password-0"}


class LoginFailed(Exception):
    """The username and password were refused."""


class UserTable:
    def __init__(self) -> None:
        self.passwords: dict[str, str] = {}

    def reset(self, users: dict[str, str]) -> None:
        self.passwords = dict(users)

    def login(self, username: str, password: str) -> bool:
        return self.passwords.get(username) == password

    def set_password(self, master: dict[str, Any], username: str, password: str) -> None:
        """Create ``username`` or change its password, logged in as the master user."""
        if master["username"] != MASTER["username"] or not self.login(
            master["username"], master["password"]
        ):
            raise LoginFailed(f"login failed for the master user {master['username']!r}")
        self.passwords[username] = password


DATABASE = UserTable()


def setup(secret: dict[str, str]) -> None:
    """The master user and the secret's user exist; the other user of the pair does not yet."""
    DATABASE.reset({MASTER["username"]: MASTER["password"], secret["username"]: secret["password"]})


def probe(secret: dict[str, str]) -> bool:
    """Does the database accept these credentials?"""
    return DATABASE.login(secret["username"], secret["password"])
