"""Stop a handler that runs in the caller's own thread when its deadline passes.

Handing each invocation to another thread costs more than most invocations do: the hand-off itself,
and the handler's objects moving between the caches of two cores. So a handler called from the main
thread runs in it, as Lambda's own Python runtime runs handlers. What stops it at its timeout is one
watchdog thread for the process: it looks at the running deadlines a few times a second (arming a
deadline writes to a dict and wakes nothing, unless the watchdog had gone idle) and, when one has
passed, sends that thread a signal whose handler raises :class:`Killed` there. Unlike an exception
set from another thread, a signal also ends a wait inside a system call: an Event never set, a
socket that never answers.

Python runs signal handlers in the main thread only, and the signal must be one nobody else uses:
:func:`usable_here` says whether both hold. Where they do not (a request served by the HTTP
endpoint's threads, a platform without real-time signals, a program that installed its own handler
on that signal), callers run the handler in a worker thread instead.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

#: The signal the watchdog sends: a real-time one, which Python, its libraries and test runners
#: leave alone (None where the platform has none).
STOP_SIGNAL: int | None = (
    int(signal.SIGRTMAX) - 2
    if hasattr(signal, "SIGRTMAX") and hasattr(signal, "pthread_kill")
    else None
)
#: How often the watchdog looks at the deadlines while handlers run (real seconds).
POLL_SECONDS = 0.05
#: A handler that caught the stop and went on gets it again after this long.
REPEAT_SECONDS = 1.0
#: Nothing armed for this long: the watchdog waits without polling until the next deadline.
IDLE_SECONDS = 2.0


class Killed(BaseException):
    """Raised inside a function Lambda stops from outside; a handler's ``except Exception`` cannot
    swallow it. Raised by the watchdog it carries the :class:`Armed` deadline that passed."""


def real_monotonic() -> float:
    """Seconds on a clock the fake clock does not stop."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


@dataclass(eq=False)
class Armed:
    """One running handler's deadline, in the thread that runs it."""

    ident: int
    deadline: float
    running: bool = False  # the handler's code, not the kit's set-up around it, is running
    stop_sent_at: float | None = None
    stop_due: bool = False  # sent, and not raised in the thread yet

    @property
    def stopped(self) -> bool:
        return self.stop_sent_at is not None


@dataclass
class _Watch:
    armed: dict[int, list[Armed]] = field(default_factory=dict)  # per thread, outermost first
    lock: threading.Lock = field(default_factory=threading.Lock)
    wake: _thread.LockType = field(default_factory=_thread.allocate_lock)
    started: bool = False
    idle: bool = False
    last_armed: float = 0.0


_watch = _Watch()


def _forget_after_fork() -> None:
    # A child process has none of the parent's threads: it starts its own watchdog when needed.
    global _watch
    _watch = _Watch()


if hasattr(os, "register_at_fork"):  # POSIX only; elsewhere there is no watchdog to forget
    os.register_at_fork(after_in_child=_forget_after_fork)


def usable_here() -> bool:
    """Can a handler run in this thread and still be stopped at its deadline?"""
    if STOP_SIGNAL is None or threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(STOP_SIGNAL)
    if current is _on_stop_signal:
        return True
    if current not in (signal.SIG_DFL, None):
        return False  # the program uses this signal itself
    signal.signal(STOP_SIGNAL, _on_stop_signal)
    return True


def arm(seconds: float) -> Armed:
    """Start watching a deadline ``seconds`` from now for the calling thread."""
    now = real_monotonic()
    armed = Armed(threading.get_ident(), now + seconds)
    with _watch.lock:
        _watch.armed.setdefault(armed.ident, []).append(armed)
        _watch.last_armed = now
        if not _watch.started:
            _watch.started = True
            _watch.wake.acquire()
            _thread.start_new_thread(_watch_deadlines, ())
        elif _watch.idle:
            _watch.idle = False
            _watch.wake.release()
    return armed


def disarm(armed: Armed) -> None:
    """The handler returned (or unwound): stop watching its deadline, and any a stop cut short
    inside it."""
    armed.running = armed.stop_due = False
    with _watch.lock:
        stack = _watch.armed.get(armed.ident, [])
        if armed in stack:
            del stack[stack.index(armed) :]
        if not stack:
            _watch.armed.pop(armed.ident, None)


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    # Runs in the main thread between two bytecodes, or when a system call it waits in is
    # interrupted; it takes no lock (the thread may hold one already). The outermost passed
    # deadline wins: everything inside it unwinds too. Only a running handler is stopped, never
    # the kit's own code around it.
    for armed in list(_watch.armed.get(threading.get_ident(), ())):
        if armed.stop_due and armed.running:
            armed.stop_due = False
            raise Killed(armed)


def _watch_deadlines() -> None:
    while True:
        due: list[int] = []
        with _watch.lock:
            now = real_monotonic()
            for ident, stack in _watch.armed.items():
                for armed in stack:
                    if now < armed.deadline:
                        continue
                    if armed.stop_sent_at is None or now - armed.stop_sent_at >= REPEAT_SECONDS:
                        armed.stop_sent_at, armed.stop_due = now, True
                        due.append(ident)
                    break
            if not _watch.armed and now - _watch.last_armed > IDLE_SECONDS:
                _watch.idle = True
        for ident in due:
            assert STOP_SIGNAL is not None
            with contextlib.suppress(OSError):  # the thread is gone
                signal.pthread_kill(ident, STOP_SIGNAL)
        if _watch.idle:
            _watch.wake.acquire()  # until a deadline is armed again
        else:
            _watch.wake.acquire(timeout=POLL_SECONDS)
