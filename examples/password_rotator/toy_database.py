"""A stand-in for the protected service: a user table that checks passwords.

A real rotator talks to a database or a vendor API; this one keeps users in memory so the example
runs anywhere. ``DATABASE`` is the shared instance the rotator and the tests use.
"""

from __future__ import annotations


class LoginFailed(Exception):
    """The username and password were refused."""


class ToyDatabase:
    def __init__(self) -> None:
        self.passwords: dict[str, str] = {}

    def reset(self, users: dict[str, str]) -> None:
        self.passwords = dict(users)

    def login(self, username: str, password: str) -> bool:
        return self.passwords.get(username) == password

    def change_password(self, username: str, old_password: str, new_password: str) -> None:
        """ALTER USER ... PASSWORD: only a logged-in user may change their password."""
        if not self.login(username, old_password):
            raise LoginFailed(f"login failed for user {username!r}")
        self.passwords[username] = new_password


DATABASE = ToyDatabase()


def setup(secret: dict[str, str]) -> None:
    """Reset the database so the secret's user exists with the secret's password."""
    DATABASE.reset({secret["username"]: secret["password"]})


def probe(secret: dict[str, str]) -> bool:
    """Does the database accept these credentials?"""
    return DATABASE.login(secret["username"], secret["password"])
