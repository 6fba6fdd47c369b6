"""Shared fixtures: the protected service the rotators in ``rotators.py`` change, and a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import rotators

INITIAL = {"username": "app", "password": "initial-password"}


@pytest.fixture
def protected() -> Iterator[dict[str, str]]:
    """The protected user table, holding the initial credentials; emptied afterwards."""
    rotators.reset_protected({INITIAL["username"]: INITIAL["password"]})
    yield rotators.PROTECTED
    rotators.reset_protected()


@pytest.fixture
def secret(secretsmanager, protected) -> str:
    """A JSON secret ``app/db`` holding the protected service's credentials; returns its ARN."""
    created = secretsmanager.create_secret(Name="app/db", SecretString=json.dumps(INITIAL))
    return created["ARN"]
