"""CloudTrail events about the secret: ``aws cloudtrail lookup-events`` output (each event's
``CloudTrailEvent`` is the record as a JSON string), or the ``Records`` of a CloudTrail log file.

Each becomes a :class:`TrailEvent`: the rotation events Secrets Manager logs itself
(RotationStarted, RotationSucceeded, RotationFailed, RotationAbandoned) and the API calls (RotateSecret,
PutSecretValue, UpdateSecretVersionStage, ...) with their error code and message, and who called.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .dates import parse_date

_STEP_IN_MESSAGE = re.compile(r"during (createSecret|setSecret|testSecret|finishSecret) step")


@dataclass(frozen=True)
class TrailEvent:
    """One CloudTrail record about a secret."""

    name: str
    time: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    secret_id: str | None = None
    version_id: str | None = None
    user_agent: str | None = None
    caller: str | None = None
    #: The names of the request's parameters (their values are left out: they may be secret).
    parameters: tuple[str, ...] = ()

    @property
    def step(self) -> str | None:
        """The step a RotationFailed event names ("... during setSecret step")."""
        match = _STEP_IN_MESSAGE.search(self.error_message or "")
        return match.group(1) if match else None

    def line(self) -> str:
        """The event as one line, for quoting."""
        text = self.name
        if self.error_code or self.error_message:
            text += ": " + ": ".join(part for part in (self.error_code, self.error_message) if part)
        if self.caller and self.caller != "secretsmanager.amazonaws.com":
            text += f" (by {self.caller})"
        return text


def is_trail_document(document: Mapping[str, Any]) -> bool:
    """Whether a JSON object is lookup-events output or a CloudTrail log file."""
    for key in ("Events", "Records"):
        events = document.get(key)
        if isinstance(events, list) and any(
            isinstance(event, Mapping) and ("EventName" in event or "eventName" in event)
            for event in events[:50]
        ):
            return True
    # A lookup with no result, or a log file with no record.
    return any(document.get(key) == [] for key in ("Events", "Records"))


def from_document(document: Mapping[str, Any]) -> list[TrailEvent]:
    events: list[TrailEvent] = []
    for entry in document.get("Events") or document.get("Records") or []:
        if not isinstance(entry, Mapping):
            continue
        record: Mapping[str, Any] = entry
        embedded = entry.get("CloudTrailEvent")
        if isinstance(embedded, str):
            try:
                parsed = json.loads(embedded)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, Mapping):
                record = parsed
        event = _event(record, entry)
        if event is not None:
            events.append(event)
    return events


def _event(record: Mapping[str, Any], entry: Mapping[str, Any]) -> TrailEvent | None:
    name = _text(record, "eventName") or _text(entry, "EventName")
    if name is None:
        return None
    try:
        when = parse_date(record.get("eventTime") or entry.get("EventTime"))
    except (ValueError, OverflowError, OSError):
        when = None
    request = _mapping(record, "requestParameters")
    response = _mapping(record, "responseElements")
    additional = _mapping(record, "additionalEventData")
    identity = _mapping(record, "userIdentity")
    secret_id = (
        _text(additional, "SecretId")
        or _text(request, "secretId")
        or _text(response, "arn")
        or _text(response, "aRN")
        or _resource(entry)
    )
    version_id = (
        _text(request, "clientRequestToken")
        or _text(request, "moveToVersionId")
        or _text(response, "versionId")
        or _text(additional, "VersionId")
    )
    caller = _text(identity, "arn") or _text(identity, "invokedBy") or _text(entry, "Username")
    return TrailEvent(
        name=name,
        time=when,
        error_code=_text(record, "errorCode"),
        error_message=_text(record, "errorMessage"),
        secret_id=secret_id,
        version_id=version_id,
        user_agent=_text(record, "userAgent"),
        caller=caller,
        parameters=tuple(str(key) for key in request),
    )


def _resource(entry: Mapping[str, Any]) -> str | None:
    resources = entry.get("Resources")
    if isinstance(resources, list):
        for resource in resources:
            if isinstance(resource, Mapping) and isinstance(resource.get("ResourceName"), str):
                return str(resource["ResourceName"])
    return None


def _mapping(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = document.get(key)
    return value if isinstance(value, Mapping) else {}


def _text(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) and value else None
