"""The token rotator against a scripted vendor API: it rotates, and it survives the vendor's bad days.

``protected_http`` answers the rotator's HTTP calls with a script per route (one answer per call,
the last one repeating), so each test says exactly how the vendor behaves on each attempt.
"""

from __future__ import annotations

import pytest
import requests
from token_rotator import lambda_handler

VENDOR = "https://api.vendor.example/v1"
OLD_TOKEN = "key_old.0ld-s3cret"
NEW_TOKEN = "key_new.n3w-s3cret"
NEW_KEY = {"id": "key_new", "token": NEW_TOKEN}
SECRET = "vendor/api-token"


@pytest.fixture
def rotator_arn(secretsmanager, rotation_lambdas) -> str:
    secretsmanager.create_secret(Name=SECRET, SecretString=OLD_TOKEN)
    return rotation_lambdas.register(lambda_handler, name="vendor-token-rotator")


def rotate(secretsmanager, arn: str) -> str:
    response = secretsmanager.rotate_secret(
        SecretId=SECRET, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )
    return response["VersionId"]


def value(secretsmanager, stage: str) -> str:
    return secretsmanager.get_secret_value(SecretId=SECRET, VersionStage=stage)["SecretString"]


def rotation_events(rotation_kit) -> list[tuple[str, int | None, str | None]]:
    names = ("RotationStarted", "RotationFailed", "RotationSucceeded")
    return [(e.name, e.attempt, e.step) for e in rotation_kit.history if e.name in names]


def test_a_rotation_replaces_the_token_and_revokes_the_old_key(
    secretsmanager, rotator_arn, protected_http
):
    create = protected_http.add("POST", f"{VENDOR}/keys", (201, NEW_KEY))
    me = protected_http.add("GET", f"{VENDOR}/me", {"key_id": "key_new"})
    revoke = protected_http.add("DELETE", f"{VENDOR}/keys/key_old", 204)

    token = rotate(secretsmanager, rotator_arn)

    assert value(secretsmanager, "AWSCURRENT") == NEW_TOKEN
    assert value(secretsmanager, "AWSPREVIOUS") == OLD_TOKEN
    stages = secretsmanager.describe_secret(SecretId=SECRET)["VersionIdsToStages"]
    assert stages[token] == ["AWSCURRENT"]  # the service removed AWSPENDING
    # The new key is asked for with the current token, once, keyed by the rotation token.
    [created] = create.calls
    assert created.headers["Authorization"] == f"Bearer {OLD_TOKEN}"
    assert created.headers["Idempotency-Key"] == token
    assert created.json() == {"description": f"Secrets Manager rotation {token}"}
    # testSecret logs in with the new token, and the new token revokes the old key.
    assert [call.headers["Authorization"] for call in me.calls] == [f"Bearer {NEW_TOKEN}"]
    [revoked] = protected_http.assert_called("DELETE", f"{VENDOR}/keys/key_old", times=1)
    assert revoked.headers["Authorization"] == f"Bearer {NEW_TOKEN}"
    assert revoke.call_count == 1


def test_the_vendor_answering_503_twice_is_survived_by_the_rotation_retries(
    secretsmanager, rotator_arn, protected_http, rotation_kit
):
    create = protected_http.add(
        "POST", f"{VENDOR}/keys", 503, (503, {"error": "try again"}), (201, NEW_KEY)
    )
    protected_http.add("GET", f"{VENDOR}/me", {"key_id": "key_new"})
    protected_http.add("DELETE", f"{VENDOR}/keys/key_old", 204)

    token = rotate(secretsmanager, rotator_arn)

    assert value(secretsmanager, "AWSCURRENT") == NEW_TOKEN
    assert [call.status for call in create.calls] == [503, 503, 201]
    # Every attempt asked for the key with the same idempotency key: the rotation's token.
    assert {call.headers["Idempotency-Key"] for call in create.calls} == {token}
    assert rotation_events(rotation_kit) == [
        ("RotationStarted", 1, None),
        ("RotationFailed", 1, "createSecret"),
        ("RotationStarted", 2, None),
        ("RotationFailed", 2, "createSecret"),
        ("RotationStarted", 3, None),
        ("RotationSucceeded", 3, None),
    ]
    [first_failure, _] = rotation_kit.events("RotationFailed")
    assert "answered 503" in (first_failure.error or "")


def test_a_connection_failure_at_test_secret_does_not_create_a_second_key(
    secretsmanager, rotator_arn, protected_http
):
    create = protected_http.add("POST", f"{VENDOR}/keys", (201, NEW_KEY))
    me = protected_http.fail_connection("GET", f"{VENDOR}/me", times=2, then={"key_id": "key_new"})
    protected_http.add("DELETE", f"{VENDOR}/keys/key_old", 204)

    rotate(secretsmanager, rotator_arn)

    assert value(secretsmanager, "AWSCURRENT") == NEW_TOKEN
    assert me.call_count == 3
    assert [call.error is not None for call in me.calls] == [True, True, False]
    # The retries found the pending token stored by the first attempt and kept it.
    assert create.call_count == 1


