"""The worker threads that run handlers: kept for the next call, replaced once one was stopped."""

from __future__ import annotations

import threading
import time

from rotation_testkit.execution.function_thread import Workers, is_function_thread, run_with_timeout

_local = threading.local()


def _ident() -> int:
    assert is_function_thread()
    return threading.get_ident()


def _calls_on_this_thread() -> int:
    """How many calls this thread ran (thread-local: a new thread starts from one, even when it
    gets the ident of one that ended)."""
    _local.calls = getattr(_local, "calls", 0) + 1
    calls: int = _local.calls
    return calls


def test_calls_share_one_worker_thread_which_is_not_the_callers() -> None:
    workers = Workers()
    try:
        first = run_with_timeout(_ident, 5, workers=workers)
        second = run_with_timeout(_ident, 5, workers=workers)
    finally:
        workers.close()

    assert first.error is None
    assert first.result == second.result
    assert first.result != threading.get_ident()


def test_a_worker_stopped_at_its_timeout_is_never_given_another_call() -> None:
    workers = Workers()

    def hangs() -> None:
        while True:  # a busy wait in Python: the stop reaches it
            time.sleep(0.01)

    try:
        first = run_with_timeout(_calls_on_this_thread, 5, workers=workers)
        second = run_with_timeout(_calls_on_this_thread, 5, workers=workers)
        stopped = run_with_timeout(hangs, 0.1, workers=workers)
        after = run_with_timeout(_calls_on_this_thread, 5, workers=workers)
    finally:
        workers.close()

    assert (first.result, second.result) == (1, 2)  # the same worker, kept
    assert stopped.timed_out
    assert stopped.stopped
    assert after.error is None
    assert after.result == 1  # a new thread


def test_a_function_that_invokes_another_gets_a_second_worker() -> None:
    workers = Workers()

    def outer() -> tuple[int, int]:
        inner = run_with_timeout(_ident, 5, workers=workers)
        return threading.get_ident(), inner.result

    try:
        outcome = run_with_timeout(outer, 5, workers=workers)
    finally:
        workers.close()

    assert outcome.error is None
    outer_ident, inner_ident = outcome.result
    assert outer_ident != inner_ident
