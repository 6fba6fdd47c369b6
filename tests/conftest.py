"""Shared fixtures: the protected service the rotators in ``rotators.py`` change, and a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

# The protected service's stand-in: imported here, by test code, it stands for the environment
# (a database), so a cold start of a rotator beside it does not import it afresh.
import protected_table
import rotators

INITIAL = {"username": "app", "password": "initial-password"}


@pytest.fixture
def protected() -> Iterator[dict[str, str]]:
    """The protected user table, holding the initial credentials; emptied afterwards."""
    rotators.reset_protected({INITIAL["username"]: INITIAL["password"]})
    assert rotators.PROTECTED is protected_table.USERS
    yield protected_table.USERS
    rotators.reset_protected()


@pytest.fixture
def secret(secretsmanager, protected) -> str:
    """A JSON secret ``app/db`` holding the protected service's credentials; returns its ARN."""
    created = secretsmanager.create_secret(Name="app/db", SecretString=json.dumps(INITIAL))
    return created["ARN"]
