"""The in-memory world as an HTTP endpoint on loopback, for functions that run in other processes.

A function started from a command (any language) reaches AWS with its own SDK, over HTTP. This
endpoint answers those requests with moto's server application, which dispatches each one to the
same backends and response classes mock_aws uses in the kit's process: Secrets Manager requests go
through the kit's request layer (faults, history, invariants, the rotation control plane), every
other service through moto as it stands.

Only loopback peers are served. Requests are answered one at a time: the world is single-threaded
by design, and a function's calls arrive while the kit's own thread waits for that function.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

LOOPBACK_HOST = "127.0.0.1"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


# One request at a time reaches the world. A request that waits for a function run out of process
# (RotateSecret in immediate mode) lends the lock to that function's own requests meanwhile.
_WORLD_LOCK = threading.Lock()
_holder = threading.local()


@contextmanager
def world_lock() -> Iterator[None]:
    with _WORLD_LOCK:
        _holder.holding = True
        try:
            yield
        finally:
            _holder.holding = False


@contextmanager
def lock_lent() -> Iterator[None]:
    """Release the world lock, if this thread holds it, for the duration of the block."""
    if not getattr(_holder, "holding", False):
        yield
        return
    _holder.holding = False
    _WORLD_LOCK.release()
    try:
        yield
    finally:
        _WORLD_LOCK.acquire()
        _holder.holding = True


class EndpointError(RuntimeError):
    """The endpoint cannot start (e.g. moto's server dependencies are missing)."""


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback; False for anything else."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


class LoopbackOnly:
    """WSGI middleware: refuse non-loopback peers, and serve one request at a time."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        peer = str(environ.get("REMOTE_ADDR", ""))
        if not is_loopback(peer):
            body = (
                f"rotation-testkit serves loopback clients only; refused a request from {peer!r}."
            ).encode()
            start_response(
                "403 Forbidden",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        with world_lock():
            # Consume the answer inside the lock: a WSGI app may compute it lazily.
            return [b"".join(self._app(environ, start_response))]


class _LoopbackServer:
    """Mixed into werkzeug's server: drop connections from non-loopback peers before reading."""

    def verify_request(self, request: Any, client_address: Any) -> bool:
        host = client_address[0] if isinstance(client_address, tuple) else ""
        return is_loopback(str(host))


def moto_application() -> WsgiApp:
    """moto's server application: it picks the service from each request's signature."""
    try:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    except ImportError as error:  # pragma: no cover - flask is a declared dependency
        raise EndpointError(
            f"the HTTP endpoint needs moto's server dependencies (flask, flask-cors): {error}. "
            "Install them with: pip install flask flask-cors"
        ) from None
    app: WsgiApp = DomainDispatcherApplication(create_backend_app)
    return app


class AwsEndpoint:
    """A threaded HTTP server on 127.0.0.1 and a free port; ``start()``, ``url``, ``stop()``."""

    def __init__(self, app: WsgiApp | None = None, *, port: int = 0) -> None:
        self._app = app
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self._server is None:
            raise EndpointError("the endpoint is not running: call start() first.")
        return f"http://{LOOPBACK_HOST}:{self._server.server_port}"

    def start(self) -> str:
        """Start serving (idempotent) and return the endpoint URL."""
        if self._server is not None:
            return self.url
        from moto.moto_server.werkzeug_app import MotoRequestHandler

        class QuietHandler(MotoRequestHandler):
            def log(self, type: str, message: str, *args: Any) -> None:
                pass  # the history records every call; no access log on the test's output

        app = LoopbackOnly(self._app or moto_application())
        server = make_server(
            LOOPBACK_HOST, self._port, app, threaded=True, request_handler=QuietHandler
        )
        # Refuse foreign peers at accept time too, not only per request.
        server.verify_request = _LoopbackServer().verify_request  # type: ignore[method-assign]
        server.daemon_threads = True  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="rotation-testkit-aws-endpoint",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the serving thread to end."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
