"""Time as a Lambda function lives it: fake sleeps for the handler's thread (even a sleep bound
before the clock started), real time for threads it starts, and a real-time timeout for a handler
that blocks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import boto3
import freezegun.api
import pytest

import rotators
from rotation_testkit import TaskTimedOut

RULES = {"AutomaticallyAfterDays": 30}


def real_seconds() -> float:
    """Real elapsed time, which freezegun does not touch."""
    return freezegun.api.real_perf_counter()


def rotate(client, secret_id: str, arn: str) -> None:
    client.rotate_secret(SecretId=secret_id, RotationLambdaARN=arn, RotationRules=RULES)


BOUND_SLEEP_LIBRARY = textwrap.dedent(
    """
    from time import sleep


    def backoff(seconds):
        sleep(seconds)
    """
)


def test_a_sleep_bound_before_the_clock_started_costs_no_real_time(
    tmp_path, monkeypatch, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    # A library imported at collection, before the clock, as redis-py imports its sleep.
    (tmp_path / "bound_sleep_library.py").write_text(BOUND_SLEEP_LIBRARY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "bound_sleep_library", raising=False)
    import bound_sleep_library

    clock = rotation_kit.clock  # starts now, after the import
    start = clock.now()

    def handler(event, context):
        if event["Step"] == "setSecret":
            bound_sleep_library.backoff(600)
        return rotators.correct(event, context)

    arn = rotation_lambdas.register(handler, timeout=900)
    real = real_seconds()

    rotate(secretsmanager, secret, arn)

    assert real_seconds() - real < 5
    assert clock.now() - start == timedelta(seconds=600)
    assert [i.error for i in rotation_lambdas.invocations(arn)] == [None] * 4
    clock.stop()
    assert bound_sleep_library.sleep is time.sleep  # given back when the clock stops


def test_a_thread_the_handler_starts_keeps_real_time_and_never_moves_the_clock(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    measured: list[float] = []

    def background():
        started = real_seconds()
        time.sleep(0.3)
        measured.append(real_seconds() - started)

    def handler(event, context):
        if event["Step"] == "createSecret":
            worker = threading.Thread(target=background)
            worker.start()
            worker.join()
        return rotators.correct(event, context)

    start = rotation_clock.now()
    arn = rotation_lambdas.register(handler)

    rotate(secretsmanager, secret, arn)

    assert measured
    assert measured[0] >= 0.25  # a real sleep
    assert rotation_clock.now() == start  # that never drove the fake clock


def test_a_thread_left_behind_cannot_reach_the_next_world(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import threading
            import time

            import boto3

            RESULTS = []


            def keeps_calling():
                for _ in range(100):
                    try:
                        # Built in the loop: the invocation's environment variables may be
                        # going away while the client reads them.
                        boto3.client("secretsmanager").list_secrets()
                        RESULTS.append("reached")
                    except Exception as error:
                        RESULTS.append(type(error).__name__)
                    time.sleep(0.02)


            def handler(event, context):
                threading.Thread(target=keeps_calling, daemon=True).start()


            def test_leaves_a_thread(secretsmanager, rotation_lambdas):
                secretsmanager.create_secret(Name="first", SecretString="x")
                arn = rotation_lambdas.register(handler)
                rotation_lambdas.invoke(rotation_lambdas.lookup(arn), {"Step": "createSecret"})


            def test_next_world_is_untouched(secretsmanager, rotation_kit):
                time.sleep(0.3)
                assert rotation_kit.events("ListSecrets") == []
                assert "RuntimeError" in RESULTS
            """
        )
    )

    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")

    result.assert_outcomes(passed=2)


@pytest.mark.parametrize("with_clock", [True, False], ids=["fake clock", "real clock"])
@pytest.mark.parametrize("blocking", ["event", "busy loop"])
def test_a_handler_blocked_in_real_time_times_out_after_its_timeout(
    request, secretsmanager, secret, rotation_lambdas, rotation_kit, with_clock, blocking
):
    clock = request.getfixturevalue("rotation_clock") if with_clock else None
    start = clock.now() if clock else None
    rotation_kit.configure(max_attempts=1)

    def blocked(event, context):
        if blocking == "event":
            threading.Event().wait()  # never set
        else:
            while True:
                pass

    arn = rotation_lambdas.register(blocked, timeout=1)
    real = real_seconds()

    rotate(secretsmanager, secret, arn)

    elapsed = real_seconds() - real
    (invocation,) = rotation_lambdas.invocations(arn)
    assert isinstance(invocation.error, TaskTimedOut)
    assert str(invocation.error) == "Task timed out after 1.00 seconds"
    assert invocation.stopped
    assert "Task timed out after 1.00 seconds" in invocation.logs
    assert 1 <= elapsed < 10
    # The rotation goes on as after any timeout, at the function's deadline on the fake clock.
    (failed,) = rotation_kit.events("RotationFailed")
    if clock is not None:
        assert failed.time == start + timedelta(seconds=1)


LOOPS_FOREVER = textwrap.dedent(
    """
    def lambda_handler(event, context):
        print("starting", event["Step"])
        while True:
            pass
    """
)


def test_the_cli_on_a_function_that_loops_forever_ends_within_seconds(tmp_path: Path) -> None:
    target = tmp_path / "loops_forever.py"
    target.write_text(LOOPS_FOREVER)
    src = Path(__file__).resolve().parents[1] / "src"
    real = real_seconds()

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "rotation_testkit",
            "check",
            f"{target}:lambda_handler",
            "--timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
    )

    assert real_seconds() - real < 60
    assert completed.returncode == 1, completed.stderr
    assert "FAIL  one-rotation" in completed.stdout
    assert "Task timed out after 1.00 seconds" in completed.stdout
    assert "hung past its 1 s timeout" in completed.stdout
    assert "starting createSecret" in completed.stdout  # its logs, under the failing check


def test_boto3_inside_a_handler_thread_reaches_the_backend(
    secretsmanager, secret, rotation_lambdas
):
    seen = []

    def handler(event, context):
        seen.append(
            boto3.client("secretsmanager").describe_secret(SecretId=event["SecretId"])["Name"]
        )
        return rotators.correct(event, context)

    rotate(secretsmanager, secret, rotation_lambdas.register(handler))

    assert seen == ["app/db"] * 4
