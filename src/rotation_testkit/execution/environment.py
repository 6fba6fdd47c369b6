"""One Lambda execution environment: a process started from a command, with its Runtime API.

Like a container started from an image's ENTRYPOINT/CMD, the process runs the function's runtime
interface client, which asks the environment's Runtime API for events. The process's stdout and
stderr are the function's log, kept per invocation within a size limit (its head and its tail). The command
runs under a small reaper process (:mod:`.reaper`), so a timed-out or failed environment is killed
with every process it started, even one that left the process group with ``setsid``; every thread
it used is joined.

An environment whose runtime never asks for an event within a start-up limit, or whose process
exits before asking, cannot run the function at all: the outcome says so
(``Outcome.startup_failure``), and the caller treats it as a failure of the harness, not of the
function.

The kit's fake clock freezes ``time.monotonic`` and ``time.time`` in this process; the function in
the other process runs in real time, so deadlines here are read from ``time.clock_gettime``, which
the fake clock leaves alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..foundations.capped_text import CappedBytes
from . import reaper
from .deadline_watch import real_monotonic
from .runtime_api import PendingInvocation, RuntimeApiServer

# How long the kit waits, after an answer, for the runtime to ask for the next event, so that what
# the function printed before answering lands in this invocation's log.
_SETTLE_SECONDS = 2.0

#: How long a new environment's runtime may take to ask for its first event (Lambda's own init
#: limit is 10 s; a cold ``npx`` or JVM start takes longer on a developer's machine).
STARTUP_SECONDS = 30.0


class EnvironmentStartError(RuntimeError):
    """The command could not be started at all (not found, not executable)."""


@dataclass
class Outcome:
    """How one invocation ended in the environment."""

    result: Any = None
    error: dict[str, Any] | None = None  # errorType, errorMessage, stackTrace
    timed_out: bool = False
    init_error: bool = False
    exit_status: int | None = None  # the process ended before answering
    logs: str = ""
    seconds: float = 0.0
    #: Why the environment could not run the function at all (it never asked for an event).
    startup_failure: str | None = None


class _LogPump:
    """Reads the process's stdout and stderr as they come, so it never blocks on a full pipe."""

    def __init__(self, *streams: Any) -> None:
        self._lock = threading.Lock()
        self._kept = CappedBytes()
        self._selector = selectors.DefaultSelector()
        for stream in streams:
            os.set_blocking(stream.fileno(), False)
            self._selector.register(stream, selectors.EVENT_READ)
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="rotation-testkit-logs", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop and self._selector.get_map():
            for key, _ in self._selector.select(0.1):
                self._read(key.fileobj)

    def _read(self, stream: Any) -> None:
        with self._lock:
            try:
                while data := os.read(stream.fileno(), 65536):
                    self._kept.add(data)
            except BlockingIOError:
                return
            except (OSError, ValueError):
                pass
            # End of file (or a closed pipe): stop watching this stream.
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(stream)

    def take(self) -> str:
        """What was written since the last take (what is still in the pipes included), its middle
        left out past the size limit."""
        for key in list(self._selector.get_map().values()):
            self._read(key.fileobj)
        with self._lock:
            kept, self._kept = self._kept, CappedBytes()
        return kept.text()

    def peek(self) -> str:
        """What :meth:`take` would return, left to take."""
        for key in list(self._selector.get_map().values()):
            self._read(key.fileobj)
        with self._lock:
            return self._kept.text()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        self._selector.close()


