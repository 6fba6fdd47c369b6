"""Other AWS services: moto answers them; a test can stub an operation; a gap is named plainly.

A rotation function talks to more than Secrets Manager (IAM, RDS, ElastiCache, STS...). moto answers
those calls in the same process. Where moto lacks an operation, it raises a bare
``NotImplementedError`` that reads like a bug in the rotator; here the call fails instead with
:class:`SimulatorLacksOperation`, naming the service and operation and how to stub it. A stub
(``rotation_kit.stub_aws(service, operation, answer)``) answers an operation of every client in the
world, before moto sees the call.

The stub hooks are botocore event handlers that join botocore's built-in handlers with the kit's
own (:mod:`.interception`), so a client built at import time, during collection, is covered too.
The gap is named where moto answers (its request stubber, wrapped while a world is active). Nothing
here imports botocore or moto until it is used: the pytest plugin imports this module.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .function_thread import is_abandoned

_PARAMS = "rotation_testkit_params"


class AwsError(Exception):
    """An AWS error a stub answers with: the client raises ``ClientError`` with this code."""

    def __init__(self, code: str, message: str = "", *, status: int = 400) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


class SimulatorLacksOperation(NotImplementedError):
    """The in-memory AWS does not implement an operation the function called."""

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            f"{service} {operation} is not implemented by the in-memory AWS (moto): a gap of the "
            f"simulator, not a bug in the function. Answer it in the test with "
            f"rotation_kit.stub_aws({service!r}, {operation!r}, {{...}}) (a dict shaped like the "
            f"operation's output, or a function of the request's parameters), or from a contract "
            f"check's --setup with rotation_testkit.active_kit().stub_aws(...)."
        )
        self.service = service
        self.operation = operation


class StubError(ValueError):
    """A stub that cannot be set as given."""


Answer = Mapping[str, Any] | Callable[[dict[str, Any]], Any] | AwsError


@dataclass
class AwsStubs:
    """One world's stubbed operations, and the operations the simulator was found to lack."""

    _answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    missing: list[tuple[str, str]] = field(default_factory=list)

    def stub(self, service: str, operation: str, answer: Answer) -> None:
        name, op = _operation(service, operation)
        if name == "secretsmanager":
            raise StubError(
                "Secrets Manager is the in-memory service itself: use "
                "rotation_faults.fail_api(...) to make one of its operations fail."
            )
        if not (callable(answer) or isinstance(answer, (Mapping, AwsError))):
            raise StubError(
                f"the answer for {name} {op} must be a dict shaped like its output, a function "
                f"of the request's parameters, or an AwsError; got {type(answer).__name__}."
            )
        self._answers[(name, op)] = answer

    def answer_for(self, service: str, operation: str) -> Answer | None:
        return self._answers.get((service, operation))

    def lacked(self, service: str, operation: str) -> None:
        if (service, operation) not in self.missing:
            self.missing.append((service, operation))

    def report(self) -> str:
        """What the simulator lacked in this world, for failure reports ("" when nothing)."""
        return "\n".join(str(SimulatorLacksOperation(s, o)) for s, o in self.missing)


def _operation(service: str, operation: str) -> tuple[str, str]:
    """The client name and the operation's API name ('ModifyUser' from 'modify_user' too)."""
    import botocore.loaders
    from botocore import xform_name
    from botocore.exceptions import UnknownServiceError

    loader = botocore.loaders.create_loader()
    try:
        model = loader.load_service_model(service, "service-2")
    except UnknownServiceError:
        raise StubError(
            f"unknown AWS service {service!r}: use the name you pass to boto3.client(), "
            "e.g. 'elasticache', 'iam', 'rds', 'sts'."
        ) from None
    names = {xform_name(op): op for op in model["operations"]}
    found = operation if operation in model["operations"] else names.get(operation)
    if found is None:
        raise StubError(
            f"{service} has no operation {operation!r}; write it as in the API reference "
            "(e.g. 'ModifyUser') or as the client method (e.g. 'modify_user')."
        )
    return service, found


_active: list[AwsStubs] = []


@contextmanager
def stubs_active(stubs: AwsStubs) -> Iterator[AwsStubs]:
    """Answer every client's calls with these stubs for the duration of the block."""
    _active.append(stubs)
    _name_what_moto_lacks()
    try:
        yield stubs
    finally:
        _active.remove(stubs)


def _remember_params(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    # before-call sees the serialised request only; keep the caller's parameters for the stub
    # (only for a stubbed operation: a copy for every call would cost every call).
    if not _active:
        return
    if _active[-1].answer_for(model.service_model.service_name, model.name) is not None:
        context[_PARAMS] = copy.deepcopy(params)


def _response(status: int, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    metadata = {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": status, "HTTPHeaders": {}}
    http = AWSResponse("https://stub.rotation-testkit.invalid/", status, HTTPHeaders(), None)
    return http, {**body, "ResponseMetadata": metadata}


def _answer_stubbed(model: Any, context: dict[str, Any], **_: Any) -> tuple[Any, Any] | None:
    if is_abandoned():
        raise RuntimeError(
            "this function timed out and was stopped: it can no longer call AWS in this world."
        )
    if not _active:
        return None
    answer = _active[-1].answer_for(model.service_model.service_name, model.name)
    if answer is None:
        return None
    try:
        value = answer(dict(context.get(_PARAMS, {}))) if callable(answer) else answer
        if isinstance(value, AwsError):
            raise value
    except AwsError as error:
        return _response(error.status, {"Error": {"Code": error.code, "Message": error.message}})
    return _response(200, copy.deepcopy(dict(value or {})))


def _service_and_operation(request: Any) -> tuple[str, str]:
    """Which operation a request moto received is: from its target header, or its Action."""
    from urllib.parse import parse_qs, urlsplit

    service = (urlsplit(str(request.url)).hostname or "").split(".")[0]
    target = request.headers.get("X-Amz-Target")
    if target:
        text = target.decode() if isinstance(target, bytes) else str(target)
        return service, text.rsplit(".", 1)[-1]
    body = request.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    action = parse_qs(text).get("Action", [""])[0]
    return service, action or "(unknown operation)"


def _name_what_moto_lacks() -> None:
    """Wrap moto's request stubber (once) so an operation it lacks is named, not a bare error."""
    from moto.core.models import botocore_stubber

    if getattr(botocore_stubber, "_rotation_testkit_wrapped", False):
        return
    process = botocore_stubber.process_request

    def named(request: Any) -> Any:
        try:
            response = process(request)
        except NotImplementedError:
            # Secrets Manager is the simulator itself (a gap there cannot be stubbed): as moto.
            if not _active or _service_and_operation(request)[0] == "secretsmanager":
                raise
            response = (404, {}, b"Not yet implemented")
        if (
            _active
            and response is not None
            and response[0] == 404
            and str(response[2]).lstrip("b'").startswith("Not yet implemented")
            and _service_and_operation(request)[0] != "secretsmanager"
        ):
            service, operation = _service_and_operation(request)
            _active[-1].lacked(service, operation)
            raise SimulatorLacksOperation(service, operation)
        return response

    botocore_stubber.process_request = named  # type: ignore[method-assign]
    botocore_stubber._rotation_testkit_wrapped = True  # type: ignore[attr-defined]


def add_handlers(builtin: list[Any]) -> None:
    """Join botocore's built-in handlers (called by :mod:`.interception` when botocore loads)."""
    if any(len(spec) > 1 and spec[1] is _answer_stubbed for spec in builtin):
        return
    builtin.append(("before-parameter-build", _remember_params))
    builtin.append(("before-call", _answer_stubbed))
