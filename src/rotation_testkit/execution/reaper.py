"""The first process of an execution environment: it runs the function's command and, when the
environment ends, ends every process that command started.

A process group is not enough: a child that calls ``setsid`` leaves it. On Linux this process
becomes a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``), so every orphaned descendant is
re-parented to it instead of to init, and the whole tree stays visible under it. It exits with the
command's status once the command ends, after killing what the command left behind; on SIGTERM
(the kit closing the environment), or when the kit itself is gone (its parent changes), it kills
the tree and exits.

Run as a script (``python reaper.py PROGRAM ARGS...``): it imports nothing but the standard library.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

_PR_SET_CHILD_SUBREAPER = 36
_PARENT_CHECK_SECONDS = 0.5

#: The exit status when the command cannot be started at all (as a shell reports it).
CANNOT_START = 127
#: How the first line of the reaper's own report starts when the command cannot start.
CANNOT_START_PREFIX = "rotation-testkit: cannot start"


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(option, value, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def descendants(root: int) -> list[int]:
    """Every process under ``root`` (from /proc; empty where there is none)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def kill_tree(root: int) -> None:
    """SIGKILL everything under ``root`` until nothing is left, reaping what becomes ours."""
    for _ in range(50):
        victims = descendants(root)
        if not victims:
            break
        for pid in victims:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        _reap_all()
        time.sleep(0.01)
    _reap_all()


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _wait_for_a_child() -> None:
    """Until a child's state changes, or for the parent-check interval at most."""
    if hasattr(signal, "sigtimedwait"):
        signal.sigtimedwait({signal.SIGCHLD}, _PARENT_CHECK_SECONDS)
    else:  # macOS has no sigtimedwait: poll
        time.sleep(0.05)


def main(argv: list[str]) -> int:
    if not argv:
        print(f"{CANNOT_START_PREFIX}: no command given", file=sys.stderr)
        return CANNOT_START
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    me, kit = os.getpid(), os.getppid()

    def stop(signum: int, frame: object) -> None:
        kill_tree(me)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # SIGCHLD is waited for, not handled: the loop below wakes on a child's end or every half
    # second, to notice a kit that died without closing the environment.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    try:
        child = os.fork()
    except OSError as error:
        print(f"{CANNOT_START_PREFIX} {argv[0]!r}: {error}", file=sys.stderr)
        return CANNOT_START
    if child == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        try:
            os.execvp(argv[0], argv)
        except OSError as error:
            print(f"{CANNOT_START_PREFIX} {argv[0]!r}: {error.strerror}", file=sys.stderr)
        os._exit(CANNOT_START)
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return 0
        if pid == child:
            kill_tree(me)  # what the command left behind ends with it, as in Lambda
            return os.waitstatus_to_exitcode(status) if status else 0
        if pid == 0:
            if os.getppid() != kit:
                stop(signal.SIGTERM, None)
            _wait_for_a_child()


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.exit(code if code >= 0 else 128 - code)
