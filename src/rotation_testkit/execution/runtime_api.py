"""The Lambda Runtime API, served for one execution environment.

A runtime interface client (AWS's for Node.js, Python, Java, Go's Lambda library, ...) reads the
address from ``AWS_LAMBDA_RUNTIME_API`` and loops: ``GET /2018-06-01/runtime/invocation/next`` waits
for an event; the client answers with ``POST .../invocation/{request id}/response`` or ``/error``;
a client that cannot load the function reports ``POST /2018-06-01/runtime/init/error``. Each
environment gets a server of its own, on 127.0.0.1 and a free port, because the variable holds a
bare host:port.

Only the environment's own processes are served. AWS's runtime clients take nothing but host:port
in the variable (Node's aws-lambda-ric requires an all-digit port; Python's awslambdaric opens it
with ``http.client.HTTPConnection`` to report init errors), so a secret path in the address is not
an option. Instead each connection's peer socket is looked up in ``/proc``
(:mod:`.peer_process`) and must belong to a process of the environment's tree.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .aws_endpoint import LOOPBACK_HOST, is_loopback
from .peer_process import connection_belongs_to_tree

API_VERSION = "2018-06-01"
#: Lambda's limit on a synchronous invocation's response (and so on what a runtime may post).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
_NEXT = f"/{API_VERSION}/runtime/invocation/next"
_INIT_ERROR = f"/{API_VERSION}/runtime/init/error"
_ANSWER = re.compile(rf"^/{API_VERSION}/runtime/invocation/([^/]+)/(response|error)$")


@dataclass
class PendingInvocation:
    """One event handed to the environment, and how the runtime answered it."""

    request_id: str
    event: bytes
    headers: dict[str, str]
    delivered: bool = False
    delivered_at: float = 0.0  # on a real monotonic clock (the function's timeout runs from it)
    timeout_ms: int = 0  # sets Lambda-Runtime-Deadline-Ms when the runtime takes the event
    poll: int = 0  # which of the runtime's polls received it
    answered: bool = False
    result: bytes | None = None
    error: dict[str, Any] | None = None


@dataclass
class RuntimeState:
    """What the kit and the runtime share; every change notifies ``changed``."""

    changed: threading.Condition = field(default_factory=threading.Condition)
    pending: PendingInvocation | None = None
    init_error: dict[str, Any] | None = None
    polls: int = 0  # how many times the runtime asked for the next event
    closing: bool = False


def error_document(body: bytes, header_type: str | None) -> dict[str, Any]:
    """The error a runtime reported: its JSON document, with errorType and errorMessage always set."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        document = {"errorMessage": body.decode("utf-8", "replace")}
    if not isinstance(document, dict):
        document = {"errorMessage": json.dumps(document)}
    document.setdefault("errorType", header_type or "Runtime.UnknownReason")
    document.setdefault("errorMessage", "")
    if not document["errorType"]:
        document["errorType"] = header_type or "Runtime.UnknownReason"
    return document


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # runtime clients keep their connection open
    server: RuntimeApiServer
    timeout = 30  # an idle connection is dropped; runtimes reconnect

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the runtime's own output is the function's log; this server keeps quiet

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _problem(self, status: int, error_type: str, message: str) -> None:
        body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
        self._send(status, body)

    def _body(self) -> bytes | None:
        """The request's body, or None (answered 413) past Lambda's payload limit or unreadable."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_PAYLOAD_BYTES:
            self.close_connection = True
            self._problem(
                413,
                "RequestEntityTooLarge",
                f"a Runtime API request body must be 0..{MAX_PAYLOAD_BYTES} bytes",
            )
            return None
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        if self.path.split("?")[0] != _NEXT:
            self._problem(404, "NotFound", f"no such Runtime API resource: GET {self.path}")
            return
        invocation = self.server.next_invocation()
        if invocation is None:
            self._problem(500, "Runtime.ExitError", "the execution environment is shutting down")
            return
        self._send(200, invocation.event, invocation.headers)

    def do_POST(self) -> None:
        body = self._body()
        if body is None:
            return
        path = self.path.split("?")[0]
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if path == _INIT_ERROR:
            self.server.report_init_error(error_document(body, error_type))
            self._send(202, b'{"status":"OK"}')
            return
        match = _ANSWER.match(path)
        if match is None:
            self._problem(404, "NotFound", f"no such Runtime API resource: POST {self.path}")
            return
        request_id, kind = match.groups()
        answer = body if kind == "response" else error_document(body, error_type)
        problem = self.server.answer(request_id, answer)
        if problem is not None:
            self._problem(400, *problem)
            return
        self._send(202, b'{"status":"OK"}')


class RuntimeApiServer(ThreadingHTTPServer):
    """The Runtime API of one environment; the kit calls ``offer``, the runtime the HTTP paths."""

    daemon_threads = False  # server_close() joins the request threads: none is left behind
    block_on_close = True

    def __init__(self) -> None:
        super().__init__((LOOPBACK_HOST, 0), _Handler)
        self.state = RuntimeState()
        self._thread: threading.Thread | None = None
        self._owner: int | None = None
        self._owner_known = threading.Event()
        self._restricted = False
        self.refused_connections = 0

    def expect_owner(self) -> None:
        """From now on only the tree of the process given to :meth:`set_owner` may connect (a
        connection that comes before it is known waits for it)."""
        self._restricted = True

    def set_owner(self, pid: int) -> None:
        self._owner = pid
        self._owner_known.set()

    @property
    def address(self) -> str:
        """The value of AWS_LAMBDA_RUNTIME_API: host:port."""
        return f"{LOOPBACK_HOST}:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A runtime killed mid-request (a timeout, the world ending) drops its connection; that
        # is expected, not worth a traceback.
        pass

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Loopback peers of the environment's own processes only; checked before any thread
        is started for the connection."""
        host, port = client_address[:2] if isinstance(client_address, tuple) else ("", 0)
        if not is_loopback(str(host)):
            return False
        if not self._restricted:
            return True
        self._owner_known.wait(5)
        owner = self._owner
        if owner is None or not connection_belongs_to_tree(
            int(port), self.server_address[1], owner
        ):
            self.refused_connections += 1
            return False
        return True

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"rotation-testkit-runtime-api-{self.server_address[1]}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Wake any waiting runtime request, stop serving and join every thread."""
        with self.state.changed:
            self.state.closing = True
            self.state.changed.notify_all()
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    # --- the kit's side -------------------------------------------------------------------------

    def offer(self, invocation: PendingInvocation) -> None:
        with self.state.changed:
            self.state.pending = invocation
            self.state.changed.notify_all()

    # --- the runtime's side ---------------------------------------------------------------------

    def next_invocation(self) -> PendingInvocation | None:
        """Block until the kit offers an event (None when the environment shuts down)."""
        state = self.state
        with state.changed:
            state.polls += 1
            poll = state.polls
            state.changed.notify_all()
            while not state.closing:
                pending = state.pending
                if pending is not None and not pending.delivered:
                    pending.delivered, pending.poll = True, poll
                    pending.delivered_at = time.clock_gettime(time.CLOCK_MONOTONIC)
                    if pending.timeout_ms:
                        now_ms = int(time.clock_gettime(time.CLOCK_REALTIME) * 1000)
                        deadline = str(now_ms + pending.timeout_ms)
                        pending.headers["Lambda-Runtime-Deadline-Ms"] = deadline
                    return pending
                state.changed.wait(0.2)
        return None

    def answer(self, request_id: str, answer: bytes | dict[str, Any]) -> tuple[str, str] | None:
        """Record the runtime's answer; returns (errorType, message) when it is refused."""
        state = self.state
        with state.changed:
            pending = state.pending
            if pending is None or pending.request_id != request_id or not pending.delivered:
                return (
                    "InvalidRequestID",
                    f"no invocation with request id {request_id!r} is running",
                )
            if pending.answered:
                return (
                    "InvalidStateTransition",
                    f"invocation {request_id!r} was already answered",
                )
            pending.answered = True
            if isinstance(answer, bytes):
                pending.result = answer
            else:
                pending.error = answer
            state.changed.notify_all()
        return None

    def report_init_error(self, document: dict[str, Any]) -> None:
        with self.state.changed:
            self.state.init_error = document
            self.state.changed.notify_all()
