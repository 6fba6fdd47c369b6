"""The world as an HTTP endpoint: the same request layer as in process, moto's other services,
loopback peers only, and `rotation-testkit serve`."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest

from rotation_testkit.cli import build_parser
from rotation_testkit.execution.aws_endpoint import GuardedEndpoint, is_loopback
from rotation_testkit.execution.runtime_api import RuntimeApiServer
from rotation_testkit.execution.signatures import EndpointCredentials
from rotation_testkit.kit import RotationKit
from rotation_testkit.serve import run_serve_command

ROOT = Path(__file__).parent.parent
PYTHON_EXAMPLE = ROOT / "examples" / "other_languages" / "python"
MINI_RUNTIME = Path(__file__).parent / "runtime_fixtures" / "mini_runtime.py"


def http_client(service: str, endpoint: str, keys: EndpointCredentials) -> Any:
    """A client that reaches ``endpoint`` over HTTP, as another process's SDK would."""
    return boto3.session.Session(
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
        region_name="us-east-1",
    ).client(
        service,
        endpoint_url=endpoint,
        config=botocore.config.Config(
            retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30
        ),
    )


def printed_keys(text: str) -> EndpointCredentials:
    """The keys `serve` printed in its export line."""
    key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", text)
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", text)
    assert key, text
    assert secret, text
    return EndpointCredentials(key.group(1), secret.group(1))


# --- the same world, over HTTP ---------------------------------------------------------------------


def test_requests_over_http_reach_the_same_secrets_and_the_history(
    rotation_kit: RotationKit, secretsmanager: Any
) -> None:
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    remote = http_client(
        "secretsmanager",
        rotation_kit.world.endpoint_url(),
        rotation_kit.world.endpoint_credentials(),
    )

    assert remote.get_secret_value(SecretId="app/db")["SecretString"] == "first"
    remote.put_secret_value(SecretId="app/db", SecretString="second")

    assert secretsmanager.get_secret_value(SecretId="app/db")["SecretString"] == "second"
    assert [e.name for e in rotation_kit.events(secret_id="app/db")] == [
        "CreateSecret",
        "GetSecretValue",
        "PutSecretValue",
        "GetSecretValue",
    ]


def test_the_corrections_apply_over_http(rotation_kit: RotationKit, secretsmanager: Any) -> None:
    # AWS refuses to move AWSCURRENT without RemoveFromVersionId; plain moto does not.
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    version = secretsmanager.put_secret_value(
        SecretId="app/db", SecretString="second", VersionStages=["AWSPENDING"]
    )["VersionId"]
    remote = http_client(
        "secretsmanager",
        rotation_kit.world.endpoint_url(),
        rotation_kit.world.endpoint_credentials(),
    )
    with pytest.raises(remote.exceptions.InvalidParameterException, match="RemoveFromVersionId"):
        remote.update_secret_version_stage(
            SecretId="app/db", VersionStage="AWSCURRENT", MoveToVersionId=version
        )


def test_api_faults_apply_over_http(
    rotation_kit: RotationKit, secretsmanager: Any, rotation_faults: Any
) -> None:
    secretsmanager.create_secret(Name="app/db", SecretString="first")
    rotation_faults.fail_api("GetSecretValue", code="ThrottlingException")
    remote = http_client(
        "secretsmanager",
        rotation_kit.world.endpoint_url(),
        rotation_kit.world.endpoint_credentials(),
    )

    with pytest.raises(remote.exceptions.ClientError, match="ThrottlingException"):
        remote.get_secret_value(SecretId="app/db")
    assert remote.get_secret_value(SecretId="app/db")["SecretString"] == "first"


def test_rotate_secret_over_http_runs_an_out_of_process_rotator(
    rotation_kit: RotationKit, secretsmanager: Any
) -> None:
    # The RotateSecret request waits for a function whose own requests reach the same endpoint.
    secretsmanager.create_secret(
        Name="app/db", SecretString=json.dumps({"username": "app", "password": "first"})
    )
    arn = rotation_kit.lambdas.register_command(
        f"{shlex.quote(sys.executable)} {shlex.quote(str(MINI_RUNTIME))} rotator.lambda_handler",
        cwd=str(PYTHON_EXAMPLE),
    )
    remote = http_client(
        "secretsmanager",
        rotation_kit.world.endpoint_url(),
        rotation_kit.world.endpoint_credentials(),
    )
    remote.rotate_secret(
        SecretId="app/db", RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 7}
    )
    value = json.loads(secretsmanager.get_secret_value(SecretId="app/db")["SecretString"])
    assert value["password"] != "first"
    assert rotation_kit.events("RotationSucceeded")


