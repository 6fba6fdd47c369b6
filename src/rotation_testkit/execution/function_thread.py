"""Run a handler so that a function blocked in real time can be timed out.

Lambda stops a function at its timeout whatever it is doing: waiting on a socket, on an Event, in a
busy loop. Called from the main thread, the handler runs right there, as Lambda's Python runtime
runs it, and :mod:`.deadline_watch` stops it at its deadline with a signal. Called from any other
thread (a request the HTTP endpoint serves), or where that signal cannot be used, it runs in a
worker thread while the caller waits at most the timeout (plus a small grace) in real seconds. A
handler still running then gets an exception raised inside it; one blocked in a C call that never
returns is left behind as a daemon thread, marked as abandoned so that it can no longer reach the
in-memory AWS (it must not disturb the next test) and never keeps the process from exiting.

Starting a thread costs more than most invocations, so a world keeps its workers
(:class:`Workers`): a worker whose call returned waits for the next one. A worker that had to be
stopped is never given another call, whether it unwound or not.

The worker is a bare ``_thread`` thread, not a ``threading.Thread``: freezegun serves real time to
code called from the ``threading`` module, and a handler started from ``Thread.run`` would see it.
"""

from __future__ import annotations

import _thread
import contextvars
import ctypes
import sys
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import deadline_watch
from .deadline_watch import Killed

__all__ = [
    "GRACE_SECONDS",
    "UNWIND_SECONDS",
    "Killed",
    "Outcome",
    "Workers",
    "abandon",
    "is_abandoned",
    "is_function_thread",
    "run_with_timeout",
    "stops_the_caller",
]

#: Real seconds a function may run past its timeout before it is stopped (scheduling noise).
GRACE_SECONDS = 0.25
#: Real seconds a stopped function gets to unwind before it is abandoned.
UNWIND_SECONDS = 1.0

_abandoned: set[int] = set()  # stopped workers still blocked, by ident (cleared when they end)
_abandoned_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
# Threads running a handler, with how many (a function run in its caller's thread may invoke
# another there).
_running: dict[int, int] = {}


def _enter(ident: int) -> None:
    _running[ident] = _running.get(ident, 0) + 1


def _leave(ident: int) -> None:
    depth = _running.get(ident, 0) - 1
    if depth > 0:
        _running[ident] = depth
    else:
        _running.pop(ident, None)


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


class _Worker:
    """A bare thread that runs one call at a time, until it is told to end."""

    def __init__(self) -> None:
        self._call: Callable[[], None] | None = None
        self._wake = _thread.allocate_lock()
        self._wake.acquire()
        self.done = _thread.allocate_lock()
        self.done.acquire()
        self.retired = False  # stopped once, or ended: never given another call
        _thread.start_new_thread(self._loop, ())

    def _loop(self) -> None:
        try:
            while True:
                self._wake.acquire()
                call, self._call = self._call, None
                if call is None:
                    return
                try:
                    call()
                finally:
                    retired = self.retired  # stopped, then returned at last: no more calls
                    self.done.release()
                if retired:
                    return
        except BaseException:  # a Killed that arrived after its call had returned
            pass

    def start(self, call: Callable[[], None]) -> None:
        self._call = call
        self._wake.release()

    def end(self) -> None:
        """Let an idle worker's thread finish."""
        self.retired = True
        self._call = None
        self._wake.release()


class Workers:
    """The idle workers of one world: a call takes one (or a new one, when a function invokes
    another while it runs) and gives it back when the call returned."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker()

    def give_back(self, worker: _Worker) -> None:
        if worker.retired:
            return
        with self._lock:
            self._idle.append(worker)

    def close(self) -> None:
        """End every idle worker's thread (the world is ending)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.end()


