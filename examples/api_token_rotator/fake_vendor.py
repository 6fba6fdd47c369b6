"""A stateful in-memory fake of the vendor's REST API, for tests that need the vendor to remember.

``protected_http.add`` scripts one answer per call, which suits a test about one bad day of the
vendor. A contract check cannot be scripted that way: it rotates once, three times, repeats steps,
retries after faults, so the vendor has to behave like the vendor. This fake keeps the vendor's
keys and answers from them, as ``vendor_api`` describes the API:

- ``POST /v1/keys`` with a valid bearer token creates a key: ``201 {"id", "token"}``. A request
  with an ``Idempotency-Key`` header the vendor has seen before gets the key that request created,
  not a new one (``422`` if the body differs from the first request's).
- ``GET /v1/me`` answers ``200 {"key_id"}`` for a valid token, ``401`` otherwise.
- ``DELETE /v1/keys/{id}`` revokes a key: ``204``, or ``404`` when it is unknown or already revoked.

Any route answers ``401`` to a missing, unknown or revoked token.

Use it through the module functions, on the shared instance ``VENDOR``::

    fake_vendor.reset("key_initial.s3cret")     # the vendor knows one key: the initial token's
    fake_vendor.install(rotation_kit)           # its routes, in that kit's world
    fake_vendor.accepts("key_initial.s3cret")   # True
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from vendor_api import BASE_URL

from rotation_testkit import RotationKit, active_kit

UNAUTHORIZED = (401, {"error": "invalid token"})


@dataclass
class FakeVendor:
    """The vendor's keys: which tokens it accepts, and what it did."""

    keys: dict[str, str] = field(default_factory=dict)  # active keys: id -> token
    revoked: list[str] = field(default_factory=list)  # ids of revoked keys, in order
    created: list[str] = field(default_factory=list)  # ids of keys made by POST /keys, in order
    # Idempotency-Key -> (the first request's body, the key it created)
    idempotent: dict[str, tuple[Any, dict[str, str]]] = field(default_factory=dict)

    def reset(self, initial_token: str) -> None:
        """Forget everything: the vendor knows one key, the one ``initial_token`` belongs to."""
        key_id, dot, _ = initial_token.partition(".")
        if not dot or not key_id:
            raise ValueError("a vendor token reads '<key id>.<secret>'")
        self.keys = {key_id: initial_token}
        self.revoked = []
        self.created = []
        self.idempotent = {}

    def accepts(self, token: Any) -> bool:
        """Does the vendor accept this token? False for anything else than an active key's token."""
        if not isinstance(token, str):
            return False
        key_id = token.partition(".")[0]
        return self.keys.get(key_id) == token

    def install(self, kit: RotationKit, *, base_url: str = BASE_URL) -> None:
        """Answer the vendor's routes from this fake in ``kit``'s world.

        GET /me is called by every rotation's testSecret; POST /keys is skipped by a test rotation
        (``RotateImmediately=False``) and DELETE by a rotation whose new token is refused, so those
        two may go unused.
        """
        http = kit.protected_http
        http.respond_with("POST", f"{base_url}/keys", self._create_key, must_be_called=False)
        http.respond_with("GET", f"{base_url}/me", self._me)
        http.respond_with(
            "DELETE",
            re.compile(rf"^{re.escape(base_url)}/keys/[^/?]+$"),
            self._revoke_key,
            must_be_called=False,
        )

    # --- the routes -----------------------------------------------------------------------------

    def _caller(self, request: Any) -> str | None:
        """The id of the key whose token authenticates the request, if the vendor accepts it."""
        scheme, _, token = str(request.headers.get("Authorization", "")).partition(" ")
        if scheme != "Bearer" or not self.accepts(token):
            return None
        return token.partition(".")[0]

    def _create_key(self, request: Any) -> Any:
        if self._caller(request) is None:
            return UNAUTHORIZED
        body = json.loads(request.body) if request.body else None
        idempotency_key = request.headers.get("Idempotency-Key")
        if idempotency_key and idempotency_key in self.idempotent:
            first_body, key = self.idempotent[idempotency_key]
            if body != first_body:
                return 422, {"error": "Idempotency-Key reused with a different request"}
            return 201, key
        key_id = f"key_{secrets.token_hex(6)}"
        key = {"id": key_id, "token": f"{key_id}.{secrets.token_urlsafe(24)}"}
        self.keys[key_id] = key["token"]
        self.created.append(key_id)
        if idempotency_key:
            self.idempotent[idempotency_key] = (body, key)
        return 201, key

    def _me(self, request: Any) -> Any:
        key_id = self._caller(request)
        return UNAUTHORIZED if key_id is None else {"key_id": key_id}

    def _revoke_key(self, request: Any) -> Any:
        if self._caller(request) is None:
            return UNAUTHORIZED
        key_id = urlsplit(request.url).path.rsplit("/", 1)[-1]
        if key_id not in self.keys:
            return 404, {"error": "no such key"}
        del self.keys[key_id]
        self.revoked.append(key_id)
        return 204


VENDOR = FakeVendor()


def reset(initial_token: str) -> None:
    """Reset the shared fake: it knows one key, the one ``initial_token`` belongs to."""
    VENDOR.reset(initial_token)


def accepts(token: Any) -> bool:
    """Does the shared fake accept this token? (a contract probe)"""
    return VENDOR.accepts(token)


def install(kit: RotationKit, *, base_url: str = BASE_URL) -> None:
    """Register the shared fake's routes in ``kit``'s world."""
    VENDOR.install(kit, base_url=base_url)


def setup(initial_token: str) -> None:
    """A contract ``setup``: reset the fake and install it in the world of the check running now.

    For the command line: ``--setup examples/api_token_rotator/fake_vendor.py:setup``.
    """
    reset(initial_token)
    install(active_kit())
