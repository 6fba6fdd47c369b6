"""The in-memory world as an HTTP endpoint on loopback, for functions that run in other processes.

A function started from a command (any language) reaches AWS with its own SDK, over HTTP. This
endpoint answers those requests with moto's server application, which dispatches each one to the
same backends and response classes mock_aws uses in the kit's process: Secrets Manager requests go
through the kit's request layer (faults, history, invariants, the rotation control plane), every
other service through moto as it stands.

Only loopback peers are served, and only requests signed with the endpoint's own random keys,
addressed to its own Host (see :class:`GuardedEndpoint`). Connections are read concurrently, within
size and time limits (:mod:`.http_server`); requests reach the world one at a time: the world is
single-threaded by design, and a function's calls arrive while the kit's own thread waits for
that function.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .http_server import BoundedWsgiServer, ServerLimits, StartResponse, WsgiApp
from .signatures import MISSING_SIGNATURE, EndpointCredentials, NotAuthenticated, verify_signature

LOOPBACK_HOST = "127.0.0.1"


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


class GuardedEndpoint:
    """WSGI middleware: what reaches the world, and what it answers with.

    Served: loopback peers whose Host header names the bound address (no DNS-rebound page),
    whose request is signed with this endpoint's keys; never moto's own ``/moto-api/`` routes;
    no CORS header ever leaves (a web page may not read an answer). One request at a time
    reaches the world.
    """

    def __init__(self, app: WsgiApp, credentials: EndpointCredentials) -> None:
        self._app = app
        self.credentials = credentials
        self.port = 0  # set once the server is bound

    def allowed_hosts(self) -> frozenset[str]:
        names = (LOOPBACK_HOST, "localhost", "[::1]")
        hosts = {f"{name}:{self.port}" for name in names}
        if self.port == 80:  # a client leaves the default port out
            hosts.update(names)
        return frozenset(hosts)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        peer = str(environ.get("REMOTE_ADDR", ""))
        if not is_loopback(peer):
            return _plain(start_response, "403 Forbidden", f"loopback clients only, not {peer!r}")
        host = str(environ.get("HTTP_HOST", "")).lower()
        if host not in self.allowed_hosts():
            return _plain(
                start_response,
                "421 Misdirected Request",
                f"this endpoint serves Host {LOOPBACK_HOST}:{self.port} only, not {host!r}",
            )
        if str(environ.get("PATH_INFO", "")).startswith(_HIDDEN_PATHS):
            return _plain(start_response, "404 Not Found", "not found")
        stream = environ["wsgi.input"]
        body = stream.read()
        stream.seek(0)
        try:
            verify_signature(environ, body, self.credentials)
        except NotAuthenticated as refused:
            return _aws_error(start_response, refused)

        def without_cors(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            return start_response(status, kept, *exc)

        with world_lock():
            # Consume the answer inside the lock: a WSGI app may compute it lazily.
            return [b"".join(self._app(environ, without_cors))]


# moto's own control routes (its state as JSON, reset, ...) and its instance metadata service.
_HIDDEN_PATHS = ("/moto-api", "/latest/", "/favicon.ico")


def _plain(start_response: StartResponse, status: str, message: str) -> list[bytes]:
    body = f"rotation-testkit: {message}\n".encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _aws_error(start_response: StartResponse, refused: NotAuthenticated) -> list[bytes]:
    """The error as AWS's JSON services send it."""
    body = json.dumps({"__type": refused.code, "message": refused.message}).encode()
    start_response(
        "403 Forbidden" if refused is MISSING_SIGNATURE else "400 Bad Request",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", refused.code),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


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


@dataclass(frozen=True)
class EndpointAccess:
    """What a client of the endpoint needs: its URL and the keys to sign with."""

    url: str
    credentials: EndpointCredentials


class AwsEndpoint:
    """A bounded HTTP server on 127.0.0.1 and a free port; ``start()``, ``url``, ``stop()``."""

    def __init__(
        self, app: WsgiApp | None = None, *, port: int = 0, limits: ServerLimits | None = None
    ) -> None:
        self._app = app
        self._port = port
        self._limits = limits
        self.credentials = EndpointCredentials.generate()
        self._server: BoundedWsgiServer | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        if self._server is None:
            raise EndpointError("the endpoint is not running: call start() first.")
        return f"http://{LOOPBACK_HOST}:{self._server.port}"

    @property
    def access(self) -> EndpointAccess:
        return EndpointAccess(self.url, self.credentials)

    def start(self) -> str:
        """Start serving (idempotent) and return the endpoint URL."""
        if self._server is not None:
            return self.url
        guard = GuardedEndpoint(self._app or moto_application(), self.credentials)
        server = BoundedWsgiServer(guard, LOOPBACK_HOST, self._port, self._limits)
        guard.port = server.start()
        self._server = server
        return self.url

    def stop(self) -> None:
        """Stop serving: every connection closed, the serving thread joined."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
