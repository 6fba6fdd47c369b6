"""The protected service the reproduce tests' rotators talk to: a user table, reset by ``setup``."""

from __future__ import annotations

from typing import Any

USERS: dict[str, str] = {}


def setup(current: Any) -> None:
    """Reset the service to the AWSCURRENT credentials (the reproduce --setup function)."""
    USERS.clear()
    USERS[current["username"]] = current["password"]


def probe(value: Any) -> bool:
    return isinstance(value, dict) and USERS.get(value.get("username")) == value.get("password")