def test_a_failed_revocation_is_finished_by_the_retry(
    secretsmanager, rotator_arn, protected_http, rotation_kit
):
    protected_http.add("POST", f"{VENDOR}/keys", (201, NEW_KEY))
    me = protected_http.add("GET", f"{VENDOR}/me", {"key_id": "key_new"})
    protected_http.add("DELETE", f"{VENDOR}/keys/key_old", 503, 204)

    rotate(secretsmanager, rotator_arn)

    assert value(secretsmanager, "AWSCURRENT") == NEW_TOKEN
    revocations = protected_http.assert_called("DELETE", f"{VENDOR}/keys/key_old", times=2)
    assert [call.status for call in revocations] == [503, 204]
    # On the retry the token was already AWSCURRENT: the other steps returned at once.
    assert me.call_count == 1
    assert rotation_events(rotation_kit)[-3:] == [
        ("RotationFailed", 1, "finishSecret"),
        ("RotationStarted", 2, None),
        ("RotationSucceeded", 2, None),
    ]


def test_an_already_revoked_key_is_not_an_error(secretsmanager, rotator_arn, protected_http):
    protected_http.add("POST", f"{VENDOR}/keys", (201, NEW_KEY))
    protected_http.add("GET", f"{VENDOR}/me", {"key_id": "key_new"})
    protected_http.add("DELETE", f"{VENDOR}/keys/key_old", (404, {"error": "no such key"}))

    rotate(secretsmanager, rotator_arn)

    assert value(secretsmanager, "AWSCURRENT") == NEW_TOKEN


def test_a_crash_after_create_secret_asks_the_vendor_for_one_key_only(
    secretsmanager, rotator_arn, protected_http, rotation_faults
):
    create = protected_http.add("POST", f"{VENDOR}/keys", (201, NEW_KEY))
    protected_http.add("GET", f"{VENDOR}/me", {"key_id": "key_new"})
    protected_http.add("DELETE", f"{VENDOR}/keys/key_old", 204)
    rotation_faults.crash_after_step("createSecret")

    rotate(secretsmanager, rotator_arn)

    assert value(secretsmanager, "AWSCURRENT") == NEW_TOKEN
    assert create.call_count == 1


def test_a_token_the_vendor_refuses_never_becomes_current(
    secretsmanager, rotator_arn, protected_http, rotation_kit
):
    protected_http.add("POST", f"{VENDOR}/keys", (201, NEW_KEY))
    me = protected_http.add("GET", f"{VENDOR}/me", (401, {"error": "invalid token"}))
    revoke = protected_http.add("DELETE", f"{VENDOR}/keys/key_old", 204, must_be_called=False)

    token = rotate(secretsmanager, rotator_arn)

    assert value(secretsmanager, "AWSCURRENT") == OLD_TOKEN
    assert value(secretsmanager, "AWSPENDING") == NEW_TOKEN
    assert me.call_count == rotation_kit.config.max_attempts
    assert revoke.call_count == 0  # the old key still works
    [*_, last] = rotation_kit.events("RotationFailed")
    assert last.step == "testSecret"
    assert last.detail["final"] is True
    assert last.version_id == token


def test_the_reattempt_completes_once_the_vendor_is_back(
    secretsmanager, rotator_arn, protected_http, rotation_kit, rotation_clock
):
    attempts = rotation_kit.config.max_attempts
    create = protected_http.add("POST", f"{VENDOR}/keys", *[503] * attempts, (201, NEW_KEY))
    protected_http.add("GET", f"{VENDOR}/me", {"key_id": "key_new"})
    protected_http.add("DELETE", f"{VENDOR}/keys/key_old", 204)

    token = rotate(secretsmanager, rotator_arn)

    # The vendor was down for every attempt: the rotation is stuck, the old token still current,
    # AWSPENDING on the empty version RotateSecret made.
    assert value(secretsmanager, "AWSCURRENT") == OLD_TOKEN
    with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
        value(secretsmanager, "AWSPENDING")
    with pytest.raises(secretsmanager.exceptions.InvalidRequestException, match="isn't complete"):
        rotate(secretsmanager, rotator_arn)

    # The service reattempts the same rotation at the next window; the vendor has recovered.
    rotation_clock.advance(days=31)

    assert value(secretsmanager, "AWSCURRENT") == NEW_TOKEN
    assert create.call_count == attempts + 1
    assert {call.headers["Idempotency-Key"] for call in create.calls} == {token}


def test_the_vendor_is_never_reached_for_real(rotator_arn):
    with pytest.raises(requests.ConnectionError, match="protected_http"):
        requests.get(f"{VENDOR}/me", timeout=1)
