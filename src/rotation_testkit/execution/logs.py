"""What a function writes, kept as CloudWatch Logs would hold it.

Lambda's Python runtime sends the function's stdout and stderr to its log stream, and puts a handler
on the root logger that formats every record reaching it as
``[LEVEL]\\t<time>Z\\t<request id>\\t<message>``. So a record the function's loggers let through
(their level, ``propagate``) is kept, whatever handlers the test process put on its own loggers.

While a function runs, its output goes here only: it must not reach the terminal in the middle of a
report, nor pytest's captured output (the kit shows it under the step that wrote it instead).
"""

from __future__ import annotations

import io
import logging
import math
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, TextIO

from ..foundations.capped_text import CappedText


def lambda_time(when: float | None = None) -> str:
    """A timestamp as the runtime writes it: 2025-01-01T09:00:00.000Z (the fake clock's, if on)."""
    moment = (
        datetime.now(timezone.utc)
        if when is None
        else datetime.fromtimestamp(when, tz=timezone.utc)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class LambdaLogFormatter(logging.Formatter):
    """The runtime's format for a logging record."""

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        return f"[{record.levelname}]\t{lambda_time(record.created)}\t{self.request_id}\t{message}"


class _ThreadedStream(io.TextIOBase):
    """sys.stdout/sys.stderr while functions run: each function thread writes to its own log."""

    def __init__(self, fallback: TextIO) -> None:
        self.fallback = fallback
        self.logs = _routes  # shared: a handler may still hold a stream made for an earlier run

    def writable(self) -> bool:
        return True

    def buffer(self) -> LogBuffer | None:
        """Where the current thread's output goes: its function's log, or, for a thread a
        function started, the log of the function running now (the test's own thread is waiting
        for it, so nothing else writes meanwhile)."""
        found = self.logs.get(threading.get_ident())
        if found is None and self.logs:
            found = list(self.logs.values())[-1]
        return found

    def write(self, text: str) -> int:
        buffer = self.buffer()
        if buffer is None:
            return self.fallback.write(text)
        buffer.write(text)
        return len(text)

    def flush(self) -> None:
        if self.buffer() is None:
            self.fallback.flush()


class LogBuffer:
    """One invocation's log, in the order things were written."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self._kept = CappedText()  # a function printing megabytes keeps its head and tail
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            self._kept.add(text)

    def line(self, text: str) -> None:
        self.write(text if text.endswith("\n") else text + "\n")

    def text(self) -> str:
        with self._lock:
            return self._kept.text()


class _BufferHandler(logging.Handler):
    def __init__(self, streams: _ThreadedStream) -> None:
        super().__init__(logging.NOTSET)
        self.streams = streams

    def emit(self, record: logging.LogRecord) -> None:
        buffer = self.streams.buffer()
        if buffer is None or _written_to_log_already(record):
            return
        try:
            formatter = LambdaLogFormatter(buffer.request_id)
            buffer.line(formatter.format(record))
        except Exception:  # a broken record must not fail the function, as in Lambda
            self.handleError(record)


_lock = threading.Lock()
_routes: dict[int, LogBuffer] = {}  # thread ident -> the log its output goes to
_active = 0
_stdout: _ThreadedStream | None = None
_stderr: _ThreadedStream | None = None
_handler: _BufferHandler | None = None
_saved_root_handlers: list[logging.Handler] = []
_redirected: list[tuple[logging.StreamHandler[Any], Any]] = []
# The stream handlers of every logger, found once per world and again only when a logger or a
# handler was created since: walking every logger at each invocation cost more than the rest of
# the capture.
_stream_handlers: list[logging.StreamHandler[Any]] | None = None
_stream_handlers_key: tuple[int, int] = (-1, -1)


def _registry_key() -> tuple[int, int]:
    # logging keeps a weak reference to every handler made, for its shutdown.
    made = getattr(logging, "_handlerList", ())
    return len(logging.Logger.manager.loggerDict), len(made)


def _all_handlers() -> list[logging.Handler]:
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        found
        for found in list(logging.Logger.manager.loggerDict.values())
        if isinstance(found, logging.Logger)
    ]
    return [handler for found in loggers for handler in list(found.handlers)]


def _plain_stream_handlers() -> list[logging.StreamHandler[Any]]:
    global _stream_handlers, _stream_handlers_key
    key = _registry_key()
    if _stream_handlers is None or key != _stream_handlers_key:
        _stream_handlers = [
            handler  # type: ignore[misc]
            for handler in _all_handlers()
            if _is_plain_stream_handler(handler)
        ]
        _stream_handlers_key = key
    return _stream_handlers


def _forget_stream_handlers() -> None:
    global _stream_handlers
    _stream_handlers = None


@contextmanager
def capture_ready() -> Iterator[None]:
    """While a world is active: the loggers' stream handlers are found once, at the first
    invocation, and each invocation only routes its output (see :func:`captured_output`)."""
    _forget_stream_handlers()
    try:
        yield
    finally:
        _forget_stream_handlers()


def _redirect_stream_handlers(stdout: _ThreadedStream, stderr: _ThreadedStream) -> None:
    """Handlers that kept the stdout or stderr of the moment they were made (AWS Lambda
    Powertools' Logger, any ``logging.StreamHandler(sys.stdout)`` built at import) write to the
    function's log too: in Lambda, that stream is the log."""
    targets = {
        id(stdout.fallback): stdout,
        id(sys.__stdout__): stdout,
        id(stderr.fallback): stderr,
        id(sys.__stderr__): stderr,
    }
    for stream_handler in _plain_stream_handlers():
        target = targets.get(id(stream_handler.stream))
        if target is None and _was_standard_output(stream_handler.stream):
            target = stdout
        if target is not None:
            _redirected.append((stream_handler, stream_handler.stream))
            stream_handler.stream = target


def _was_standard_output(stream: Any) -> bool:
    """A stream that stood for stdout or stderr when the handler was made: one of pytest's
    capture streams (a module imported during collection or under ``capsys``), or one closed
    since (the test that made it ended)."""
    module = type(stream).__module__ or ""
    return module.startswith("_pytest.capture") or bool(getattr(stream, "closed", False))


def _is_plain_stream_handler(handler: logging.Handler) -> bool:
    # A subclass of StreamHandler that is not a file handler (Powertools' own, for instance).
    return isinstance(handler, logging.StreamHandler) and not isinstance(
        handler, logging.FileHandler
    )


def _written_to_log_already(record: logging.LogRecord) -> bool:
    """Whether a handler of the record's own loggers wrote it to the log through a stream.

    AWS Lambda Powertools' Logger writes its JSON line to stdout and keeps the runtime's handler
    from writing the record again; a record is in the log once, as in Lambda.
    """
    redirected = {id(handler) for handler, _ in _redirected}
    if not redirected:
        return False
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None and logger is not logging.root:
        if any(
            id(handler) in redirected and record.levelno >= handler.level
            for handler in logger.handlers
        ):
            return True
        logger = logger.parent if logger.propagate else None
    return False


def _restore_stream_handlers() -> None:
    while _redirected:
        handler, stream = _redirected.pop()
        if isinstance(handler.stream, _ThreadedStream):
            handler.stream = stream


def _install() -> None:
    global _active, _stdout, _stderr, _handler, _saved_root_handlers
    with _lock:
        if _active == 0:
            # The streams of the last invocation serve again while the test's own stdout and
            # stderr are the same objects (pytest changes them between a test's phases).
            if _stdout is None or _stdout.fallback is not sys.stdout:
                _stdout = _ThreadedStream(sys.stdout)
            if _stderr is None or _stderr.fallback is not sys.stderr:
                _stderr = _ThreadedStream(sys.stderr)
            sys.stdout, sys.stderr = _stdout, _stderr
            root = logging.getLogger()
            # Only the runtime's handler on the root logger while a function runs: the test
            # process's handlers (pytest's capture among them) would show the output twice.
            _saved_root_handlers = list(root.handlers)
            if _handler is None:
                _handler = _BufferHandler(_stdout)
            root.handlers = [_handler]
            _redirect_stream_handlers(_stdout, _stderr)
        _active += 1


def _uninstall() -> None:
    global _active, _stdout, _stderr, _handler
    with _lock:
        _active -= 1
        if _active > 0:
            return
        _restore_stream_handlers()
        root = logging.getLogger()
        if _handler is not None and root.handlers == [_handler]:
            root.handlers = _saved_root_handlers
        if sys.stdout is _stdout and _stdout is not None:
            sys.stdout = _stdout.fallback
        if sys.stderr is _stderr and _stderr is not None:
            sys.stderr = _stderr.fallback
        if _stream_handlers is None:  # no world keeps them ready: let the test's streams go
            _stdout = _stderr = None


@contextmanager
def captured_output(buffer: LogBuffer) -> Iterator[LogBuffer]:
    """Route the output of the current thread (and of threads it registers) into ``buffer``."""
    _install()
    ident = threading.get_ident()
    # A function that invokes another goes on writing to its own log when the other returns.
    outer = _routes.get(ident)
    try:
        _routes[ident] = buffer  # stdout's and stderr's, which share their routes
        yield buffer
    finally:
        if outer is None:
            _routes.pop(ident, None)
        else:
            _routes[ident] = outer
        _uninstall()


def capture_thread(buffer: LogBuffer, ident: int) -> None:
    """Also send the output of thread ``ident`` (a function's worker) to ``buffer``."""
    if _stdout is not None and _stderr is not None:
        _routes[ident] = buffer


def release_thread(ident: int) -> None:
    if _stdout is not None and _stderr is not None:
        _routes.pop(ident, None)


_KIT_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _function_frames(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the first frame outside the kit: CloudWatch shows a function's
    traceback starting at its handler, not inside the runtime that called it."""
    first = tb
    while first is not None and first.tb_frame.f_code.co_filename.startswith(_KIT_FOLDER):
        first = first.tb_next
    return first if first is not None else tb


def error_lines(error: BaseException) -> str:
    """How the runtime logs a function's unhandled error: the type, message and traceback."""
    tb = _function_frames(error.__traceback__)
    frames = traceback.format_tb(tb) if tb else []
    lines = [f"[ERROR] {type(error).__name__}: {error}", "Traceback (most recent call last):"]
    lines += [str(line).rstrip("\n") for line in frames]
    return "\n".join(lines)


def end_of_log(
    buffer: LogBuffer,
    *,
    error: BaseException | None,
    timed_out_after: float | None,
    duration: float,
    memory_mb: int,
    init_seconds: float | None,
) -> str:
    """Write the runtime's own closing lines (the error, END, REPORT); return the whole log."""
    rid = buffer.request_id
    if timed_out_after is not None:
        buffer.line(f"{lambda_time()} {rid} Task timed out after {timed_out_after:.2f} seconds")
    elif error is not None:
        buffer.line(error_lines(error))
    duration_ms = duration * 1000
    report = (
        f"REPORT RequestId: {rid}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {max(1, math.ceil(duration_ms))} ms\t"
        f"Memory Size: {memory_mb} MB\tMax Memory Used: {memory_mb} MB"
    )
    if init_seconds is not None:
        report += f"\tInit Duration: {init_seconds * 1000:.2f} ms"
    buffer.line(f"END RequestId: {rid}")
    buffer.line(report)
    return buffer.text()
