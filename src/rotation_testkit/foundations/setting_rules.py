"""What each setting of :class:`~.config.KitConfig` accepts, checked before the value is used.

Settings arrive from markers, ini files (as text, or typed from pytest's native TOML table) and
``configure()``. A wrong value is refused here, once, with a message that names the setting, the
value and what is accepted, instead of surfacing later as a ``TypeError`` deep inside a rotation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from .invariant_catalogue import UnknownInvariant, check_names

#: The latest instant a clock may start at or reach: far enough from the end of Python's calendar
#: (9999-12-31) that every date a schedule computes from it (up to 1000 days ahead, plus its
#: window) still exists.
LATEST_INSTANT = datetime(9990, 1, 1, tzinfo=timezone.utc)
#: The earliest start: AWS's dates are seconds since 1970.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=timezone.utc)

_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-\d+$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_MAX_DURATION = timedelta(days=365 * 100)


class Refused(ValueError):
    """A value one setting does not accept; ``accepted`` says what it does."""

    def __init__(self, accepted: str, *, message: str | None = None) -> None:
        super().__init__(message or accepted)
        self.accepted = accepted
        self.message = message  # a whole message of its own, when the rule has a better one


def refusal(name: str, value: object, accepted: str) -> str:
    """The one wording of a refused setting: the setting, the value (and its type), the rule."""
    return f"{name}={value!r} ({type(value).__name__}) is not accepted: {name} takes {accepted}."


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise Refused("True or False")
    return value


def _count(minimum: int, accepted: str) -> Callable[[object], int]:
    def check(value: object) -> int:
        if not _is_int(value) or value < minimum:  # type: ignore[operator]
            raise Refused(accepted)
        return value  # type: ignore[return-value]

    return check


def _optional(check: Callable[[object], Any], accepted: str) -> Callable[[object], Any]:
    def optional(value: object) -> Any:
        if value is None:
            return None
        try:
            return check(value)
        except Refused:
            raise Refused(f"None or {accepted}") from None

    return optional


def _duration(value: object) -> timedelta:
    accepted = "a timedelta or a number of seconds, not negative, of at most 100 years"
    if isinstance(value, bool):
        raise Refused(accepted)
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or abs(value) > _MAX_DURATION.total_seconds():
            raise Refused(accepted)
        value = timedelta(seconds=value)
    if not isinstance(value, timedelta) or not timedelta(0) <= value <= _MAX_DURATION:
        raise Refused(accepted)
    return value


def _text(pattern: re.Pattern[str], accepted: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise Refused(accepted)
        return value

    return check


def _rotation_mode(value: object) -> str:
    if value not in ("immediate", "deferred"):
        raise Refused("'immediate' or 'deferred'")
    return value


def _cold_starts(value: object) -> str:
    if value not in ("first", "every"):
        raise Refused("'first' or 'every'")
    return value


def _invariant_names(value: object) -> frozenset[str]:
    accepted = "invariant names, as a list or a string separated by spaces or commas"
    if isinstance(value, (list, tuple, set, frozenset)):
        if not all(isinstance(name, str) for name in value):
            raise Refused(accepted)
    elif not isinstance(value, str):
        raise Refused(accepted)
    try:
        return check_names(value)
    except UnknownInvariant as error:
        raise Refused(accepted, message=str(error)) from None


def _seed(value: object) -> int | str:
    if not (_is_int(value) or isinstance(value, str)):
        raise Refused("an int or a str")
    return value  # type: ignore[return-value]


def parse_start(value: datetime | str) -> datetime:
    """An aware UTC instant from a datetime (naive means UTC) or an ISO 8601 string."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _clock_start(value: object) -> datetime | str | None:
    if value is None:
        return None
    accepted = (
        "None, a datetime or an ISO 8601 string such as '2025-01-01T09:00:00Z', between "
        f"{EARLIEST_INSTANT:%Y-%m-%d} and {LATEST_INSTANT:%Y-%m-%d}"
    )
    if not isinstance(value, (datetime, str)):
        raise Refused(accepted)
    try:
        instant = parse_start(value)
    except (ValueError, OverflowError):
        raise Refused(accepted) from None
    if not EARLIEST_INSTANT <= instant <= LATEST_INSTANT:
        raise Refused(accepted)
    return value


_RULES: dict[str, Callable[[object], Any]] = {
    "region": _text(_REGION, "an AWS region name such as 'us-east-1'"),
    "account_id": _text(_ACCOUNT_ID, "a string of 12 digits such as '123456789012'"),
    "max_attempts": _count(1, "a whole number of at least 1 (1 turns retries off)"),
    "version_retention": _count(1, "a whole number of at least 1"),
    "history_limit": _optional(_count(1, ""), "a whole number of at least 1"),
    "rotation_mode": _rotation_mode,
    "cold_starts": _cold_starts,
    "step_duration": _duration,
    "retry_interval": _duration,
    "reattempt_delay": _optional(_duration, "a timedelta or a number of seconds, not negative"),
    "disabled_invariants": _invariant_names,
    "seed": _seed,
    "clock_start": _clock_start,
}


def check_setting(name: str, value: object, *, boolean: bool = False) -> Any:
    """The value to keep for setting ``name``; raises :class:`Refused` with what it accepts.

    ``boolean`` marks a True/False setting; a setting with no rule here is kept as given.
    """
    if boolean:
        return _boolean(value)
    rule = _RULES.get(name)
    return value if rule is None else rule(value)
