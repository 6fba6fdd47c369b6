"""Protected services over HTTP: scripted answers for a rotator that calls a vendor's REST API.

Routes are registered on the same ``responses`` mock that carries AWS calls to the in-memory
backend, so both work side by side; a request no route matches fails at once instead of reaching
the network (see :func:`rotation_testkit.sandbox.block_network`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import requests
import responses
from moto.core.models import responses_mock


class Responder:
    """Wraps a function ``f(request) -> answer`` so a route can fake a stateful service.

    ``request`` is the ``requests.PreparedRequest``; the function returns any answer ``add``
    accepts (a status, a JSON body, a tuple, an exception).
    """

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def respond(self, request: Any) -> Any:
        answer = self.function(request)
        if not isinstance(answer, (Exception, type)):
            _normalise(answer)  # a malformed answer is refused here, naming the function
        return answer

    def __repr__(self) -> str:
        return f"Responder({getattr(self.function, '__qualname__', self.function)!r})"


# What one scripted answer may be: a status, a JSON body (status 200), (status, body),
# (status, body, headers), or an exception (instance or class) the call raises.
Answer: TypeAlias = (
    int | Mapping[str, Any] | list[Any] | tuple[Any, ...] | Exception | type[Exception] | Responder
)


class RouteError(ValueError):
    """A route or an answer written in a way the fixture cannot use."""


@dataclass(frozen=True)
class Call:
    """One request a route answered, and what it answered."""

    method: str
    url: str
    body: bytes | str | None
    headers: Mapping[str, str]
    status: int | None  # None when the scripted answer was an exception
    error: str | None = None

    def json(self) -> Any:
        """The request body parsed as JSON."""
        if self.body is None:
            return None
        return json.loads(self.body)


@dataclass
class Route:
    method: str
    url: str | re.Pattern[str]
    answers: list[Answer]
    must_be_called: bool = True
    calls: list[Call] = field(default_factory=list)

    @property
    def call_count(self) -> int:
        return len(self.calls)

    def describe(self) -> str:
        url = self.url.pattern if isinstance(self.url, re.Pattern) else self.url
        return f"{self.method} {url}"

    def _respond(self, request: Any) -> Any:
        # The script is consumed one answer per call; the last answer repeats once it runs out.
        answer = self.answers[min(len(self.calls), len(self.answers) - 1)]
        headers = {str(k): str(v) for k, v in dict(request.headers).items()}
        if isinstance(answer, Responder):
            # A stateful fake of the service: the function decides from the request.
            try:
                answer = answer.respond(request)
            except Exception as failure:
                # A bug in the fake, not in the rotator: record the call, and say whose it is.
                self.calls.append(
                    Call(request.method, request.url, request.body, headers, None, repr(failure))
                )
                raise RouteError(
                    f"the function answering {self.describe()} failed: "
                    f"{type(failure).__name__}: {failure}"
                ) from failure
        if isinstance(answer, Exception) or (
            isinstance(answer, type) and issubclass(answer, Exception)
        ):
            error = (
                answer
                if isinstance(answer, BaseException)
                else answer(f"scripted {answer.__name__} for {self.describe()}")
            )
            self.calls.append(
                Call(request.method, request.url, request.body, headers, None, repr(error))
            )
            return error
        status, body, extra_headers = _normalise(answer)
        self.calls.append(Call(request.method, request.url, request.body, headers, status))
        return status, extra_headers, body


def _normalise(answer: Answer) -> tuple[int, str, dict[str, str]]:
    if isinstance(answer, bool):
        raise RouteError(f"an answer must be a status, a body or an exception, got {answer!r}.")
    if isinstance(answer, int):
        return answer, "", {}
    if isinstance(answer, (Mapping, list)):
        return 200, json.dumps(answer), {"Content-Type": "application/json"}
    if isinstance(answer, tuple) and 2 <= len(answer) <= 3 and isinstance(answer[0], int):
        status, body = answer[0], answer[1]
        headers = dict(answer[2]) if len(answer) == 3 else {}
        if isinstance(body, (Mapping, list)):
            headers.setdefault("Content-Type", "application/json")
            return status, json.dumps(body), headers
        if isinstance(body, bytes):
            return status, body.decode(), headers
        return status, str(body), headers
    raise RouteError(
        "an answer must be a status (201), a JSON body ({...}), (status, body), "
        f"(status, body, headers) or an exception; got {answer!r}."
    )


def _normalise_url(url: str | re.Pattern[str]) -> str:
    """The URL as requests sends it ("https://host" becomes "https://host/"), without a query."""
    if isinstance(url, re.Pattern):
        return f"re:{url.pattern}"
    prepared = requests.Request("GET", url).prepare().url or url
    return prepared.split("?")[0]


class ProtectedHttp:
    """The `protected_http` fixture: routes with scripted answers, and what was called."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self,
        method: str,
        url: str | re.Pattern[str],
        *answers: Answer,
        json: Any = None,
        status: int | None = None,
        must_be_called: bool = True,
    ) -> Route:
        """Answer ``method url`` with each answer in turn (e.g. ``503, 503, (201, {...})``).

        With no positional answers, ``json=`` and/or ``status=`` give the single answer.
        """
        if not answers:
            answers = ((status or 200, json),) if json is not None else (status or 200,)
        elif json is not None or status is not None:
            raise RouteError(
                "give the answers either positionally or with json=/status=, not both."
            )
        for answer in answers:
            if isinstance(answer, Responder):
                continue
            if isinstance(answer, BaseException) and not isinstance(answer, Exception):
                raise RouteError(f"an answer may raise an Exception, not {type(answer).__name__}.")
            if isinstance(answer, type):
                if not issubclass(answer, Exception):
                    raise RouteError(f"an answer may raise an Exception, not {answer.__name__}.")
                continue
            if not isinstance(answer, Exception):
                _normalise(answer)  # refuse a malformed answer now, not at call time
        key = (method.upper(), _normalise_url(url))
        for existing in self.routes:
            if (existing.method, _normalise_url(existing.url)) == key:
                raise RouteError(
                    f"{existing.describe()} already has a route: give all its answers in one "
                    "add() call, in the order the calls should get them."
                )
        route = Route(method.upper(), url, list(answers), must_be_called)
        self.routes.append(route)
        responses_mock.add(
            responses.CallbackResponse(method=route.method, url=url, callback=route._respond)
        )
        return route

    def respond_with(
        self,
        method: str,
        url: str | re.Pattern[str],
        function: Callable[[Any], Any],
        *,
        must_be_called: bool = True,
    ) -> Route:
        """Answer every call with ``function(request)``: a stateful fake of the service."""
        return self.add(method, url, Responder(function), must_be_called=must_be_called)

    def fail_connection(
        self, method: str, url: str | re.Pattern[str], *, times: int = 1, then: Answer = 200
    ) -> Route:
        """The first ``times`` calls fail to connect, later ones get ``then``."""
        return self.add(method, url, *([requests.ConnectionError] * times), then)

    @property
    def calls(self) -> list[Call]:
        """Every answered call, across routes, in no guaranteed cross-route order."""
        return [call for route in self.routes for call in route.calls]

    def uncalled(self) -> list[Route]:
        return [route for route in self.routes if route.must_be_called and not route.calls]

    def assert_called(self, method: str, url: str, *, times: int | None = None) -> list[Call]:
        """The calls to ``method url``; fails if there were none (or not exactly ``times``)."""
        method = method.upper()
        calls = [
            call
            for route in self.routes
            for call in route.calls
            if call.method == method and _normalise_url(call.url) == _normalise_url(url)
        ]
        if (times is None and not calls) or (times is not None and len(calls) != times):
            expected = "at least one call" if times is None else f"{times} call(s)"
            seen = (
                "\n".join(f"  - {c.method} {c.url} -> {c.status or c.error}" for c in self.calls)
                or "  (none)"
            )
            raise AssertionError(
                f"expected {expected} to {method} {url}, got {len(calls)}. Calls seen:\n{seen}"
            )
        return calls

    def uncalled_report(self) -> str:
        lines = "\n".join(f"  - {route.describe()}" for route in self.uncalled())
        return (
            "protected_http routes were never called, so the rotator did not talk to the service "
            f"as this test expected:\n{lines}\nPass must_be_called=False to add() for optional routes, "
            "or opt out with @pytest.mark.rotation_testkit(assert_http_routes_used=False)."
        )
