"""The rotation function's log events, and how ``aws logs filter-log-events`` or
``get-log-events`` JSON holds them (:mod:`.log_text` reads the text shapes).

Each log event becomes a :class:`LogLine` (a traceback stays with the ``[ERROR]`` line it belongs
to), with the invocation's request id and, where the line shows it, the rotation step. Nothing here
decides what the lines mean; :mod:`.causes` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .dates import parse_date

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
# The step functions of AWS's rotation templates, as a traceback names them.
_STEP_FUNCTIONS = {
    "create_secret": "createSecret",
    "set_secret": "setSecret",
    "test_secret": "testSecret",
    "finish_secret": "finishSecret",
}
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Where Lambda writes the request id: "START RequestId: ID", "[LEVEL]\tTIME\tID\t...",
# "TIME ID Task timed out after ...".
_REQUEST_ID = re.compile(
    rf"RequestId:\s*({_UUID})|^\[[A-Z]+\]\t[^\t]*\t({_UUID})\t|^(?:\S+\s+)?({_UUID})\s+Task timed out"
)
# "[LEVEL]\tTIME\tREQUEST_ID\t" (Python's logging in Lambda) or "TIME REQUEST_ID " (a timeout).
_PREFIX = re.compile(
    rf"^(?:(?P<level>\[[A-Z]+\])\t[^\t]*\t{_UUID}\t|\d{{4}}-\d{{2}}-\d{{2}}T\S+\s+{_UUID}\s+)"
)
_STEP_WORD = re.compile(r"\b(createSecret|setSecret|testSecret|finishSecret)\b")
_STEP_IN_TRACE = re.compile(r"\bin (create_secret|set_secret|test_secret|finish_secret)\b")


@dataclass(frozen=True)
class LogLine:
    """One log event of the rotation function (several physical lines for a traceback)."""

    text: str
    time: datetime | None = None
    request_id: str | None = None

    @property
    def message(self) -> str:
        """The text without the time and request id Lambda's log format puts before it."""
        return _PREFIX.sub(
            lambda m: f"{m.group('level')} " if m.group("level") else "", self.text, count=1
        )

    @property
    def first_line(self) -> str:
        return self.text.strip().splitlines()[0] if self.text.strip() else ""

    @property
    def step(self) -> str | None:
        """The rotation step the line names, if it names one."""
        match = _STEP_WORD.search(self.text)
        if match:
            return match.group(1)
        trace = _STEP_IN_TRACE.findall(self.text)
        return _STEP_FUNCTIONS[trace[-1]] if trace else None


def is_log_document(document: Mapping[str, Any]) -> bool:
    """Whether a JSON object is filter-log-events or get-log-events output."""
    events = document.get("events")
    return isinstance(events, list) and (
        not events
        or any(isinstance(event, Mapping) and "message" in event for event in events[:50])
    )


def from_document(document: Mapping[str, Any]) -> list[LogLine]:
    """The log events of filter-log-events / get-log-events output."""
    lines: list[LogLine] = []
    for event in document.get("events") or []:
        if not isinstance(event, Mapping) or not isinstance(event.get("message"), str):
            continue
        when = _event_time(event.get("timestamp"))
        text = _structured(event["message"]).replace("\r\n", "\n").strip("\n")
        if text.strip():
            lines.append(log_line(text, when))
    return in_invocations(lines)


def in_invocations(lines: list[LogLine]) -> list[LogLine]:
    """Give a line without a request id the id of the invocation it was logged in: the lines
    between START and END of a request (as a log stream holds them) belong to it."""
    current: str | None = None
    placed: list[LogLine] = []
    for line in lines:
        if line.text.startswith("START RequestId:"):
            current = line.request_id
        if line.request_id is None and current is not None:
            line = LogLine(text=line.text, time=line.time, request_id=current)
        placed.append(line)
        if line.text.startswith(("END RequestId:", "REPORT RequestId:")):
            current = None
    return placed


def _event_time(value: object) -> datetime | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def _structured(message: str) -> str:
    """A JSON-formatted log record (Lambda's JSON log format) as the text line it stands for."""
    stripped = message.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return message
    try:
        record = json.loads(stripped)
    except (ValueError, RecursionError):
        return message
    if not isinstance(record, dict):
        return message
    if isinstance(record.get("errorMessage"), str):
        kind = record.get("errorType")
        text = (
            f"[ERROR] {kind}: {record['errorMessage']}"
            if isinstance(kind, str)
            else (f"[ERROR] {record['errorMessage']}")
        )
        trace = record.get("stackTrace")
        if isinstance(trace, list):
            text += "\n" + "\n".join(str(frame) for frame in trace)
        return text
    if isinstance(record.get("message"), str):
        level = record.get("level")
        prefix = f"[{level}]\t" if isinstance(level, str) else ""
        request = record.get("requestId")
        suffix = f"\t{request}" if isinstance(request, str) else ""
        return f"{prefix}{record['message']}{suffix}"
    return message


def log_line(text: str, when: datetime | None) -> LogLine:
    if when is None:
        # Python's logging in Lambda: "[LEVEL]\t<time>\t<request id>\t<message>".
        parts = text.split("\t")
        if len(parts) >= 3 and parts[0].startswith("["):
            try:
                when = parse_date(parts[1])
            except (ValueError, OverflowError):
                when = None
        else:
            # "<time> <request id> Task timed out after ..."
            first = text.split(None, 1)[0] if text.split() else ""
            if re.match(r"^\d{4}-\d{2}-\d{2}T", first):
                try:
                    when = parse_date(first)
                except (ValueError, OverflowError):
                    when = None
    match = _REQUEST_ID.search(text)
    request_id = next((group for group in match.groups() if group), None) if match else None
    return LogLine(text=text.rstrip(), time=when, request_id=request_id)
