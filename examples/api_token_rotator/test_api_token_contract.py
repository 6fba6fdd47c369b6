"""The token rotator against every contract check, with a stateful fake of the vendor.

Each contract check runs in a fresh world of its own, so routes added to the test's
``protected_http`` would not answer there. ``setup`` runs inside the check's world before each
check: it resets the fake vendor to know only the initial token's key, and installs the fake's
routes in that world through ``rotation_testkit.active_kit()``. ``probe`` asks the fake whether
it accepts a token, so a rotation that stores one token while the vendor honours another is caught.
"""

from __future__ import annotations

import fake_vendor
import pytest
import requests
from token_rotator import lambda_handler
from vendor_api import BASE_URL

import rotation_testkit
from rotation_testkit.contract import RotatorContract

INITIAL_TOKEN = "key_initial.1n1tial-s3cret"


class TestApiTokenRotatorContract(RotatorContract):
    handler = lambda_handler
    initial_secret = INITIAL_TOKEN  # a plain secret: the token itself, as the vendor issued it

    def setup(self, secret: str) -> None:
        fake_vendor.reset(secret)
        fake_vendor.install(rotation_testkit.active_kit())

    def probe(self, secret: str) -> bool:
        return fake_vendor.accepts(secret)


# --- the fake itself: a probe that accepts everything would let a broken rotator pass ------------


@pytest.fixture
def vendor(rotation_kit) -> fake_vendor.FakeVendor:
    fake_vendor.reset(INITIAL_TOKEN)
    fake_vendor.install(rotation_kit)
    return fake_vendor.VENDOR


def call(method: str, path: str, token: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{BASE_URL}{path}", headers=headers, timeout=5, **kwargs)


def test_the_fake_accepts_only_the_tokens_of_active_keys(vendor):
    assert call("GET", "/me", INITIAL_TOKEN).json() == {"key_id": "key_initial"}
    assert call("GET", "/me", "key_initial.wrong-secret").status_code == 401
    assert call("GET", "/me", "key_other.1n1tial-s3cret").status_code == 401
    assert fake_vendor.accepts(INITIAL_TOKEN)
    assert not fake_vendor.accepts("key_initial.wrong-secret")
    assert not fake_vendor.accepts(None)


def test_a_new_key_works_and_revokes_the_old_one(vendor):
    created = call("POST", "/keys", INITIAL_TOKEN, json={"description": "rotation"})
    assert created.status_code == 201
    new = created.json()
    assert new["token"].startswith(f"{new['id']}.")

    assert call("GET", "/me", new["token"]).json() == {"key_id": new["id"]}
    assert call("DELETE", "/keys/key_initial", new["token"]).status_code == 204
    assert call("DELETE", "/keys/key_initial", new["token"]).status_code == 404
    assert not fake_vendor.accepts(INITIAL_TOKEN)
    assert call("POST", "/keys", INITIAL_TOKEN, json={}).status_code == 401
    assert fake_vendor.accepts(new["token"])
    assert (vendor.created, vendor.revoked) == ([new["id"]], ["key_initial"])


def test_the_idempotency_key_gives_back_the_key_it_created(vendor):
    def create(idempotency_key: str, description: str = "rotation 1") -> requests.Response:
        return call(
            "POST",
            "/keys",
            INITIAL_TOKEN,
            json={"description": description},
            headers={"Idempotency-Key": idempotency_key},
        )

    first, again = create("token-1"), create("token-1")
    other = create("token-2")

    assert first.json() == again.json()
    assert call("GET", "/me", again.json()["token"]).json() == {"key_id": first.json()["id"]}
    assert other.json()["id"] != first.json()["id"]
    assert len(vendor.created) == 2
    assert create("token-1", "another description").status_code == 422
