"""The protected service of the handler-shape rotators: a user directory the tests fake.

The rotators in ``shaped_rotators`` reach it through a module-level ``client`` built at import, as
real code builds a database or API client; the tests replace that attribute with :data:`DIRECTORY`
(``monkeypatch.setattr`` or a ``--setup`` function), as most pytest users fake a protected service.
"""

from __future__ import annotations

import importlib
from typing import Any


class UnreachableService(ConnectionError):
    """The real service, which tests never reach."""


class RealClient:
    """What the rotators build at import: a client of the production service."""

    def login(self, username: str, password: str) -> bool:
        raise UnreachableService("db.internal:5432: connection refused (the real service)")

    def set_password(self, username: str, old: str, new: str) -> None:
        raise UnreachableService("db.internal:5432: connection refused (the real service)")


class FakeDirectory:
    """The stand-in the tests put in place of the real client."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {}

    def reset(self, username: str, password: str) -> None:
        self.users = {username: password}

    def login(self, username: str, password: str) -> bool:
        return self.users.get(username) == password

    def set_password(self, username: str, old: str, new: str) -> None:
        if self.users.get(username) not in (old, new):
            raise PermissionError(f"login refused for {username!r}")
        self.users[username] = new


DIRECTORY = FakeDirectory()


def use_fake(module_name: str) -> None:
    """Replace the rotator module's client with the fake, as a ``--setup`` would."""
    importlib.import_module(module_name).client = DIRECTORY


def probe(secret: dict[str, Any]) -> bool:
    return DIRECTORY.login(secret["username"], secret["password"])


def _setup_for(module_name: str) -> Any:
    def setup(secret: dict[str, Any]) -> None:
        use_fake(module_name)
        DIRECTORY.reset(secret["username"], secret["password"])

    return setup


# One --setup per shape: rotation-testkit check shaped_rotators.bound_method:lambda_handler
#   --setup shaped_service:setup_bound_method --probe shaped_service:probe
SHAPES = (
    "bound_method",
    "callable_object",
    "decorated",
    "partial_handler",
    "relative_imports",
    "powertools_rotator",
    "bound_method_memory",
    "global_rebind",
    "sibling_memory",
    "powertools_leak",
)
for _shape in SHAPES:
    globals()[f"setup_{_shape}"] = _setup_for(f"shaped_rotators.{_shape}")
