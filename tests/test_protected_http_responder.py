"""``protected_http.respond_with``: a route answered by a function, for stateful fakes; and
``rotation_testkit.active_kit()``, which lets a contract check's setup install such a fake in the
check's own world."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
import requests

import rotation_testkit
from rotation_testkit.contract import RotatorUnderTest, run_checks
from rotation_testkit.protected_http import RouteError
from rotation_testkit.runtime import NoActiveWorld

API = "https://api.vendor.example/v1"


# --- the function sees each request ----------------------------------------------------------------


def test_the_function_sees_each_request(protected_http):
    seen = []

    def fake(request):
        seen.append((request.method, request.url, request.body, dict(request.headers)))
        return 201

    route = protected_http.respond_with("POST", f"{API}/keys", fake)

    requests.post(
        f"{API}/keys?dry_run=1",
        json={"description": "first"},
        headers={"Authorization": "Bearer key_1.s3cret", "Idempotency-Key": "token-1"},
        timeout=5,
    )
    requests.post(f"{API}/keys", data="second", timeout=5)

    [(method, url, body, headers), second] = seen
    assert (method, url) == ("POST", f"{API}/keys?dry_run=1")
    assert json.loads(body) == {"description": "first"}
    assert headers["Authorization"] == "Bearer key_1.s3cret"
    assert headers["Idempotency-Key"] == "token-1"
    assert second[2] == "second"
    # The route records the calls as add() routes do.
    assert [(call.method, call.status) for call in route.calls] == [("POST", 201), ("POST", 201)]
    assert route.calls[0].json() == {"description": "first"}
    assert route.calls[0].headers["Idempotency-Key"] == "token-1"


# --- its answers are used ------------------------------------------------------------------------


def test_each_kind_of_answer_is_used(protected_http):
    answers = iter(
        [
            204,
            {"key_id": "key_1"},
            [{"id": "key_1"}],
            (429, {"error": "slow down"}, {"Retry-After": "3"}),
            (201, "created"),
            (200, b"raw"),
        ]
    )
    route = protected_http.respond_with("GET", f"{API}/me", lambda request: next(answers))

    responses = [requests.get(f"{API}/me", timeout=5) for _ in range(6)]

    assert [r.status_code for r in responses] == [204, 200, 200, 429, 201, 200]
    assert responses[1].json() == {"key_id": "key_1"}
    assert responses[1].headers["Content-Type"] == "application/json"
    assert responses[2].json() == [{"id": "key_1"}]
    assert responses[3].json() == {"error": "slow down"}
    assert responses[3].headers["Retry-After"] == "3"
    assert responses[4].text == "created"
    assert responses[5].content == b"raw"
    assert [call.status for call in route.calls] == [204, 200, 200, 429, 201, 200]


def test_an_exception_answer_is_raised_to_the_caller(protected_http):
    answers = iter([requests.ConnectionError("connection reset"), requests.Timeout, 200])
    route = protected_http.respond_with("GET", f"{API}/me", lambda request: next(answers))

    with pytest.raises(requests.ConnectionError, match="connection reset"):
        requests.get(f"{API}/me", timeout=5)
    with pytest.raises(requests.Timeout, match=f"scripted Timeout for GET {API}/me"):
        requests.get(f"{API}/me", timeout=5)
    assert requests.get(f"{API}/me", timeout=5).status_code == 200

    assert [call.status for call in route.calls] == [None, None, 200]
    assert "connection reset" in (route.calls[0].error or "")
    assert "Timeout" in (route.calls[1].error or "")


# --- state carries across calls ------------------------------------------------------------------


class Counter:
    """A tiny stateful service: POST adds one, GET reads the count, DELETE resets it."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, request: Any) -> Any:
        self.count += json.loads(request.body)["by"]
        return 201, {"count": self.count}

    def read(self, request: Any) -> Any:
        return {"count": self.count}

    def reset(self, request: Any) -> Any:
        if self.count == 0:
            return 404, {"error": "nothing to reset"}
        self.count = 0
        return 204


def test_state_carries_across_calls_and_routes(protected_http):
    counter = Counter()
    protected_http.respond_with("POST", f"{API}/counter", counter.add)
    protected_http.respond_with("GET", f"{API}/counter", counter.read)
    protected_http.respond_with("DELETE", f"{API}/counter", counter.reset)

    assert requests.post(f"{API}/counter", json={"by": 2}, timeout=5).json() == {"count": 2}
    assert requests.post(f"{API}/counter", json={"by": 3}, timeout=5).json() == {"count": 5}
    assert requests.get(f"{API}/counter", timeout=5).json() == {"count": 5}
    assert requests.delete(f"{API}/counter", timeout=5).status_code == 204
    assert requests.delete(f"{API}/counter", timeout=5).status_code == 404
    assert requests.get(f"{API}/counter", timeout=5).json() == {"count": 0}


# --- a malformed answer --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [None, "ok", True, (200,), (200, {}, {}, "extra"), ("200", {}), KeyboardInterrupt(), str],
    ids=repr,
)
def test_a_malformed_answer_from_the_function_raises_a_clear_route_error(protected_http, answer):
    # must_be_called=False: the point is what the call raises, not that the route was used.
    protected_http.respond_with("GET", f"{API}/me", lambda request: answer, must_be_called=False)

    with pytest.raises(RouteError, match=r"an answer must be a status.*got") as raised:
        requests.get(f"{API}/me", timeout=5)
    assert repr(answer) in str(raised.value)


