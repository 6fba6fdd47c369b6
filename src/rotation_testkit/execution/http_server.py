"""A small HTTP/1.1 server for a WSGI application, bounded in every resource a client can claim.

Connections are read by one event loop, so an idle or slow client costs a few kilobytes, never a
thread; only a request that has fully arrived (headers and body, each within its time and size
limit) is handed to a fixed pool of worker threads. A client that sends its headers and stalls
its body therefore blocks nobody, and a thousand idle connections make no thousand threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class ServerLimits:
    """What one client may take: sizes in bytes, times in seconds."""

    workers: int = 16
    max_connections: int = 256
    max_header_bytes: int = 64 * 1024
    max_body_bytes: int = 1024 * 1024
    idle_seconds: float = 60.0  # between requests on a kept-alive connection
    header_seconds: float = 10.0  # from a request's first byte to the end of its headers
    body_seconds: float = 30.0
    write_seconds: float = 30.0


_REASONS = {
    100: "Continue",
    400: "Bad Request",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class _Refused(Exception):
    """A request the server answers itself, then closes the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def keep_alive(self) -> bool:
        connection = (self.header("Connection") or "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


class BoundedWsgiServer:
    """Serve ``app`` on ``host:port`` (0: a free port) until :meth:`stop`."""

    def __init__(
        self, app: WsgiApp, host: str, port: int = 0, limits: ServerLimits | None = None
    ) -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self.limits = limits or ServerLimits()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._stopping: asyncio.Event | None = None
        self._idle: dict[asyncio.StreamWriter, None] = {}  # oldest first
        self._connections: set[asyncio.StreamWriter] = set()

    def start(self) -> int:
        """Bind, start serving in a thread of its own, and return the port."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            loop.set_exception_handler(_quiet_about_cancellation)
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready))
            except BaseException as error:  # a bind error is reported by start()
                failure.append(error)
                ready.set()
            finally:
                loop.close()

        self._pool = concurrent.futures.ThreadPoolExecutor(
            self.limits.workers, thread_name_prefix="rotation-testkit-http"
        )
        self._thread = threading.Thread(target=run, name="rotation-testkit-http-loop", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._pool.shutdown(wait=False)
            raise failure[0]
        return self.port

    def stop(self) -> None:
        """Close every connection, stop the loop and the workers."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._pool is not None:
            # Workers end when their request does (the world stops its functions first); a
            # bounded wait keeps a stuck one from holding the caller.
            workers = list(getattr(self._pool, "_threads", ()))
            self._pool.shutdown(wait=False, cancel_futures=True)
            for worker in workers:
                worker.join(timeout=10)
            self._pool = None

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(
            self._connection,
            self._host,
            self._requested_port,
            limit=self.limits.max_header_bytes,
            backlog=128,
        )
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await self._stopping.wait()
            server.close()
            for writer in list(self._connections):
                writer.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if others:
                await asyncio.wait(others, timeout=1)
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._connections) >= self.limits.max_connections:
            # Make room by closing the connection idle the longest; refuse if none is idle.
            oldest = next(iter(self._idle), None)
            if oldest is None:
                await self._refuse(writer, _Refused(503, "too many connections; try again"))
                return
            self._idle.pop(oldest, None)
            oldest.close()
        self._connections.add(writer)
        try:
            while True:
                self._idle[writer] = None
                try:
                    request = await self._read_request(reader, writer)
                finally:
                    self._idle.pop(writer, None)
                if request is None:
                    return
                response = await self._respond(request, writer)
                writer.write(response)
                await asyncio.wait_for(writer.drain(), self.limits.write_seconds)
                if not request.keep_alive:
                    return
        except _Refused as refused:
            await self._refuse(writer, refused)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, RuntimeError):
            pass
        finally:
            self._connections.discard(writer)
            self._idle.pop(writer, None)
            writer.close()

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Request | None:
        limits = self.limits
        try:
            first = await asyncio.wait_for(reader.read(1), limits.idle_seconds)
        except asyncio.TimeoutError:
            return None
        if not first:
            return None
        try:
            rest = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), limits.header_seconds)
        except asyncio.TimeoutError:
            raise _Refused(408, "the request's headers did not arrive in time") from None
        except (asyncio.LimitOverrunError, ValueError):
            raise _Refused(431, f"request headers past {limits.max_header_bytes} bytes") from None
        request = _parse_head((first + rest).decode("latin-1"))
        if request.header("Transfer-Encoding") is not None:
            raise _Refused(411, "send the body with a Content-Length, not chunked")
        length = _content_length(request.header("Content-Length"))
        if length > limits.max_body_bytes:
            raise _Refused(413, f"request body of {length} bytes; at most {limits.max_body_bytes}")
        if length and (request.header("Expect") or "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            request.body = await asyncio.wait_for(reader.readexactly(length), limits.body_seconds)
        except asyncio.TimeoutError:
            raise _Refused(408, "the request's body did not arrive in time") from None
        return request

    async def _respond(self, request: _Request, writer: asyncio.StreamWriter) -> bytes:
        peer = writer.get_extra_info("peername") or ("", 0)
        environ = self._environ(request, peer)
        loop = asyncio.get_running_loop()
        status, headers, body = await loop.run_in_executor(self._pool, self._call_app, environ)
        return _response_bytes(status, headers, body, request)

    def _environ(self, request: _Request, peer: Any) -> dict[str, Any]:
        path, _, query = request.target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": request.target,
            "REQUEST_URI": request.target,
            "SERVER_NAME": self._host,
            "SERVER_PORT": str(self.port),
            "SERVER_PROTOCOL": request.version,
            "REMOTE_ADDR": str(peer[0]),
            "REMOTE_PORT": str(peer[1]),
            "CONTENT_LENGTH": str(len(request.body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers:
            if "_" in name:
                continue  # X_Foo must not pass for X-Foo (the WSGI key is the same)
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
                continue
            key = f"HTTP_{key}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, headers]
            return lambda data: None

        try:
            result = self._app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            return "500 Internal Server Error", [("Content-Type", "text/plain")], b"server error"
        if not started:
            return "500 Internal Server Error", [("Content-Type", "text/plain")], b"no response"
        return str(started[0]), list(started[1]), body

    async def _refuse(self, writer: asyncio.StreamWriter, refused: _Refused) -> None:
        body = f"{refused}\n".encode()
        head = (
            f"HTTP/1.1 {refused.status} {_REASONS.get(refused.status, 'Error')}\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError, asyncio.TimeoutError, RuntimeError):
            writer.write(head.encode() + body)
            await asyncio.wait_for(writer.drain(), 2)
        self._connections.discard(writer)
        writer.close()


def _quiet_about_cancellation(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Connections still open when the server stops are cancelled; that is no error to report.
    if not isinstance(context.get("exception"), asyncio.CancelledError):
        loop.default_exception_handler(context)


def _parse_head(text: str) -> _Request:
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _Refused(400, "malformed request line")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise _Refused(400, "malformed header line")
        headers.append((name, value.strip()))
    return _Request(parts[0], parts[1], parts[2], headers)


def _content_length(value: str | None) -> int:
    if value is None:
        return 0
    if not value.isdigit():
        raise _Refused(400, "Content-Length is not a number")
    return int(value)


def _response_bytes(
    status: str, headers: list[tuple[str, str]], body: bytes, request: _Request
) -> bytes:
    kept = [(k, v) for k, v in headers if k.lower() not in ("content-length", "connection")]
    if request.method == "HEAD":
        length = next((v for k, v in headers if k.lower() == "content-length"), str(len(body)))
        body = b""
    else:
        length = str(len(body))
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{k}: {v}" for k, v in kept]
    lines.append(f"Content-Length: {length}")
    lines.append(f"Connection: {'keep-alive' if request.keep_alive else 'close'}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
