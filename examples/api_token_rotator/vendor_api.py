"""A small client for the vendor's REST API, the service whose API token the rotator rotates.

The vendor (``https://api.vendor.example``) authenticates every request with an API key sent as a
bearer token. A key's token reads ``<key id>.<secret part>``: the part before the dot names the key,
so a rotator that holds only the token can still revoke the key it belongs to.

- ``POST /v1/keys`` creates a key and answers ``201 {"id": ..., "token": ...}``. The request carries
  an ``Idempotency-Key`` header: the vendor answers a repeated request with the key it already
  created instead of creating another one.
- ``GET /v1/me`` answers ``200 {"key_id": ...}`` for a valid token, ``401`` otherwise.
- ``DELETE /v1/keys/{id}`` revokes a key: ``204``, or ``404`` when it is already gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

BASE_URL = "https://api.vendor.example/v1"
TIMEOUT_SECONDS = 10


class VendorError(Exception):
    """The vendor answered something the rotator cannot go on with."""


@dataclass(frozen=True)
class ApiKey:
    id: str
    token: str


def key_id_of(token: str) -> str:
    """The id of the key a token belongs to: the part before the first dot."""
    key_id, dot, _ = token.partition(".")
    if not dot or not key_id:
        raise VendorError("this is not a vendor API token: expected '<key id>.<secret>'")
    return key_id


class VendorApi:
    """The vendor's API, seen through one token."""

    def __init__(self, token: str, *, base_url: str = BASE_URL) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def create_key(self, *, description: str, idempotency_key: str) -> ApiKey:
        response = self.session.post(
            f"{self.base_url}/keys",
            json={"description": description},
            headers={"Idempotency-Key": idempotency_key},
            timeout=TIMEOUT_SECONDS,
        )
        body = self._json(response, expected=(200, 201))
        return ApiKey(id=str(body["id"]), token=str(body["token"]))

    def whoami(self) -> str | None:
        """The id of the key this token belongs to, or None if the vendor refuses the token."""
        response = self.session.get(f"{self.base_url}/me", timeout=TIMEOUT_SECONDS)
        if response.status_code == 401:
            return None
        return str(self._json(response, expected=(200,))["key_id"])

    def revoke_key(self, key_id: str) -> bool:
        """Revoke a key; False when it was already revoked (by an earlier attempt)."""
        response = self.session.delete(f"{self.base_url}/keys/{key_id}", timeout=TIMEOUT_SECONDS)
        if response.status_code == 404:
            return False
        if response.status_code not in (200, 204):
            raise VendorError(
                f"DELETE /keys/{key_id} answered {response.status_code}: {response.text[:200]}"
            )
        return True

    @staticmethod
    def _json(response: requests.Response, *, expected: tuple[int, ...]) -> dict[str, Any]:
        if response.status_code not in expected:
            raise VendorError(
                f"{response.request.method} {response.url} answered {response.status_code}: "
                f"{response.text[:200]}"
            )
        body: dict[str, Any] = response.json()
        return body
