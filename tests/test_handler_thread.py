"""Where a handler runs: in the thread that invoked it when that is the main thread, as Lambda's
Python runtime runs handlers (so code that needs the main thread, such as a SIGALRM guard around a
slow call, works), stopped at its deadline all the same; in a worker thread otherwise."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rotators
from rotation_testkit import TaskTimedOut
from rotation_testkit.execution import deadline_watch
from rotation_testkit.execution.function_thread import run_with_timeout

RULES = {"AutomaticallyAfterDays": 30}


class _SlowCall(Exception):
    pass


def _guarded(seconds: int) -> Any:
    """The SIGALRM guard many functions put around a call that may hang (needs the main thread)."""

    def give_up(signum: int, frame: Any) -> None:
        raise _SlowCall(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    return previous


def _unguard(previous: Any) -> None:
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_handler_that_sets_a_sigalrm_guard_rotates_as_in_lambda(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    threads = []

    def handler(event: dict[str, Any], context: Any) -> None:
        threads.append(threading.current_thread() is threading.main_thread())
        previous = _guarded(30)
        try:
            rotators.correct(event, context)
        finally:
            _unguard(previous)

    arn = rotation_lambdas.register(handler)
    secretsmanager.rotate_secret(SecretId=secret, RotationLambdaARN=arn, RotationRules=RULES)

    assert [inv.error for inv in rotation_lambdas.invocations(arn)] == [None] * 4
    assert threads == [True] * 4
    assert rotation_kit.events("RotationSucceeded")


def test_a_handler_blocked_reading_a_socket_is_stopped_at_its_timeout(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)
    quiet, _peer = socket.socketpair()

    def waits_for_an_answer(event: dict[str, Any], context: Any) -> None:
        quiet.recv(1)  # nothing is ever sent

    arn = rotation_lambdas.register(waits_for_an_answer, timeout=1)
    try:
        secretsmanager.rotate_secret(SecretId=secret, RotationLambdaARN=arn, RotationRules=RULES)
    finally:
        quiet.close()
        _peer.close()

    (invocation,) = rotation_lambdas.invocations(arn)
    assert isinstance(invocation.error, TaskTimedOut)
    assert invocation.stopped
    assert rotation_kit.events("RotationFailed")


def test_a_function_that_invokes_another_keeps_its_log_and_outlives_the_others_timeout(
    secretsmanager, secret, rotation_lambdas
):
    def hangs(event: dict[str, Any], context: Any) -> None:
        threading.Event().wait()

    inner_arn = rotation_lambdas.register(hangs, name="inner", timeout=1)

    def outer(event: dict[str, Any], context: Any) -> str:
        print("before the inner function")
        inner = rotation_lambdas.invoke(rotation_lambdas.lookup(inner_arn), {"Step": "x"})
        print("after the inner function:", type(inner.error).__name__)
        return "done"

    outer_arn = rotation_lambdas.register(outer, name="outer", timeout=30)
    result = rotation_lambdas.invoke(rotation_lambdas.lookup(outer_arn), {"Step": "x"})

    assert result.error is None
    assert result.result == "done"
    assert "before the inner function" in result.logs
    assert "after the inner function: TaskTimedOut" in result.logs
    (inner,) = rotation_lambdas.invocations(inner_arn)
    assert inner.stopped


def test_a_function_stopped_while_another_it_invoked_runs_stops_both(
    secretsmanager, secret, rotation_lambdas
):
    def hangs(event: dict[str, Any], context: Any) -> None:
        threading.Event().wait()

    inner_arn = rotation_lambdas.register(hangs, name="inner", timeout=60)

    def outer(event: dict[str, Any], context: Any) -> None:
        rotation_lambdas.invoke(rotation_lambdas.lookup(inner_arn), {"Step": "x"})

    outer_arn = rotation_lambdas.register(outer, name="outer", timeout=1)
    result = rotation_lambdas.invoke(rotation_lambdas.lookup(outer_arn), {"Step": "x"})

    assert isinstance(result.error, TaskTimedOut)
    assert result.stopped
    (inner,) = rotation_lambdas.invocations(inner_arn)
    assert isinstance(inner.error, TaskTimedOut)
    assert inner.stopped
    assert "Task timed out" in inner.logs


# --- the runner itself ---------------------------------------------------------------------------


def test_a_call_from_the_main_thread_runs_in_it() -> None:
    outcome = run_with_timeout(threading.get_ident, 5, in_caller=True)

    assert outcome.error is None
    assert outcome.result == threading.get_ident()


def test_a_call_from_another_thread_runs_in_a_worker() -> None:
    seen: dict[str, Any] = {}

    def caller() -> None:
        seen["caller"] = threading.get_ident()
        seen["outcome"] = run_with_timeout(threading.get_ident, 5, in_caller=True)

    thread = threading.Thread(target=caller)
    thread.start()
    thread.join()

    assert seen["outcome"].error is None
    assert seen["outcome"].result not in (seen["caller"], threading.get_ident())


@pytest.fixture
def signal_taken() -> Iterator[list[int]]:
    """The program uses the watchdog's signal itself."""
    assert deadline_watch.STOP_SIGNAL is not None
    received: list[int] = []
    previous = signal.signal(deadline_watch.STOP_SIGNAL, lambda signum, frame: received.append(1))
    try:
        yield received
    finally:
        signal.signal(deadline_watch.STOP_SIGNAL, previous)


