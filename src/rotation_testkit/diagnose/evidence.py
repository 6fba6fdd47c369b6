"""The evidence that belongs to one secret: its function's log lines and its CloudTrail events.

:func:`diagnose` accepts the logs and events as saved (parsed JSON, plain text, or already read
:class:`LogLine` / :class:`TrailEvent` objects); these functions read them and keep what concerns
the secret: CloudTrail events that name another secret are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import log_text
from . import logs as log_reading
from . import trail as trail_reading
from .logs import LogLine
from .saved import SavedSecret, UnreadableInput, kind_of
from .trail import TrailEvent

#: The function's logs: filter-log-events / get-log-events output, plain text, LogLine objects,
#: or a list of any of these.
LogsInput = str | Mapping[str, Any] | LogLine | Sequence[Any]
#: CloudTrail lookup-events output (or a log file's Records), TrailEvent objects, or a list.
TrailInput = Mapping[str, Any] | TrailEvent | Sequence[Any]


def logs_for(secret: SavedSecret, given: LogsInput | None) -> tuple[list[LogLine], bool]:
    """The log lines, and whether any logs were given at all."""
    if given is None:
        return [], False
    lines: list[LogLine] = []
    for item in _items(given):
        if isinstance(item, LogLine):
            lines.append(item)
        elif isinstance(item, str):
            lines += log_text.from_text(item)
        elif isinstance(item, Mapping) and log_reading.is_log_document(item):
            lines += log_reading.from_document(item)
        else:
            raise UnreadableInput(
                f"logs must be filter-log-events or get-log-events output, or text; got "
                f"{kind_of(item)}."
            )
    return _about(lines, secret), True


_SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d+:secret:[A-Za-z0-9/_+=.@-]+")


def _about(lines: list[LogLine], secret: SavedSecret) -> list[LogLine]:
    """The lines of invocations about the secret: an invocation whose lines name only other
    secrets' ARNs is left out (one rotation function may rotate several secrets)."""
    named: dict[str | None, set[str]] = {}
    for line in lines:
        named.setdefault(line.request_id, set()).update(_arns(line.text))
    arn = secret.arn

    def keep(line: LogLine) -> bool:
        arns = named.get(line.request_id, set()) if line.request_id else _arns(line.text)
        if not arns or not arn:
            return True
        # A partial ARN (without the random suffix) names the secret too.
        return any(arn.startswith(other) or other.startswith(arn) for other in arns)

    return [line for line in lines if keep(line)]


def _arns(text: str) -> set[str]:
    return {found.rstrip(".") for found in _SECRET_ARN.findall(text)}


def events_for(secret: SavedSecret, given: TrailInput | None) -> tuple[list[TrailEvent], bool]:
    """The secret's CloudTrail events, and whether any events were given at all."""
    if given is None:
        return [], False
    events: list[TrailEvent] = []
    for item in _items(given):
        if isinstance(item, TrailEvent):
            events.append(item)
        elif isinstance(item, Mapping) and trail_reading.is_trail_document(item):
            events += trail_reading.from_document(item)
        else:
            raise UnreadableInput(
                f"events must be CloudTrail lookup-events output; got {kind_of(item)}."
            )
    return [event for event in events if _concerns(event, secret)], True


def _items(given: Any) -> list[Any]:
    if isinstance(given, (str, Mapping, LogLine, TrailEvent)):
        return [given]
    return list(given)


def _concerns(event: TrailEvent, secret: SavedSecret) -> bool:
    """Whether an event is about the secret (an event naming no secret is kept)."""
    named = event.secret_id
    if named is None:
        return True
    if named in (secret.arn, secret.name):
        return True
    # A partial ARN or an ARN without its random suffix.
    return bool(secret.arn and (secret.arn.startswith(named) or named.startswith(secret.arn)))
