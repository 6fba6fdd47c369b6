"""The example rotator against every contract check: one pytest test per check.

``RotatorContract`` runs each check in a fresh in-memory world. ``setup`` resets the toy database
so the secret's user exists with the initial password before every check; ``probe`` tells the
checks whether the database accepts a secret value, so a rotation that stores one password and
applies another is caught too.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rotator import lambda_handler
from toy_database import DATABASE

from rotation_testkit.contract import RotatorContract


class TestPasswordRotatorContract(RotatorContract):
    handler = lambda_handler
    initial_secret: ClassVar[dict[str, str]] = {
        "username": "app",
        "password": "initial-password",
        "host": "db.internal",
    }

    def setup(self, secret: dict[str, Any]) -> None:
        DATABASE.reset({secret["username"]: secret["password"]})

    def probe(self, secret: dict[str, Any]) -> bool:
        return DATABASE.login(secret["username"], secret["password"])