def test_a_program_that_uses_the_signal_keeps_it_and_its_handlers_run_in_a_worker(
    signal_taken: list[int],
) -> None:
    def loops() -> None:
        while True:
            pass

    ran_in = run_with_timeout(threading.get_ident, 5, in_caller=True)
    stopped = run_with_timeout(loops, 0.2, in_caller=True)

    assert ran_in.result != threading.get_ident()
    assert stopped.timed_out
    assert stopped.stopped
    assert signal_taken == []  # the program's handler never saw a stop meant for a function


def test_a_handler_that_catches_the_stop_gets_it_again() -> None:
    caught: list[str] = []

    def stubborn() -> None:
        try:
            threading.Event().wait()
        except BaseException as error:
            caught.append(type(error).__name__)
        threading.Event().wait()

    outcome = run_with_timeout(stubborn, 0.2, in_caller=True)

    assert caught == ["Killed"]
    assert outcome.timed_out
    assert outcome.stopped


def test_a_stop_that_arrives_after_the_call_returned_is_ignored() -> None:
    armed = deadline_watch.arm(60)
    armed.stop_due = True  # as if the watchdog fired just as the handler returned
    try:
        assert deadline_watch.STOP_SIGNAL is not None
        signal.raise_signal(deadline_watch.STOP_SIGNAL)  # armed, but not running
    finally:
        deadline_watch.disarm(armed)


def test_a_stop_outside_any_call_is_not_raised() -> None:
    outcome = run_with_timeout(lambda: None, 5, in_caller=True)  # installs the handler
    assert outcome.error is None
    assert deadline_watch.STOP_SIGNAL is not None
    signal.raise_signal(deadline_watch.STOP_SIGNAL)


def _stopped_in_a_child(results: Any) -> None:
    def loops() -> None:
        while True:
            pass

    outcome = run_with_timeout(loops, 0.2, in_caller=True)
    results.put((outcome.timed_out, outcome.stopped))


def test_a_process_forked_after_the_watchdog_started_stops_its_own_handlers() -> None:
    import multiprocessing

    run_with_timeout(lambda: None, 5, in_caller=True)  # the parent's watchdog is running
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_stopped_in_a_child, args=(results,))
    child.start()
    try:
        assert results.get(timeout=30) == (True, True)
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()


def _fails_the_test() -> None:
    pytest.fail("decided by the test")


class _Halt(BaseException):
    """A bare BaseException from careless code: the function's error, like any other."""


def _halts() -> None:
    raise _Halt()


@pytest.mark.parametrize("in_caller", [True, False], ids=["caller's thread", "worker"])
def test_pytests_own_outcome_stops_the_caller_and_a_bare_base_exception_does_not(
    in_caller: bool,
) -> None:
    with pytest.raises(pytest.fail.Exception, match="decided by the test"):
        run_with_timeout(_fails_the_test, 5, in_caller=in_caller)

    outcome = run_with_timeout(_halts, 5, in_caller=in_caller)

    assert isinstance(outcome.error, _Halt)


def test_an_alarm_that_fails_the_test_while_a_handler_runs_fails_the_test(
    pytester: pytest.Pytester,
) -> None:
    # pytest-timeout's signal method: SIGALRM, then pytest.fail("Timeout") wherever the test is.
    pytester.makepyfile(
        """
        import signal

        import pytest


        def loops(event, context):
            while True:
                pass


        def test_hangs_in_a_handler(secretsmanager, rotation_lambdas):
            signal.signal(signal.SIGALRM, lambda signum, frame: pytest.fail("Timeout >1s"))
            signal.setitimer(signal.ITIMER_REAL, 0.5)
            secretsmanager.create_secret(Name="app/db", SecretString="{}")
            arn = rotation_lambdas.register(loops, timeout=60)
            try:
                secretsmanager.rotate_secret(
                    SecretId="app/db",
                    RotationLambdaARN=arn,
                    RotationRules={"AutomaticallyAfterDays": 30},
                )
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Failed: Timeout >1s*"])


TRACED_RUN = """
import sys

from rotation_testkit.world import World

seen = set()


def tracer(frame, event, arg):
    # What coverage.py does for the thread that runs the tests.
    if frame.f_code.co_name == "handler":
        seen.add(frame.f_code.co_name)
    return tracer


def handler(event, context):
    return "ran"


world = World()
with world.activate():
    function = world.lambdas.lookup(world.lambdas.register(handler, name="traced"))
    sys.settrace(tracer)
    try:
        invocation = world.lambdas.invoke(function, {"Step": "createSecret"})
    finally:
        sys.settrace(None)
print(invocation.result, sorted(seen))
"""


def test_a_tracer_of_the_tests_thread_sees_the_handler_run(tmp_path: Path) -> None:
    # Coverage tools trace the thread that runs the tests: the handler's lines count.
    script = tmp_path / "traced_run.py"
    script.write_text(TRACED_RUN)
    src = Path(__file__).resolve().parents[1] / "src"
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ran", "['handler']"]