def test_other_services_are_served_by_moto(rotation_kit: RotationKit) -> None:
    remote = http_client(
        "sts", rotation_kit.world.endpoint_url(), rotation_kit.world.endpoint_credentials()
    )
    assert remote.get_caller_identity()["Account"] == rotation_kit.config.account_id


# --- loopback only ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1", True),
        ("127.5.6.7", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.8", False),
        ("192.168.1.20", False),
        ("::ffff:10.0.0.8", False),
        ("203.0.113.9", False),
        ("", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(address: str, expected: bool) -> None:
    assert is_loopback(address) is expected


def test_the_endpoint_refuses_a_request_from_another_host() -> None:
    served: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        served.append(environ["REMOTE_ADDR"])
        start_response("200 OK", [])
        return [b"ok"]

    statuses: list[str] = []
    guard = GuardedEndpoint(app, EndpointCredentials.generate())
    body = guard({"REMOTE_ADDR": "10.1.2.3"}, lambda status, headers: statuses.append(status))
    assert statuses == ["403 Forbidden"]
    assert b"loopback clients only" in b"".join(body)
    assert served == []


def test_the_servers_listen_on_loopback_and_drop_foreign_connections(
    rotation_kit: RotationKit,
) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", rotation_kit.world.endpoint_url())
    runtime_api = RuntimeApiServer()
    try:
        assert runtime_api.server_address[0] == "127.0.0.1"
        assert runtime_api.verify_request(None, ("172.17.0.2", 40000)) is False
        assert runtime_api.verify_request(None, ("127.0.0.1", 40000)) is True
    finally:
        runtime_api.close()


# --- rotation-testkit serve ----------------------------------------------------------------------


def _read_line(stream: Any, seconds: float) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    if not lines:
        raise AssertionError(f"no output within {seconds} s")
    return lines[0]


def test_serve_prints_the_endpoint_and_ctrl_c_stops_it() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "rotation_testkit", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        first = _read_line(process.stdout, 30)
        match = re.fullmatch(r"rotation-testkit serve: (http://127\.0\.0\.1:\d+)\n", first)
        assert match, first
        remote = http_client(
            "secretsmanager", match.group(1), printed_keys(_read_line(process.stdout, 5))
        )
        remote.create_secret(Name="by-hand", SecretString="v")
        assert remote.describe_secret(SecretId="by-hand")["Name"] == "by-hand"

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err


def test_serve_with_a_command_registers_the_function_and_prints_its_arn() -> None:
    out = io.StringIO()
    stop = threading.Event()
    command = (
        f"{shlex.quote(sys.executable)} {shlex.quote(str(MINI_RUNTIME))} rotator.lambda_handler"
    )
    args = build_parser().parse_args(["serve", "--command", command, "--cwd", str(PYTHON_EXAMPLE)])
    threads_before = set(threading.enumerate())
    codes: list[int] = []
    server = threading.Thread(target=lambda: codes.append(run_serve_command(args, out, stop)))
    server.start()
    try:
        for _ in range(200):
            if "Press Ctrl-C" in out.getvalue():
                break
            threading.Event().wait(0.05)
        text = out.getvalue()
        endpoint = re.search(r"serve: (http://\S+)", text).group(1)  # type: ignore[union-attr]
        function = re.search(r"rotation function: (arn:\S+)", text).group(1)  # type: ignore[union-attr]
        remote = http_client("secretsmanager", endpoint, printed_keys(text))
        remote.create_secret(
            Name="app/db", SecretString=json.dumps({"username": "app", "password": "first"})
        )
        remote.rotate_secret(
            SecretId="app/db",
            RotationLambdaARN=function,
            RotationRules={"AutomaticallyAfterDays": 1},
        )
        value = json.loads(remote.get_secret_value(SecretId="app/db")["SecretString"])
        assert value["password"] != "first"
    finally:
        stop.set()
        server.join(30)
    assert codes == [0]
    assert set(threading.enumerate()) <= threads_before
