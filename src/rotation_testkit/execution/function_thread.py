"""Run a handler in a thread of its own, so a function blocked in real time can be timed out.

Lambda stops a function at its timeout whatever it is doing: waiting on a socket, on an Event, in a
busy loop. In process, the handler runs in a worker thread while the caller waits at most the
timeout (plus a small grace) in real seconds. A handler still running then gets an exception raised
inside it; one blocked in a C call that never returns is left behind as a daemon thread, marked as
abandoned so that it can no longer reach the in-memory AWS (it must not disturb the next test) and
never keeps the process from exiting.

The worker is a bare ``_thread`` thread, not a ``threading.Thread``: freezegun serves real time to
code called from the ``threading`` module, and a handler started from ``Thread.run`` would see it.
"""

from __future__ import annotations

import _thread
import contextvars
import ctypes
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: Real seconds a function may run past its timeout before it is stopped (scheduling noise).
GRACE_SECONDS = 0.25
#: Real seconds a stopped function gets to unwind before it is abandoned.
UNWIND_SECONDS = 1.0

_abandoned: set[int] = set()  # stopped workers still blocked, by ident (cleared when they end)
_abandoned_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
_running: set[int] = set()


class Killed(BaseException):
    """Raised inside a function Lambda stops from outside; a handler's ``except Exception`` cannot
    swallow it."""


@dataclass
class Outcome:
    result: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    stopped: bool = False  # still running in real time past the timeout, then stopped


def is_function_thread(ident: int | None = None) -> bool:
    """Is this thread (by default the current one) running a function's handler?"""
    return (threading.get_ident() if ident is None else ident) in _running


def is_abandoned(ident: int | None = None) -> bool:
    """Is this thread a timed-out function that never stopped, or a thread a function started
    that outlived its world?"""
    if ident is None:
        return (
            threading.get_ident() in _abandoned or threading.current_thread() in _abandoned_threads
        )
    return ident in _abandoned


def abandon(threads: Iterable[threading.Thread]) -> None:
    """These threads outlived the world they were started in: they may not reach the next one."""
    for thread in threads:
        # Worker threads show up as dummies, kept by threading after they end (and their idents
        # reused): those are tracked by ident above instead.
        if thread.is_alive() and not isinstance(thread, threading._DummyThread):
            _abandoned_threads.add(thread)


def _raise_in(ident: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(Killed))


def run_with_timeout(
    call: Callable[[], Any],
    timeout: float,
    *,
    started: Callable[[int], None] = lambda ident: None,
    ended: Callable[[int], None] = lambda ident: None,
) -> Outcome:
    """``call()`` in a worker thread; its outcome, or ``timed_out`` after ``timeout`` real seconds.

    ``started``/``ended`` run in the worker thread, with its ident, around the call.
    """
    outcome = Outcome()
    context = contextvars.copy_context()

    def work() -> None:
        ident = threading.get_ident()
        _running.add(ident)
        started(ident)
        try:
            outcome.result = context.run(call)
        except Killed:
            outcome.timed_out = True
        except BaseException as error:  # reported as the function's error, not raised here
            outcome.error = error
        finally:
            _running.discard(ident)
            _abandoned.discard(ident)  # its ident may be reused by a new thread
            ended(ident)

    done = _thread.allocate_lock()
    done.acquire()
    idents: list[int] = []

    def run() -> None:
        idents.append(threading.get_ident())
        try:
            work()
        finally:
            done.release()

    _thread.start_new_thread(run, ())
    try:
        finished = done.acquire(timeout=timeout + GRACE_SECONDS)
    except KeyboardInterrupt:  # Ctrl-C while the function runs: stop it, and stop the caller
        if idents:
            _raise_in(idents[0])
            _abandoned.add(idents[0])
        raise
    if isinstance(outcome.error, KeyboardInterrupt):
        raise outcome.error  # the handler's own, as if it ran in the caller's thread
    if not finished:
        outcome.timed_out = outcome.stopped = True
        if idents:
            _raise_in(idents[0])
        if not done.acquire(timeout=UNWIND_SECONDS) and idents:
            _abandoned.add(idents[0])
    return outcome
