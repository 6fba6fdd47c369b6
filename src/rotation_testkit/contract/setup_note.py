"""When a failing check shows that the protected service was never prepared for the rotator.

Without ``--setup`` the protected service (a database, an API) does not know the user the initial
secret names, and a rotator that talks to it fails where it does: at setSecret or testSecret, with
the service's own error or a refused login, or the probe never accepts the new credentials. Those
signs say "give --setup" whatever else the checks found; a failure elsewhere (finishSecret, the
labels, a leak) says nothing about the set-up.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..execution.commands import INIT_FAILURE
from ..execution.lambdas import Invocation
from ..foundations.history import Event

#: The steps where a rotator talks to the protected service.
SERVICE_STEPS = ("setSecret", "testSecret")

#: Words of a refused login, whatever the service or the language of the rotator.
_REFUSAL_WORDS = (
    "login",
    "log in",
    "authentication",
    "unauthorized",
    "unauthorised",
    "access denied",
    "permission denied",
    "refused",
    "forbidden",
    "unknown user",
    "no such user",
)

#: Failures that are the kit's doing or the function's own start, not the service's answer.
_NOT_THE_SERVICE = (
    "TaskTimedOut",
    INIT_FAILURE,
    "NotImplementedError",  # an unfinished rotator: no set-up makes it pass
    "not implemented",
)

#: What a check's message says when the probe refuses credentials the rotation produced.
PROBE_REFUSES = "the protected service refuses"

NOTE = (
    "note: no --setup was given, and failures show the protected service was not prepared "
    "(errors from it at setSecret/testSecret, refused logins, or the probe never accepting the "
    "credentials). A rotator that talks to a protected service needs --setup MODULE:ATTR to create "
    "the initial secret's user before each check."
)


def shows_unprepared_service(
    invocations: Iterable[Invocation], events: Iterable[Event], message: str
) -> bool:
    """Do this failed check's invocations or message show an unprepared protected service?

    An invocation during which the check planned a fault (of the step, or of an API call the step
    made) says nothing about the service: the fault explains its failure.
    """
    if PROBE_REFUSES in message or "current-accepted-by-service" in message:
        return True
    faulted = {(event.step, event.attempt) for event in events if event.detail.get("fault")}
    return any(
        _service_error(invocation)
        for invocation in invocations
        if invocation.fault is None and (invocation.step, invocation.attempt) not in faulted
    )


def _service_error(invocation: Invocation) -> bool:
    if invocation.error is None or not invocation.ran:
        return False
    errors = _chain(invocation.error)
    if any(marker in error for error in errors for marker in _NOT_THE_SERVICE):
        return False
    if invocation.step in SERVICE_STEPS:
        return True
    return any(word in error.lower() for error in errors for word in _REFUSAL_WORDS)


def _chain(error: BaseException) -> list[str]:
    """The error and those it was raised while handling or from (a refused login, then the
    fall-back to AWSPREVIOUS that failed too, as AWS's templates do), as text."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return texts
