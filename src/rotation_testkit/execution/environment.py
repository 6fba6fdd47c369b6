"""One Lambda execution environment: a process started from a command, with its Runtime API.

Like a container started from an image's ENTRYPOINT/CMD, the process runs the function's runtime
interface client, which asks the environment's Runtime API for events. The process's stdout and
stderr are the function's log. A timed-out or failed environment is killed with its whole process
group (``npx`` and shells start children), and every thread it used is joined.

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
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .runtime_api import PendingInvocation, RuntimeApiServer

# How long the kit waits, after an answer, for the runtime to ask for the next event, so that what
# the function printed before answering lands in this invocation's log.
_SETTLE_SECONDS = 2.0


def real_monotonic() -> float:
    """Seconds on a clock the fake clock does not stop."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def real_epoch_ms() -> int:
    """Milliseconds since the epoch, real (the function compares its deadline with real time)."""
    return int(time.clock_gettime(time.CLOCK_REALTIME) * 1000)


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


class _LogPump:
    """Reads the process's stdout and stderr as they come, so it never blocks on a full pipe."""

    def __init__(self, *streams: Any) -> None:
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
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
                    self._chunks.append(data)
            except BlockingIOError:
                return
            except (OSError, ValueError):
                pass
            # End of file (or a closed pipe): stop watching this stream.
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(stream)

    def take(self) -> str:
        """Everything written so far and not yet taken (what is still in the pipes included)."""
        for key in list(self._selector.get_map().values()):
            self._read(key.fileobj)
        with self._lock:
            data, self._chunks = b"".join(self._chunks), []
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        self._selector.close()


class ExecutionEnvironment:
    """A process running the command, the Runtime API it polls, and its log."""

    def __init__(self, command: str, *, cwd: str, env: Mapping[str, str]) -> None:
        self.command = command
        self.api = RuntimeApiServer()
        self.api.start()
        environ = dict(env)
        environ["AWS_LAMBDA_RUNTIME_API"] = self.api.address
        try:
            self.process = subprocess.Popen(
                shlex.split(command),
                cwd=cwd,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, killed as one
            )
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
        deadline = started + timeout
        pending = PendingInvocation(
            request_id=request_id,
            event=json.dumps(dict(event)).encode(),
            headers={
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Deadline-Ms": str(real_epoch_ms() + int(timeout * 1000)),
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
                    break
                remaining = deadline - real_monotonic()
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
        # The whole group: even when the leader is gone, children it started may not be.
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


def _decode(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