def run_with_timeout(
    call: Callable[[], Any],
    timeout: float,
    *,
    started: Callable[[int], None] = lambda ident: None,
    ended: Callable[[int], None] = lambda ident: None,
    workers: Workers | None = None,
    in_caller: bool = False,
) -> Outcome:
    """``call()``, stopped after ``timeout`` real seconds (then ``timed_out``); its outcome.

    ``started``/``ended`` run in the thread that runs the call, with its ident, around it.
    ``in_caller``: run it in the calling thread where it can still be stopped there (the main
    thread); otherwise, and by default, in a worker thread. ``workers``: where to take a worker
    from and give it back to (default: a new thread for this call only).
    """
    if in_caller and deadline_watch.usable_here():
        return _run_in_caller(call, timeout, started, ended)
    return _run_in_worker(call, timeout, started, ended, workers)


def _run_in_caller(
    call: Callable[[], Any],
    timeout: float,
    started: Callable[[int], None],
    ended: Callable[[int], None],
) -> Outcome:
    outcome = Outcome()
    context = contextvars.copy_context()
    ident = threading.get_ident()
    _enter(ident)
    started(ident)
    armed = deadline_watch.arm(timeout + GRACE_SECONDS)
    try:
        armed.running = True
        try:
            outcome.result = context.run(call)
        finally:
            armed.running = False  # a stop arriving from here on is not the handler's
    except Killed as stop:
        if stop.args and stop.args[0] is not armed:
            raise  # the deadline of a function further out passed: it unwinds too
        outcome.timed_out = True
        outcome.stopped = armed.stopped  # stopped in real time (not by a fake sleep's budget)
    except BaseException as error:  # reported as the function's error, not raised here
        outcome.error = error
    finally:
        deadline_watch.disarm(armed)
        _leave(ident)
        ended(ident)
    if outcome.error is not None and stops_the_caller(outcome.error):
        raise outcome.error
    return outcome


def _run_in_worker(
    call: Callable[[], Any],
    timeout: float,
    started: Callable[[int], None],
    ended: Callable[[int], None],
    workers: Workers | None,
) -> Outcome:
    outcome = Outcome()
    context = contextvars.copy_context()

    def work() -> None:
        ident = threading.get_ident()
        _enter(ident)
        started(ident)
        try:
            outcome.result = context.run(call)
        except Killed:
            outcome.timed_out = True
        except BaseException as error:  # reported as the function's error, not raised here
            outcome.error = error
        finally:
            _leave(ident)
            _abandoned.discard(ident)  # its ident may be reused by a new thread
            ended(ident)

    idents: list[int] = []

    def run() -> None:
        idents.append(threading.get_ident())
        work()

    pool = workers if workers is not None else Workers()
    worker = pool.take()
    worker.start(run)
    try:
        finished = worker.done.acquire(timeout=timeout + GRACE_SECONDS)
    except KeyboardInterrupt:  # Ctrl-C while the function runs: stop it, and stop the caller
        worker.retired = True
        if idents:
            _raise_in(idents[0])
            _abandoned.add(idents[0])
        raise
    if not finished:
        worker.retired = True
        outcome.timed_out = outcome.stopped = True
        if idents:
            _raise_in(idents[0])
        if not worker.done.acquire(timeout=UNWIND_SECONDS) and idents:
            _abandoned.add(idents[0])
        else:
            worker.end()  # it unwound: its thread ends rather than run another call
    elif workers is None:
        worker.end()
    else:
        pool.give_back(worker)
    if outcome.error is not None and stops_the_caller(outcome.error):
        raise outcome.error  # as if it ran in the caller's thread
    return outcome


def stops_the_caller(error: BaseException) -> bool:
    """An error that is not the function's to report but stops whoever invoked it: Ctrl-C, or
    pytest's own outcome of the test (``pytest.fail``, ``pytest.skip``; pytest-timeout's
    ``Failed: Timeout`` raised from its alarm while the handler runs). Any other error, a bare
    BaseException included, is the function's."""
    if isinstance(error, KeyboardInterrupt):
        return True
    outcomes = sys.modules.get("_pytest.outcomes")
    return outcomes is not None and isinstance(error, outcomes.OutcomeException)
