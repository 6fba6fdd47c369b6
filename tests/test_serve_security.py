"""The world's HTTP endpoint as an attacker on the same machine, or a web page, would meet it:
signed requests only, its own Host only, no CORS, no moto control routes, bounded resources, and
AWS's size limit on secret values whichever road a request takes."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from rotation_testkit import World
from rotation_testkit.execution.aws_endpoint import AwsEndpoint
from rotation_testkit.execution.http_server import ServerLimits
from rotation_testkit.execution.sandbox import FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY
from rotation_testkit.execution.signatures import EndpointCredentials

TOO_LARGE = (
    "1 validation error detected: Value at '{field}' failed to satisfy constraint: "
    "Member must have length less than or equal to 65536"
)


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    with world.activate():
        yield world


def client(url: str, key: str, secret: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1"
    ).client(
        "secretsmanager",
        endpoint_url=url,
        config=botocore.config.Config(
            retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30
        ),
    )


def signed_client(world: World, host: str = "127.0.0.1") -> Any:
    keys = world.endpoint_credentials()
    url = world.endpoint_url().replace("127.0.0.1", host)
    return client(url, keys.access_key_id, keys.secret_access_key)


def signed_request(
    world: World, body: dict[str, Any], *, target: str = "secretsmanager.CreateSecret"
) -> AWSRequest:
    """A CreateSecret-style request signed with the world's keys, as an SDK would send it."""
    keys = world.endpoint_credentials()
    request = AWSRequest(
        method="POST",
        url=world.endpoint_url() + "/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
    )
    SigV4Auth(
        Credentials(keys.access_key_id, keys.secret_access_key), "secretsmanager", "us-east-1"
    ).add_auth(request)
    return request


