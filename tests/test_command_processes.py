"""Functions run out of process stay bounded: every process they start ends with their
environment (setsid ones included), an environment that cannot run the function is a harness
error named at once, output kept per invocation is capped, and only the environment's own
processes reach its Runtime API."""

from __future__ import annotations

import http.client
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rotation_testkit.cli import main
from rotation_testkit.execution import environment
from rotation_testkit.execution.commands import EnvironmentFailure
from rotation_testkit.execution.environment import ExecutionEnvironment
from rotation_testkit.execution.lambdas import Invocation
from rotation_testkit.execution.runtime_api import RuntimeApiServer
from rotation_testkit.world import World

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "runtime_fixtures"
PYTHON = shlex.quote(sys.executable)
MINI = f"{PYTHON} {shlex.quote(str(FIXTURES / 'mini_runtime.py'))}"


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_until_gone(pid: int, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if not running(pid):
            return True
        os.sched_yield()
        subprocess.run(["sleep", "0.05"], check=True)
    return False


@pytest.fixture
def world() -> Iterator[World]:
    world = World()
    with world.activate():
        yield world


def invoke(world: World, arn: str) -> Invocation:
    function = world.lookup_function(arn)
    assert function is not None
    return world.invoke(function, {"Step": "createSecret"})


# --- every process ends with its environment ------------------------------------------------------


def test_a_grandchild_that_calls_setsid_dies_with_the_environment() -> None:
    world = World()
    with world.activate():
        arn = world.lambdas.register_command(
            f"{MINI} processes.spawn_setsid_grandchild", cwd=str(FIXTURES)
        )
        invocation = invoke(world, arn)
        assert invocation.error is None, invocation.logs
        escaper = int(invocation.result)
        assert running(escaper)
        assert os.getsid(escaper) == escaper  # it left the environment's session
    assert wait_until_gone(escaper)


# --- an environment that cannot run the function ----------------------------------------------------


def test_a_runtime_that_never_asks_for_an_event_is_a_harness_error_at_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(environment, "STARTUP_SECONDS", 1.0)
    command = f"{PYTHON} {shlex.quote(str(FIXTURES / 'never_polls.py'))}"
    code = main(["check", "--command", command, "--cwd", str(FIXTURES), "--timeout", "3"])
    captured = capsys.readouterr()
    assert code == 2, captured.out
    assert "did not ask the Runtime API for an event within 1 s of starting" in captured.err
    assert "fix the command" in captured.err
    assert "FAIL" not in captured.out


def test_a_runtime_that_stops_asking_for_events_is_named(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(environment, "STARTUP_SECONDS", 1.0)
    arn = world.lambdas.register_command(
        f"{PYTHON} {shlex.quote(str(FIXTURES / 'answers_once.py'))} x.handler", cwd=str(FIXTURES)
    )
    assert invoke(world, arn).result == "done"
    second = invoke(world, arn)
    assert isinstance(second.error, EnvironmentFailure)
    assert "stopped asking the Runtime API for events" in str(second.error)
    assert world.lambdas.environment_failures()


def test_a_process_that_exits_while_importing_is_a_harness_error_naming_its_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["check", "--command", f"{MINI} exits_at_import.handler", "--cwd", str(FIXTURES)])
    captured = capsys.readouterr()
    assert code == 2, captured.out
    assert "exited with status 7 while it started" in captured.err
    assert "FAIL" not in captured.out


def test_a_missing_program_fails_once_naming_it(world: World) -> None:
    arn = world.lambdas.register_command("no-such-runtime-program-xyz index.handler")
    first = invoke(world, arn)
    assert isinstance(first.error, EnvironmentFailure)
    assert "'no-such-runtime-program-xyz'" in str(first.error)
    assert isinstance(invoke(world, arn).error, EnvironmentFailure)  # at once, not restarted
    assert world.lambdas.environment_failures() == [world.lambdas.environment_failures()[0]]


def test_npx_without_the_package_installed_is_a_usage_error_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "npx").write_text("#!/bin/sh\nexit 0\n")
    (fake_bin / "npx").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    function_dir = tmp_path / "function"
    function_dir.mkdir()
    code = main(
        ["check", "--command", "npx aws-lambda-ric index.handler", "--cwd", str(function_dir)]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "'aws-lambda-ric'" in captured.err
    assert "npm ci" in captured.err
    assert "PASS" not in captured.out
    assert "FAIL" not in captured.out


def test_an_in_process_target_that_calls_os_exit_at_import_is_a_usage_error(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rotation_testkit",
            "check",
            f"{FIXTURES / 'exits_at_import.py'}:handler",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "os._exit(7)" in result.stderr
    assert "exit status 7" in result.stderr


# --- output is capped -------------------------------------------------------------------------------


def _assert_capped(logs: str) -> None:
    assert len(logs) < 100_000
    assert "FIRST-LINE" in logs
    assert "LAST-LINE" in logs
    assert "of output left out here" in logs


def test_output_of_a_process_is_kept_as_its_head_and_tail(world: World) -> None:
    arn = world.lambdas.register_command(f"{MINI} processes.flood", cwd=str(FIXTURES))
    invocation = invoke(world, arn)
    assert invocation.result == "flooded"
    _assert_capped(invocation.logs)


def test_output_of_an_in_process_function_is_kept_as_its_head_and_tail(world: World) -> None:
    sys.path.insert(0, str(FIXTURES))
    try:
        from processes import flood  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(FIXTURES))
    arn = world.lambdas.register(flood)
    invocation = invoke(world, arn)
    assert invocation.result == "flooded"
    _assert_capped(invocation.logs)


def test_a_check_that_fails_with_megabytes_of_output_prints_and_writes_little(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    code = main(
        [
            "check",
            f"{FIXTURES / 'processes.py'}:flood",
            "--only",
            "one-rotation",
            "--junit-xml",
            str(junit),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "of output left out here" in out
    # 64 KiB per invocation shown, not the 10 MB each one printed.
    assert len(out) < 2_000_000
    assert junit.stat().st_size < 2_000_000


# --- the Runtime API serves its own environment only --------------------------------------------------


def test_the_runtime_api_refuses_a_process_outside_the_environment(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": os.environ["PATH"]}
    command = f"{PYTHON} {shlex.quote(str(FIXTURES / 'never_polls.py'))}"
    execution = ExecutionEnvironment(command, cwd=str(tmp_path), env=env)
    try:
        host, port = execution.api.address.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request("GET", "/2018-06-01/runtime/invocation/next")
            with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
                connection.getresponse()
        finally:
            connection.close()
        assert execution.api.refused_connections == 1
        assert execution.api.state.polls == 0
    finally:
        execution.close()


def test_reaching_the_runtime_api_from_the_environment_is_allowed(world: World) -> None:
    arn = world.lambdas.register_command(f"{MINI} handlers.describe", cwd=str(FIXTURES))
    invocation: Any = invoke(world, arn)
    assert invocation.error is None, invocation.logs


def test_the_runtime_api_refuses_a_body_past_lambdas_payload_limit() -> None:
    api = RuntimeApiServer()
    api.start()
    try:
        host, port = api.address.split(":")
        with socket.create_connection((host, int(port)), timeout=30) as connection:
            connection.sendall(
                b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: 52428800\r\n\r\n"
            )
            answer = connection.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert api.state.init_error is None
    finally:
        api.close()
