"""The event log of one world: API calls, rotation events and Lambda invocations.

Event names follow CloudTrail, so a test can assert on exactly what a production alarm watches
(``RotationFailed``, ``RotationAbandoned``...).  Every event carries a snapshot of the secret's
staging labels taken right after it, which the invariant checker and the timeline read.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .masking import NO_MASK, Masker

# Non-API events the service itself logs to CloudTrail.
ROTATION_STARTED = "RotationStarted"
ROTATION_SUCCEEDED = "RotationSucceeded"
ROTATION_FAILED = "RotationFailed"
ROTATION_ABANDONED = "RotationAbandoned"
TEST_ROTATION_STARTED = "TestRotationStarted"
TEST_ROTATION_SUCCEEDED = "TestRotationSucceeded"
TEST_ROTATION_FAILED = "TestRotationFailed"
START_SECRET_VERSION_DELETE = "StartSecretVersionDelete"
CANCEL_SECRET_VERSION_DELETE = "CancelSecretVersionDelete"
END_SECRET_VERSION_DELETE = "EndSecretVersionDelete"
# A Lambda invocation by the service (CloudTrail logs it as Lambda's Invoke).
INVOKE = "Invoke"

LabelSnapshot = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the history."""

    name: str
    time: datetime
    secret_arn: str | None = None
    version_id: str | None = None
    step: str | None = None
    attempt: int | None = None
    error: str | None = None
    labels: LabelSnapshot = field(default_factory=dict)
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: Values per labelled version, only when the world was configured with show_values=True.
    values: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form; it never holds a secret value."""
        return {
            "name": self.name,
            "time": self.time.isoformat(),
            "secret_arn": self.secret_arn,
            "version_id": self.version_id,
            "step": self.step,
            "attempt": self.attempt,
            "error": self.error,
            "labels": {version: list(labels) for version, labels in self.labels.items()},
            "detail": dict(self.detail),
            **({"values": dict(self.values)} if self.values else {}),
        }


class History:
    """An append-only, ordered list of events.

    An API call or an invocation is known in full only when it ends, yet belongs before everything
    it caused; :meth:`reserve` keeps its place in the order until :meth:`fill` completes it.
    """

    def __init__(self, limit: int | None = None) -> None:
        self._slots: deque[Event | None] = deque()
        self._dropped = 0  # slots are numbered from the start, including those dropped
        self.limit = limit
        #: Where the known secret values come from when the history is printed (the world's).
        self.masker: Callable[[], Masker] = lambda: NO_MASK

    @property
    def _events(self) -> list[Event]:
        return [event for event in self._slots if event is not None]

    @property
    def dropped(self) -> int:
        """How many of the oldest events were discarded to stay within ``limit``."""
        return self._dropped

    def record(self, event: Event) -> Event:
        self._slots.append(event)
        self._trim()
        return event

    def reserve(self) -> int:
        self._slots.append(None)
        return self._dropped + len(self._slots) - 1

    def fill(self, slot: int, event: Event) -> Event:
        if slot >= self._dropped:
            self._slots[slot - self._dropped] = event
        self._trim()
        return event

    def _trim(self) -> None:
        # A long simulation (years of daily rotation) must not grow without bound; a slot still
        # waiting for its event is never dropped.
        if self.limit is None:
            return
        while len(self._slots) > self.limit and self._slots[0] is not None:
            self._slots.popleft()
            self._dropped += 1

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def events(self, name: str | None = None, *, secret_arn: str | None = None) -> list[Event]:
        """Events in order, optionally only those with this name and/or for this secret."""
        return [
            event
            for event in self._events
            if (name is None or event.name == name)
            and (secret_arn is None or event.secret_arn == secret_arn)
        ]

    def names(self, *, secret_arn: str | None = None) -> list[str]:
        return [event.name for event in self.events(secret_arn=secret_arn)]

    def to_json(self) -> str:
        """The events as JSON; every string field (error, detail...) has known secret values
        masked, unless the world was configured with show_values=True."""
        masker = self.masker()
        return json.dumps([masker.mask_data(event.to_dict()) for event in self._events], indent=2)

    def to_text(self) -> str:
        """One line per event, for a report: time, name, step, attempt, version, outcome."""
        masker = self.masker()
        lines = []
        for event in self._events:
            parts = [event.time.strftime("%Y-%m-%d %H:%M:%S"), event.name]
            if event.step:
                parts.append(event.step)
            if event.attempt:
                parts.append(f"attempt {event.attempt}")
            if event.version_id:
                parts.append(f"version {event.version_id[:8]}")
            parts.append(masker.mask(event.error) if event.error else "ok")
            lines.append("  ".join(parts))
        return "\n".join(lines)