def send(
    world: World,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    port = int(world.endpoint_url().rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def send_signed(
    world: World, request: AWSRequest, *, body: bytes | None = None, **extra: str
) -> tuple[int, dict[str, str], bytes]:
    headers = {k: str(v) for k, v in request.headers.items()}
    headers.update(extra)
    data = request.body if body is None else body
    return send(world, "POST", "/", data if isinstance(data, bytes) else b"", headers)


# --- authentication ---------------------------------------------------------------------------


def test_a_request_signed_with_the_worlds_keys_is_served(world: World) -> None:
    remote = signed_client(world)
    remote.create_secret(Name="app/db", SecretString="v")
    assert world.client().get_secret_value(SecretId="app/db")["SecretString"] == "v"


def test_every_run_draws_keys_of_its_own(world: World) -> None:
    keys = world.endpoint_credentials()
    other = EndpointCredentials.generate()
    assert keys.access_key_id != other.access_key_id
    assert keys.secret_access_key != other.secret_access_key
    assert keys.access_key_id != FAKE_ACCESS_KEY_ID
    assert keys.secret_access_key not in repr(keys)


def test_an_unknown_access_key_is_refused_as_aws_refuses_it(world: World) -> None:
    remote = client(world.endpoint_url(), FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY)
    with pytest.raises(remote.exceptions.ClientError) as error:
        remote.create_secret(Name="app/db", SecretString="v")
    assert error.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert error.value.response["Error"]["Message"] == (
        "The security token included in the request is invalid."
    )
    assert world.backend.secrets == {}


def test_a_wrong_secret_key_is_an_invalid_signature(world: World) -> None:
    keys = world.endpoint_credentials()
    remote = client(world.endpoint_url(), keys.access_key_id, "x" * 40)
    with pytest.raises(remote.exceptions.ClientError) as error:
        remote.create_secret(Name="app/db", SecretString="v")
    assert error.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert world.backend.secrets == {}


def test_an_invented_authorization_header_is_refused(world: World) -> None:
    keys = world.endpoint_credentials()
    status, _headers, body = send(
        world,
        "POST",
        "/",
        b'{"Name": "x", "SecretString": "v"}',
        {
            "X-Amz-Target": "secretsmanager.CreateSecret",
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Date": "20240101T000000Z",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={keys.access_key_id}/20240101/"
            f"us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, "
            f"Signature={'0' * 64}",
        },
    )
    assert status == 400
    assert json.loads(body)["__type"] == "InvalidSignatureException"
    assert world.backend.secrets == {}


def test_an_unsigned_request_is_refused(world: World) -> None:
    status, _, body = send(
        world,
        "POST",
        "/",
        b'{"Name": "x", "SecretString": "v"}',
        {"X-Amz-Target": "secretsmanager.CreateSecret"},
    )
    assert status == 403
    assert json.loads(body)["__type"] == "MissingAuthenticationTokenException"
    assert world.backend.secrets == {}


def test_a_body_changed_after_signing_is_an_invalid_signature(world: World) -> None:
    request = signed_request(world, {"Name": "app/db", "SecretString": "signed"})
    tampered = json.dumps({"Name": "app/db", "SecretString": "changed"}).encode()
    status, _, body = send_signed(world, request, body=tampered)
    assert status == 400
    assert json.loads(body)["__type"] == "InvalidSignatureException"
    status, _, _ = send_signed(world, request)
    assert status == 200


# --- Host, CORS, moto's routes ----------------------------------------------------------------


def test_only_host_headers_naming_the_bound_address_are_served(world: World) -> None:
    port = world.endpoint_url().rsplit(":", 1)[1]
    # A DNS-rebound page reaches 127.0.0.1 under its own name: its request says so in Host.
    request = signed_request(world, {"Name": "app/db", "SecretString": "v"})
    status, _, _ = send_signed(world, request, Host=f"attacker.example:{port}")
    assert status == 421
    assert world.backend.secrets == {}
    signed_client(world, host="localhost").create_secret(Name="app/db", SecretString="v")
    assert "app/db" in {s.name for s in world.backend.secrets.values()}


def test_no_cors_header_is_ever_sent(world: World) -> None:
    origin = {"Origin": "https://attacker.example"}
    request = signed_request(world, {"Name": "app/db", "SecretString": "v"})
    answers = [
        send_signed(world, request, **origin),
        send(
            world,
            "OPTIONS",
            "/",
            headers={**origin, "Access-Control-Request-Method": "POST"},
        ),
        send(world, "GET", "/moto-api/data.json", headers=origin),
    ]
    assert answers[0][0] == 200
    for _, headers, _ in answers:
        assert not [h for h in headers if h.lower().startswith("access-control-")], headers


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/moto-api/data.json"), ("POST", "/moto-api/reset"), ("GET", "/moto-api/")],
)
def test_motos_control_routes_are_not_exposed(world: World, method: str, path: str) -> None:
    world.client().create_secret(Name="app/db", SecretString="kept")
    status, _, body = send(world, method, path, headers={"Content-Type": "text/plain"})
    assert status == 404
    assert b"kept" not in body
    assert world.client().get_secret_value(SecretId="app/db")["SecretString"] == "kept"


# --- bounded resources ------------------------------------------------------------------------


def test_a_client_that_stalls_its_body_blocks_no_other(world: World) -> None:
    port = int(world.endpoint_url().rsplit(":", 1)[1])
    stalled = socket.create_connection(("127.0.0.1", port))
    try:
        stalled.sendall(
            b'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"Name"'
        )
        remote = signed_client(world)
        remote.create_secret(Name="app/db", SecretString="v")
        assert remote.get_secret_value(SecretId="app/db")["SecretString"] == "v"
    finally:
        stalled.close()


def test_idle_connections_do_not_make_threads() -> None:
    world = World()
    with world.activate():
        url = world.endpoint_url()
        port = int(url.rsplit(":", 1)[1])
        before = threading.active_count()
        idle = []
        try:
            for _ in range(1200):
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            signed_client(world).create_secret(Name="app/db", SecretString="v")
            limits = ServerLimits()
            assert threading.active_count() <= before + limits.workers
        finally:
            for connection in idle:
                connection.close()
        assert world.client().get_secret_value(SecretId="app/db")["SecretString"] == "v"


def test_a_body_past_the_cap_is_refused_before_it_is_read(world: World) -> None:
    port = int(world.endpoint_url().rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 52428800\r\n\r\n"
        )
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_an_endpoint_with_a_small_pool_still_serves_every_client() -> None:
    world = World()
    with world.activate():
        endpoint = AwsEndpoint(limits=ServerLimits(workers=2, max_connections=4))
        endpoint.start()
        try:
            keys = endpoint.credentials
            held = [socket.create_connection(("127.0.0.1", int(endpoint.url.rsplit(":", 1)[1])))]
            held += [socket.create_connection(held[0].getpeername()) for _ in range(5)]
            remote = client(endpoint.url, keys.access_key_id, keys.secret_access_key)
            remote.create_secret(Name="app/db", SecretString="v")
            for connection in held:
                connection.close()
        finally:
            endpoint.stop()
        assert world.client().get_secret_value(SecretId="app/db")["SecretString"] == "v"


# --- AWS's size limit on a secret value ---------------------------------------------------------


@pytest.mark.parametrize("road", ["in process", "over HTTP"])
def test_a_secret_value_past_65536_bytes_is_refused_as_aws_words_it(
    world: World, road: str
) -> None:
    remote = world.client() if road == "in process" else signed_client(world)
    remote.create_secret(Name="fits", SecretString="x" * 65536)
    attempts = [
        ("secretString", lambda: remote.create_secret(Name="big", SecretString="x" * 65537)),
        ("secretBinary", lambda: remote.create_secret(Name="big", SecretBinary=b"x" * 65537)),
        (
            "secretString",
            lambda: remote.put_secret_value(SecretId="fits", SecretString="é" * 32769),
        ),
        ("secretBinary", lambda: remote.update_secret(SecretId="fits", SecretBinary=b"x" * 65537)),
    ]
    for field, attempt in attempts:
        with pytest.raises(remote.exceptions.ClientError) as error:
            attempt()
        assert error.value.response["Error"]["Code"] == "ValidationException"
        assert error.value.response["Error"]["Message"] == TOO_LARGE.format(field=field)
    assert {s.name for s in world.backend.secrets.values()} == {"fits"}
    assert len(world.backend.find_secret("fits").versions) == 1  # type: ignore[union-attr]
