"""Functions run out of process through the Lambda Runtime API: environment, headers, logs,
errors, init errors, timeouts, warm and cold environments, and nothing left behind.

The function here is run by tests/runtime_fixtures/mini_runtime.py, a minimal runtime interface
client (AWS's own clients are exercised by examples/other_languages).
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rotation_testkit.execution.commands import FunctionError, InitError, RuntimeExitError
from rotation_testkit.execution.lambdas import (
    Invocation,
    LambdaRegistrationError,
    LambdaRegistry,
    TaskTimedOut,
)
from rotation_testkit.foundations.config import KitConfig
from rotation_testkit.kit import RotationKit
from rotation_testkit.world import World

FIXTURES = Path(__file__).parent / "runtime_fixtures"
PYTHON_EXAMPLE = Path(__file__).parent.parent / "examples" / "other_languages" / "python"


def mini(handler: str) -> str:
    """The command that runs ``handler`` with the minimal runtime client."""
    return (
        f"{shlex.quote(sys.executable)} {shlex.quote(str(FIXTURES / 'mini_runtime.py'))} {handler}"
    )


def invoke(kit: RotationKit, arn: str, event: dict[str, Any] | None = None) -> Invocation:
    function = kit.lambdas.lookup(arn)
    assert function is not None
    return kit.world.invoke(function, event or {"Step": "createSecret"})


def running(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_until_gone(pid: int, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if not running(pid):
            return True
        threading.Event().wait(0.05)
    return False


# --- the environment a function sees --------------------------------------------------------------


def test_the_process_gets_lambdas_environment_and_the_runtime_api_headers(
    rotation_kit: RotationKit,
) -> None:
    arn = rotation_kit.lambdas.register_command(
        mini("handlers.describe"),
        name="env-check",
        timeout=7,
        env={"GREETING": "hello"},
        cwd=str(FIXTURES),
    )
    before_ms = time.clock_gettime(time.CLOCK_REALTIME) * 1000
    invocation = invoke(rotation_kit, arn, {"Step": "createSecret", "SecretId": "s"})

    assert invocation.error is None, invocation.logs
    seen = invocation.result
    env = seen["env"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "env-check"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_REGION"] == rotation_kit.config.region
    assert env["AWS_ACCESS_KEY_ID"].startswith("AKIA")
    assert env["AWS_SECRET_ACCESS_KEY"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", env["SECRETS_MANAGER_ENDPOINT"])
    assert env["AWS_ENDPOINT_URL"] == env["SECRETS_MANAGER_ENDPOINT"]
    assert env["_HANDLER"] == "handlers.describe"
    assert env["LAMBDA_TASK_ROOT"] == str(FIXTURES) == seen["cwd"]
    assert env["GREETING"] == "hello"
    assert seen["event"] == {"Step": "createSecret", "SecretId": "s"}

    headers = seen["headers"]
    assert headers["lambda-runtime-aws-request-id"] == invocation.request_id
    assert headers["lambda-runtime-invoked-function-arn"] == arn
    deadline = int(headers["lambda-runtime-deadline-ms"])
    assert before_ms + 6000 < deadline < before_ms + 7000 + 60_000


def test_stdout_and_stderr_are_the_invocations_logs(rotation_kit: RotationKit) -> None:
    arn = rotation_kit.lambdas.register_command(mini("handlers.describe"), cwd=str(FIXTURES))
    first = invoke(rotation_kit, arn, {"Step": "createSecret"})
    second = invoke(rotation_kit, arn, {"Step": "setSecret"})

    assert "describe called with createSecret" in first.logs
    assert "a line on stderr" in first.logs
    assert first.logs.startswith(f"START RequestId: {first.request_id}")
    assert f"END RequestId: {first.request_id}" in first.logs
    # Each invocation has its own log, even from the same process.
    assert "describe called with setSecret" in second.logs
    assert "createSecret" not in second.logs


def test_a_function_that_writes_more_than_a_pipe_holds_does_not_block(
    rotation_kit: RotationKit,
) -> None:
    arn = rotation_kit.lambdas.register_command(
        mini("handlers.chatty"), cwd=str(FIXTURES), timeout=20
    )
    invocation = invoke(rotation_kit, arn)
    assert invocation.error is None
    assert "line 00000" in invocation.logs
    assert "line 04999" in invocation.logs


# --- warm and cold environments -------------------------------------------------------------------


def test_an_idle_warm_environment_is_reused(rotation_kit: RotationKit) -> None:
    arn = rotation_kit.lambdas.register_command(mini("handlers.describe"), cwd=str(FIXTURES))
    first, second = invoke(rotation_kit, arn).result, invoke(rotation_kit, arn).result
    assert first["pid"] == second["pid"]
    assert (first["invocations"], second["invocations"]) == (1, 2)


def test_cold_starts_every_starts_a_new_process_per_invocation(rotation_kit: RotationKit) -> None:
    arn = rotation_kit.lambdas.register_command(
        mini("handlers.describe"), cwd=str(FIXTURES), cold_starts="every"
    )
    first, second = invoke(rotation_kit, arn).result, invoke(rotation_kit, arn).result
    assert first["pid"] != second["pid"]
    assert (first["invocations"], second["invocations"]) == (1, 1)
    assert not running(first["pid"])


# --- how an invocation ends -----------------------------------------------------------------------


def test_an_error_response_becomes_the_invocations_error(rotation_kit: RotationKit) -> None:
    arn = rotation_kit.lambdas.register_command(mini("handlers.fail"), cwd=str(FIXTURES))
    invocation = invoke(rotation_kit, arn)

    assert isinstance(invocation.error, FunctionError)
    assert invocation.error.error_type == "SecretNotReady"
    assert invocation.error_text == "SecretNotReady: the pending version is not ready"
    assert invocation.error.stack_trace  # the runtime's stackTrace is kept
    assert "about to fail" in invocation.logs
    event = rotation_kit.events("Invoke")[-1]
    assert event.error == "SecretNotReady: the pending version is not ready"


def test_an_init_error_is_reported_as_such(rotation_kit: RotationKit) -> None:
    arn = rotation_kit.lambdas.register_command(mini("broken_at_import.handler"), cwd=str(FIXTURES))
    invocation = invoke(rotation_kit, arn)

    assert isinstance(invocation.error, InitError)
    assert invocation.error_text == (
        "Runtime.ImportModuleError: the function failed to initialise: "
        "the configuration file is missing"
    )


def test_a_process_that_exits_mid_invocation_is_a_runtime_exit_error(
    rotation_kit: RotationKit,
) -> None:
    arn = rotation_kit.lambdas.register_command(mini("handlers.exit_now"), cwd=str(FIXTURES))
    invocation = invoke(rotation_kit, arn)
    assert isinstance(invocation.error, RuntimeExitError)
    assert invocation.error_text == ("Runtime.ExitError: Runtime exited with error: exit status 3")
    assert "exiting" in invocation.logs


def test_a_timeout_kills_the_process_and_its_children(rotation_kit: RotationKit) -> None:
    arn = rotation_kit.lambdas.register_command(mini("sleeper.sleep"), cwd=str(FIXTURES), timeout=3)
    invocation = invoke(rotation_kit, arn, {"seconds": 60})

    assert isinstance(invocation.error, TaskTimedOut)
    assert invocation.error_text == "TaskTimedOut: Task timed out after 3.00 seconds"
    assert "Task timed out after 3.00 seconds" in invocation.logs
    pid = int(re.search(r"sleeping pid=(\d+)", invocation.logs).group(1))  # type: ignore[union-attr]
    child = int(re.search(r"child pid=(\d+)", invocation.logs).group(1))  # type: ignore[union-attr]
    assert wait_until_gone(pid)
    assert wait_until_gone(child)


# --- what the function's own SDK reaches ----------------------------------------------------------


def test_the_functions_sdk_calls_go_through_the_request_layer(
    rotation_kit: RotationKit, secretsmanager: Any
) -> None:
    secretsmanager.create_secret(Name="app/one", SecretString="x")
    arn = rotation_kit.lambdas.register_command(mini("handlers.list_secrets"), cwd=str(FIXTURES))
    invocation = invoke(rotation_kit, arn, {"Step": "setSecret"})

    assert invocation.result == ["app/one"]
    listed = rotation_kit.events("ListSecrets")
    assert len(listed) == 1
    assert listed[0].step == "setSecret"  # attributed to the step that made the call


def test_an_api_fault_reaches_the_out_of_process_function(
    rotation_kit: RotationKit, secretsmanager: Any, rotation_faults: Any
) -> None:
    secretsmanager.create_secret(Name="app/one", SecretString="x")
    rotation_faults.fail_api("GetSecretValue", code="AccessDeniedException")
    arn = rotation_kit.lambdas.register_command(mini("handlers.get_value"), cwd=str(FIXTURES))

    failed = invoke(rotation_kit, arn, {"SecretId": "app/one"})
    assert failed.error is not None
    assert "AccessDeniedException" in str(failed.error)
    again = invoke(rotation_kit, arn, {"SecretId": "app/one"})
    assert again.result == "x"
    calls = rotation_kit.events("GetSecretValue")
    assert [c.error for c in calls] == ["AccessDeniedException", None]


# --- registration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"command": "   "}, "the command is empty"),
        ({"command": "run 'unbalanced"}, "cannot split the command"),
        ({"command": "python x.py", "cwd": "/no/such/dir"}, "does not exist"),
        ({"command": "python x.py", "cold_starts": "sometimes"}, "cold_starts must be"),
    ],
)
def test_a_command_that_cannot_be_registered_says_why(
    rotation_kit: RotationKit, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(LambdaRegistrationError, match=message):
        rotation_kit.lambdas.register_command(**kwargs)


def test_a_command_needs_a_world() -> None:
    with pytest.raises(LambdaRegistrationError, match="need the world's HTTP endpoint"):
        LambdaRegistry(KitConfig()).register_command("python -m awslambdaric m.h")


def test_nothing_is_left_running_when_the_world_ends() -> None:
    threads_before = set(threading.enumerate())
    world = World()
    with world.activate():
        arn = world.lambdas.register_command(mini("handlers.describe"), cwd=str(FIXTURES))
        function = world.lambdas.lookup(arn)
        assert function is not None
        pid = world.invoke(function, {}).result["pid"]
        endpoint = world.endpoint_url()
        assert running(pid)
    assert wait_until_gone(pid)
    assert set(threading.enumerate()) <= threads_before
    port = int(endpoint.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_the_python_example_rotates_through_the_mini_runtime(
    rotation_kit: RotationKit, secretsmanager: Any
) -> None:
    secret = secretsmanager.create_secret(
        Name="app/db", SecretString=json.dumps({"username": "app", "password": "first"})
    )
    arn = rotation_kit.lambdas.register_command(
        mini("rotator.lambda_handler"), cwd=str(PYTHON_EXAMPLE)
    )
    secretsmanager.rotate_secret(
        SecretId=secret["ARN"], RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )
    value = json.loads(secretsmanager.get_secret_value(SecretId="app/db")["SecretString"])
    assert value["username"] == "app"
    assert value["password"] != "first"
    assert [i.step for i in rotation_kit.invocations(arn)] == [
        "createSecret",
        "setSecret",
        "testSecret",
        "finishSecret",
    ]
