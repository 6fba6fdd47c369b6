"""Dates in saved AWS CLI output: reading them, and saying them relative to the diagnosis time."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_FRACTION = re.compile(r"(\.\d+)")


def parse_date(value: object) -> datetime | None:
    """An aware UTC datetime from an AWS CLI date: ISO 8601 text, epoch seconds or a datetime.

    Returns None for None; raises ValueError for anything else it cannot read, including a date
    that is outside the calendar once in UTC (9999-12-31T23:59:59-05:00).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:
            raise ValueError("the date is outside the calendar in UTC") from None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds, as JavaScript SDKs print them
            seconds /= 1000
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        try:
            return parse_date(float(text))
        except ValueError:
            pass
        text = re.sub(r"[zZ]$", "+00:00", text)
        # Python 3.10 reads only 3 or 6 fractional digits.
        text = _FRACTION.sub(lambda m: (m.group(1) + "000000")[:7], text, count=1)
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
        return parse_date(parsed)
    raise ValueError(value)


def when(moment: datetime | None, now: datetime) -> str:
    """The date in UTC to the minute, and how long before or after ``now`` it is."""
    if moment is None:
        return "at an unknown date"
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC ({relative(moment, now)})"


def relative(moment: datetime, now: datetime) -> str:
    """How long before (or after) ``now`` the moment is, in its largest whole unit."""
    seconds = (now - moment).total_seconds()
    amount = abs(seconds)
    if amount < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if amount >= size:
            count = int(amount // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"{text} ago" if seconds > 0 else f"in {text}"
    return "just now"  # pragma: no cover