def test_a_function_is_not_called_when_the_route_is_added(protected_http):
    calls = []
    protected_http.respond_with("GET", f"{API}/me", lambda request: calls.append(request) or 200)

    assert calls == []
    requests.get(f"{API}/me", timeout=5)
    assert len(calls) == 1


def test_a_url_has_one_route_whether_scripted_or_answered_by_a_function(protected_http):
    protected_http.add("GET", f"{API}/me", 200)

    with pytest.raises(RouteError, match="already has a route"):
        protected_http.respond_with("GET", f"{API}/me", lambda request: 200)
    requests.get(f"{API}/me", timeout=5)


UNCALLED = """
import requests


def test_optional_and_required_routes(protected_http):
    protected_http.respond_with("GET", "https://api.vendor.example/v1/me", lambda r: 200)
    protected_http.respond_with(
        "DELETE", "https://api.vendor.example/v1/keys/k", lambda r: 204, must_be_called=False
    )
"""


def test_a_function_route_never_called_fails_the_test_unless_optional(pytester):
    pytester.makepyfile(UNCALLED)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*routes were never called*", "*GET https://api.vendor.example*"])
    result.stdout.no_fnmatch_line("*DELETE https://api.vendor.example*")


# --- active_kit() --------------------------------------------------------------------------------


def test_active_kit_is_the_test_worlds_kit(rotation_kit, protected_http):
    kit = rotation_testkit.active_kit()

    assert kit.world is rotation_kit.world
    assert kit.protected_http is protected_http
    kit.secretsmanager.create_secret(Name="through/active-kit", SecretString="x")
    assert rotation_kit.secretsmanager.describe_secret(SecretId="through/active-kit")["Name"] == (
        "through/active-kit"
    )


def test_active_kit_without_an_active_world_raises_a_clear_error():
    with pytest.raises(NoActiveWorld, match="no rotation-testkit world is active") as raised:
        rotation_testkit.active_kit()
    assert isinstance(raised.value, RuntimeError)
    assert "rotation_kit" in str(raised.value)


# A plain-token rotator whose vendor issues a new token on POST /tokens; the contract checks below
# reach the vendor only through the fake that setup installs in each check's world.


def token_rotator(event: dict[str, Any], context: Any) -> None:
    client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError("rotation is not enabled")
    stages = metadata["VersionIdsToStages"]
    if token not in stages:
        raise ValueError(f"unknown version {token}")
    if "AWSCURRENT" in stages[token]:
        return
    if "AWSPENDING" not in stages[token]:
        raise ValueError(f"version {token} is not AWSPENDING")
    if step == "createSecret":
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            return
        except client.exceptions.ResourceNotFoundException:
            pass
        current = client.get_secret_value(SecretId=arn)["SecretString"]
        response = requests.post(
            f"{API}/tokens",
            headers={"Authorization": f"Bearer {current}", "Idempotency-Key": token},
            timeout=5,
        )
        response.raise_for_status()
        client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=response.json()["token"],
            VersionStages=["AWSPENDING"],
        )
    elif step == "testSecret":
        pending = client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        me = requests.get(
            f"{API}/me", headers={"Authorization": f"Bearer {pending['SecretString']}"}, timeout=5
        )
        me.raise_for_status()
    elif step == "finishSecret":
        current = next(v for v, labels in stages.items() if "AWSCURRENT" in labels)
        client.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current,
        )


class TokenVendor:
    """Issues tokens; remembers them, and the worlds its setup ran in."""

    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.by_key: dict[str, str] = {}
        self.worlds: list[Any] = []

    def setup(self, initial_token: str) -> None:
        self.tokens = {initial_token}
        self.by_key = {}
        kit = rotation_testkit.active_kit()
        self.worlds.append(kit.world)
        kit.protected_http.respond_with("POST", f"{API}/tokens", self.issue)
        kit.protected_http.respond_with("GET", f"{API}/me", self.me)

    def probe(self, token: str) -> bool:
        return token in self.tokens

    def _caller(self, request: Any) -> str | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return token if token in self.tokens else None

    def issue(self, request: Any) -> Any:
        if self._caller(request) is None:
            return 401
        key = request.headers["Idempotency-Key"]
        if key not in self.by_key:
            self.by_key[key] = f"token-{len(self.tokens)}"
            self.tokens.add(self.by_key[key])
        return 201, {"token": self.by_key[key]}

    def me(self, request: Any) -> Any:
        return 401 if self._caller(request) is None else {"ok": True}


def test_contract_checks_refuse_to_run_inside_a_test_world(rotation_kit):
    # A check's world must start empty; moto keeps one backend per process, so a check inside a
    # test that already has a world is refused with a message that says what to do.
    vendor = TokenVendor()
    rotator = RotatorUnderTest(
        handler=token_rotator, setup=vendor.setup, probe=vendor.probe, initial_secret="token-0"
    )

    with pytest.raises(RuntimeError, match="cannot be nested") as refused:
        run_checks(rotator, names=["one-rotation"])

    assert "RotatorContract" in str(refused.value)
    assert vendor.worlds == []
    assert rotation_testkit.active_kit().world is rotation_kit.world


def test_each_contract_check_installs_the_fake_in_a_world_of_its_own():
    vendor = TokenVendor()
    rotator = RotatorUnderTest(
        handler=token_rotator, setup=vendor.setup, probe=vendor.probe, initial_secret="token-0"
    )

    results = run_checks(rotator, names=["one-rotation", "several-rotations", "steps-repeated"])

    assert [r.name for r in results if not r.passed] == [], [r.message for r in results]
    assert len({id(world) for world in vendor.worlds}) == 3
    with pytest.raises(NoActiveWorld):
        rotation_testkit.active_kit()