class ExecutionEnvironment:
    """A process running the command, the Runtime API it polls, and its log."""

    def __init__(
        self,
        command: str,
        *,
        cwd: str,
        env: Mapping[str, str],
        startup_seconds: float | None = None,
    ) -> None:
        self.command = command
        self.startup_seconds = STARTUP_SECONDS if startup_seconds is None else startup_seconds
        argv = shlex.split(command)
        _require_program(argv[0] if argv else "", cwd, env)
        self.api = RuntimeApiServer()
        self.api.expect_owner()  # only the processes started below may ask for events
        self.api.start()
        environ = dict(env)
        environ["AWS_LAMBDA_RUNTIME_API"] = self.api.address
        try:
            self.process = subprocess.Popen(
                [sys.executable, reaper.__file__, *argv],
                cwd=cwd,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, killed as one
            )
            self.started = real_monotonic()
            self.api.set_owner(self.process.pid)
        except (OSError, ValueError) as error:
            self.api.close()
            raise EnvironmentStartError(
                f"could not start {command!r} in {cwd}: {error}. Check that the program is "
                "installed and on PATH, and that the working directory is right."
            ) from None
        self._logs = _LogPump(self.process.stdout, self.process.stderr)
        self.invocations = 0
        self.closed = False

    @property
    def alive(self) -> bool:
        return not self.closed and self.process.poll() is None

    def invoke(
        self, event: Mapping[str, Any], *, request_id: str, function_arn: str, timeout: float
    ) -> Outcome:
        """Hand the event to the runtime and wait, at most ``timeout`` real seconds, for its answer."""
        self.invocations += 1
        started = real_monotonic()
        pending = PendingInvocation(
            request_id=request_id,
            event=json.dumps(dict(event)).encode(),
            timeout_ms=int(timeout * 1000),  # the deadline runs from when the runtime takes it
            headers={
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Invoked-Function-Arn": function_arn,
                "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.clock_gettime(time.CLOCK_REALTIME)):08x}-{request_id.replace('-', '')[:24]};Sampled=0",
            },
        )
        state = self.api.state
        outcome = Outcome()
        with state.changed:
            self.api.offer(pending)
            while True:
                if pending.answered:
                    break
                if state.init_error is not None:
                    outcome.error, outcome.init_error = state.init_error, True
                    break
                status = self.process.poll()
                if status is not None:
                    outcome.exit_status = status
                    if state.polls == 0:
                        outcome.startup_failure = self._exited_at_start(status)
                    break
                if not pending.delivered:
                    # Until the runtime takes the event (its init phase, for a new process) the
                    # wait has a limit of its own, as Lambda's init phase does.
                    since = self.started if state.polls == 0 else started
                    remaining = since + self.startup_seconds - real_monotonic()
                    if remaining <= 0:
                        outcome.startup_failure = self._not_asking(state.polls)
                        break
                else:
                    remaining = pending.delivered_at + timeout - real_monotonic()
                    if remaining <= 0:
                        outcome.timed_out = True
                        break
                state.changed.wait(min(remaining, 0.05))
        outcome.seconds = real_monotonic() - started
        if pending.answered:
            outcome.error = pending.error
            if pending.error is None:
                outcome.result = _decode(pending.result)
            self._settle(pending.poll)
            outcome.logs = self._logs.take()
        else:
            # Lambda discards an environment that timed out, failed to start or exited.
            self._kill()
            outcome.logs = self._logs.take()
            self.close()
        return outcome

    def _not_asking(self, polls: int) -> str:
        if polls == 0:
            return (
                f"the command {self.command!r} did not ask the Runtime API for an event within "
                f"{self.startup_seconds:g} s of starting: it is not a Lambda runtime interface "
                "client, or it hangs while it starts. Run it by hand with AWS_LAMBDA_RUNTIME_API "
                "set to see what it does."
            )
        return (
            f"the function's runtime stopped asking the Runtime API for events: it answered "
            f"{self.invocations - 1} invocation(s), then did not ask for the next one within "
            f"{self.startup_seconds:g} s. The command: {self.command!r}."
        )

    def _exited_at_start(self, status: int) -> str:
        """Why a process that ended before asking for any event could not run the function."""
        output = self._logs.peek()
        if status == reaper.CANNOT_START or reaper.CANNOT_START_PREFIX in output:
            line = next(
                (x for x in output.splitlines() if reaper.CANNOT_START_PREFIX in x),
                f"exit status {status}",
            )
            return (
                f"the command {self.command!r} could not start its program ({line.strip()}). "
                "Install it (npm ci for npx, pip install awslambdaric for Python) or fix the command."
            )
        last = [line for line in output.splitlines() if line.strip()][-3:]
        said = f" Its last output: {' | '.join(last)[-400:]}" if last else ""
        return (
            f"the function's process exited with status {status} while it started (before it "
            f"asked for any event), e.g. its module exits when imported. The command: "
            f"{self.command!r}.{said}"
        )

    def _settle(self, delivered_at_poll: int) -> None:
        """Wait until the runtime asks for its next event (or exits): its output is then written."""
        state = self.api.state
        limit = real_monotonic() + _SETTLE_SECONDS
        with state.changed:
            while state.polls <= delivered_at_poll and self.process.poll() is None:
                remaining = limit - real_monotonic()
                if remaining <= 0:
                    break
                state.changed.wait(min(remaining, 0.05))

    def _kill(self) -> None:
        # The reaper kills every process the command started (setsid ones included), then
        # exits; the group kill after it covers a platform without a subreaper.
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                self.process.send_signal(signal.SIGTERM)
            # Waited for on the real clock: subprocess's own timeout reads time.monotonic and
            # sleeps, which the fake clock stops in a function's thread.
            limit = real_monotonic() + 5
            while self.process.poll() is None and real_monotonic() < limit:
                threading.Event().wait(0.01)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def close(self) -> None:
        """Kill the process group, reap it, stop the Runtime API and join every thread."""
        if self.closed:
            return
        self.closed = True
        self._kill()
        self.api.close()
        self._logs.take()
        self._logs.close()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def _require_program(program: str, cwd: str, env: Mapping[str, str]) -> None:
    """Refuse, naming it, a program that is not there (the reaper would only exit 127)."""
    if os.sep in program:
        found = os.access(os.path.join(cwd, program), os.X_OK)
    else:
        found = bool(program) and shutil.which(program, path=env.get("PATH")) is not None
    if not found:
        raise EnvironmentStartError(
            f"could not start {program!r} in {cwd}: it is not on the function's PATH or not "
            "executable. Check that the program is installed and on PATH, and that the working "
            "directory is right."
        )


def _decode(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
