"""The rotation function's logs saved as text, in each shape a user saves them.

- ``aws logs tail`` (AWS CLI v2): ``TIME STREAM MESSAGE``, the time in ISO 8601 with its offset
  (``2025-05-31T03:05:11.310000+00:00``) and the log stream's name;
- ``aws logs tail --format short``: ``TIME MESSAGE``, the time to the second
  (``2025-05-31T03:05:11``, UTC);
- rows copied from the CloudWatch console's table:
  ``  | 2022-01-03T10:06:48.697+00:00 | [ERROR] ModuleNotFoundError: ...``;
- plain lines, with or without a leading time (the console's "copy" gives ``TIME<tab>MESSAGE``).

Each line is reduced to its time and its message before the message is read, so that the same log
event reads the same whatever the shape it was saved in. A message spread over several lines (a
traceback) stays one event: its continuation lines start indented or with "Traceback".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from .dates import parse_date
from .logs import LogLine, in_invocations, log_line

_ISO = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
# Colours `aws logs tail` adds when it writes to a terminal (and a copy of that terminal keeps).
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# "| TIME | MESSAGE |" (the time cell is empty on a continuation row); "│" as some terminals copy
# it. Only the row's start is matched: the message is the rest, so a long line costs linear time.
_CONSOLE_ROW = re.compile(rf"^\s*[|│]\s*(?P<time>{_ISO})?\s*[|│]")
# The console table's header and rule rows.
_CONSOLE_FRAME = re.compile(r"^[\s|│+\-=─┼]*$|^\s*[|│]\s*timestamp\s*[|│]\s*message", re.I)
_LEADING_TIME = re.compile(rf"^(?P<time>{_ISO})(?:[\s|,]+|$)")
# A Lambda log stream's name, as `aws logs tail` prints it after the time.
_LAMBDA_STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[[^\]\s]*\][0-9A-Za-z]+(?:\s|$)")
#: Words that only a Lambda function's log holds: plain text without any is not a log.
_LOG_MARKERS = re.compile(
    r"RequestId:|\[(?:ERROR|INFO|WARNING|DEBUG)\]|Traceback \(most recent call last\)|"
    r"Task timed out after|INIT_START|(?:create|set|test|finish)Secret|Runtime\.\w+Error"
)


def looks_like_log_text(text: str) -> bool:
    """Whether plain text is a Lambda function's log, in any of the shapes this module reads."""
    return bool(_LOG_MARKERS.search(text[:200_000]))


def from_text(text: str) -> list[LogLine]:
    """The log events of text saved from ``aws logs tail``, the console, or as plain lines."""
    return in_invocations(list(_events(_messages(text))))


def _messages(text: str) -> Iterator[tuple[datetime | None, str]]:
    """(time or None, message line) for each physical line, the shape's framing removed."""
    text = _ANSI.sub("", text)
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not raw.strip():
            continue
        row = _CONSOLE_ROW.match(raw)
        if row is not None:
            if _CONSOLE_FRAME.match(raw):
                continue
            message = _cell(raw[row.end() :])
            # One space pads the cell; more is the message's own indentation (a traceback).
            message = message[1:] if message.startswith(" ") else message
            if row.group("time") is None:
                yield None, message if message[:1].isspace() else "  " + message
                continue
            yield _time(row.group("time")), message
            continue
        if _CONSOLE_FRAME.match(raw) and any(mark in raw for mark in "|│+┼"):
            continue
        leading = _LEADING_TIME.match(raw)
        if leading is None:
            yield None, raw
            continue
        message = raw[leading.end() :]
        stream = _LAMBDA_STREAM.match(message)
        if stream is not None:
            message = message[stream.end() :]
        yield _time(leading.group("time")), message


def _cell(rest: str) -> str:
    """The message cell of a console row: the rest of the line without a closing " |"."""
    rest = rest.rstrip()
    if rest.endswith(("|", "│")) and rest[-2:-1].isspace():
        rest = rest[:-1].rstrip()
    return rest


def _events(lines: Iterable[tuple[datetime | None, str]]) -> Iterator[LogLine]:
    """Join a message's continuation lines (indented, or a traceback's header) to it."""
    current: list[str] = []
    current_time: datetime | None = None
    for moment, message in lines:
        continuation = message[:1].isspace() or message.startswith(("Traceback", "During handling"))
        if continuation and current and moment is None:
            current.append(message)
            continue
        if current:
            yield log_line("\n".join(current), current_time)
        current, current_time = [message], moment
    if current:
        yield log_line("\n".join(current), current_time)


def _time(text: str) -> datetime | None:
    try:
        return parse_date(text.replace(",", "."))
    except (ValueError, OverflowError, OSError):
        return None
