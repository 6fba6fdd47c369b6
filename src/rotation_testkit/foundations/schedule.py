"""Secrets Manager rotation rules and rotation windows, as pure functions.

Follows ROTATION-SEMANTICS.md section 3 (API reference ``RotationRulesType`` and the user guide
page "Rotation schedules"). Where AWS documents nothing exact, the choice made here is an
inference and says so:

* ``next_window`` for ``rate(N hours)`` and ``cron()``: the earliest window that opens strictly
  after ``last_rotated``; for ``AutomaticallyAfterDays`` and ``rate(N days)``: the window on the UTC
  day ``last_rotated`` + N days.
* ``described_days``: see :meth:`RotationSchedule.described_days`.
* ``pick_rotation_time``: minute weights fall linearly from the top of the hour.

Nothing here reads the clock or keeps state; the same inputs always give the same outputs.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import TypeAlias

from .cron import MIN_HOURS_BETWEEN_ROTATIONS, CronError, CronRule, parse_cron

__all__ = [
    "BOTH_RULES_MESSAGE",
    "RotationSchedule",
    "ScheduleError",
    "Window",
    "parse_duration",
    "parse_rotation_rules",
    "pick_rotation_time",
]

MAX_AUTOMATICALLY_AFTER_DAYS = 1000
MAX_RATE_DAYS = 999
MAX_RATE_HOURS = 23
MAX_EXPRESSION_LENGTH = 256
MAX_DURATION_HOURS = 24
BOTH_RULES_MESSAGE = "You cannot specify both rotation frequency and schedule expression together."
_RULE_KEYS = ("AutomaticallyAfterDays", "ScheduleExpression", "Duration")
_EXPRESSION_CHAR = re.compile(r"[0-9A-Za-z\(\)#\?\*\-\/, ]")
_RATE = re.compile(r"rate\(\s*(\d+)\s+([A-Za-z]+)\s*\)")
_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)
_SECOND = timedelta(seconds=1)


class ScheduleError(ValueError):
    """A rotation rule AWS would refuse.

    ``str(err)`` is the message for ``InvalidParameterException``: it names the rule and the limit.
    """


@dataclass(frozen=True)
class Window:
    """A rotation window ``[start, end)``; both ends are stored as aware UTC datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = _utc(self.start, "Window.start"), _utc(self.end, "Window.end")
        if end <= start:
            raise ValueError(f"Window.end ({end.isoformat()}) must be after its start.")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= _utc(moment, "moment") < self.end


@dataclass(frozen=True)
class _EveryNDays:  # AutomaticallyAfterDays N and rate(N days) schedule alike
    days: int


@dataclass(frozen=True)
class _EveryNHours:
    hours: int

    def openings(self) -> range:
        """Hours of the UTC day at which a window opens; the count restarts at midnight."""
        return range(0, 24, self.hours)


_Plan: TypeAlias = _EveryNDays | _EveryNHours | CronRule


@dataclass(frozen=True)
class RotationSchedule:
    """Validated ``RotationRules``; constructing one with rules AWS refuses raises ScheduleError."""

    automatically_after_days: int | None
    schedule_expression: str | None
    duration: timedelta | None = None  # as the user gave it; None means AWS's default window
    _plan: _Plan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _require_one_rule(self.automatically_after_days, self.schedule_expression)
        plan: _Plan
        if self.schedule_expression is None:
            plan = _EveryNDays(_check_days(self.automatically_after_days))
        else:
            plan = _parse_expression(self.schedule_expression)
        object.__setattr__(self, "_plan", plan)
        if self.duration is not None:
            _check_duration_value(self.duration)
            self._check_duration_fits(self.duration)

    def window_length(self) -> timedelta:
        """The effective window length: ``duration`` if given, else AWS's default for the rule.

        Default: to the end of the UTC day for day schedules (AutomaticallyAfterDays, rate in
        days, a cron with one window a day), 1 hour for hour schedules (rate in hours, a cron
        with several windows a day).
        """
        if self.duration is not None:
            return self.duration
        plan = self._plan
        if isinstance(plan, _EveryNDays):
            return _DAY
        if isinstance(plan, _EveryNHours) or plan.is_hourly:
            return _HOUR
        return _DAY - plan.hours[0] * _HOUR

    def described_days(self) -> int:
        """The ``AutomaticallyAfterDays`` DescribeSecret reports for this schedule.

        AWS documents only that it is derived from the schedule; the derivation is an inference:
        AutomaticallyAfterDays N and ``rate(N days)`` give N; ``rate(N hours)`` gives 1 (it
        rotates several times a day, and the field counts whole days); ``cron()`` gives the
        smallest number of days between two consecutive days that have a window, at least 1,
        found by scanning the four years from 2024-01-01 (so ``cron(0 8 1 * ? *)`` gives 28 and
        ``cron(0 0 29 2 ? *)`` gives 1461).
        """
        plan = self._plan
        if isinstance(plan, _EveryNDays):
            return plan.days
        if isinstance(plan, _EveryNHours):
            return 1
        return plan.min_day_gap()

    def next_window(self, last_rotated: datetime, *, now: datetime | None = None) -> Window:
        """The next rotation window after a rotation at ``last_rotated`` (aware).

        AutomaticallyAfterDays N and ``rate(N days)``: the window opening at 00:00 UTC on
        ``last_rotated``'s UTC date + N days. ``rate(N hours)`` and ``cron()``: the earliest
        window that opens strictly after ``last_rotated``. ``now`` is only checked for being
        aware: a window that closed before ``now`` is still returned, and callers decide what a
        missed window means.
        """
        last = _utc(last_rotated, "last_rotated")
        if now is not None:
            _utc(now, "now")
        plan = self._plan
        midnight = datetime.combine(last.date(), time(), tzinfo=timezone.utc)
        if isinstance(plan, _EveryNDays):
            start = midnight + plan.days * _DAY
        elif isinstance(plan, _EveryNHours):
            later = [h for h in plan.openings() if midnight + h * _HOUR > last]
            start = midnight + (later[0] * _HOUR if later else _DAY)
        else:
            try:
                start = plan.next_fire(last)
            except CronError as exc:
                raise ScheduleError(str(exc)) from exc
        return Window(start, start + self.window_length())

    def to_rules(self, *, for_request: bool = False) -> dict[str, object]:
        """The rules in API shape, as DescribeSecret shows them.

        A ScheduleExpression comes with the derived AutomaticallyAfterDays, like DescribeSecret.
        AWS refuses that pair in RotateSecret, so pass ``for_request=True`` for rules that
        ``parse_rotation_rules`` (and RotateSecret) accept.
        """
        rules: dict[str, object] = {}
        if self.schedule_expression is None or not for_request:
            rules["AutomaticallyAfterDays"] = self.described_days()
        if self.schedule_expression is not None:
            rules["ScheduleExpression"] = self.schedule_expression
        if self.duration is not None:
            rules["Duration"] = f"{self.duration // _HOUR}h"
        return rules

    def _rule_name(self) -> str:
        if self.schedule_expression is not None:
            return f"ScheduleExpression {self.schedule_expression!r}"
        return f"AutomaticallyAfterDays {self.automatically_after_days}"

    def _check_duration_fits(self, duration: timedelta) -> None:
        plan = self._plan
        if isinstance(plan, _EveryNDays):
            starts = [0]
        else:
            starts = list(plan.openings() if isinstance(plan, _EveryNHours) else plan.hours)
        # Each candidate limit is (hours, why); the smallest one binds.
        opening = "the window opening at {:02d}:00 must close"
        limits = [(24 - starts[-1], f"{opening.format(starts[-1])} by the end of the UTC day")]
        limits += [
            (b - a, f"{opening.format(a)} before the next one opens at {b:02d}:00")
            for a, b in itertools.pairwise(starts)
        ]
        limit, why = min(limits)
        hours = duration // _HOUR
        if hours > limit:
            raise ScheduleError(
                f"Duration '{hours}h' is too long for {self._rule_name()}: {why}, so the limit "
                f"is {limit}h. Use Duration '{limit}h' or less."
            )


def parse_rotation_rules(rules: Mapping[str, object]) -> RotationSchedule:
    """Validate a ``RotationRules`` mapping as RotateSecret does; raise ScheduleError."""
    unknown = sorted(str(key) for key in rules if key not in _RULE_KEYS)
    if unknown:
        raise ScheduleError(
            f"RotationRules has unknown key(s) {', '.join(map(repr, unknown))}: AWS accepts only "
            f"{', '.join(_RULE_KEYS)}. Check the spelling."
        )
    days = rules.get("AutomaticallyAfterDays")
    expression = rules.get("ScheduleExpression")
    duration_text = rules.get("Duration")
    _require_one_rule(days, expression)
    if expression is not None and not isinstance(expression, str):
        raise ScheduleError(
            f"ScheduleExpression {expression!r} is not a string: write a rate() or cron() "
            f"expression of 1 to {MAX_EXPRESSION_LENGTH} characters, e.g. 'rate(30 days)'."
        )
    duration: timedelta | None = None
    if duration_text is not None:
        if not isinstance(duration_text, str):
            raise ScheduleError(
                f"Duration {duration_text!r} is not a string: write hours like '3h' "
                f"(1h to {MAX_DURATION_HOURS}h)."
            )
        duration = parse_duration(duration_text)
    return RotationSchedule(None if days is None else _check_days(days), expression, duration)


def parse_duration(text: str) -> timedelta:
    """``"3h"`` -> 3 hours; refuse what the API's ``Duration`` would (1h to 24h, ``[0-9]+h``)."""
    if not (2 <= len(text) <= 3 and re.fullmatch(r"[0-9]+h", text)):
        raise ScheduleError(
            f"Duration {text!r} is not a window length AWS accepts: write a whole number of "
            f"hours followed by 'h' (2 to 3 characters), from '1h' to '{MAX_DURATION_HOURS}h', "
            f"e.g. '3h'."
        )
    duration = int(text[:-1]) * _HOUR
    _check_duration_value(duration)
    return duration


def pick_rotation_time(window: Window, seed: int | str, *, salt: str = "") -> datetime:
    """A deterministic moment in ``[window.start, window.end)`` at which the service rotates.

    AWS picks the hour at random and the minute "somewhat randomly, weighted towards the top of
    the hour". Here the hour is uniform over the window's hours and minute m of the hour has
    weight 60 - m (an inference). The same window, seed and salt always give the same moment.
    """
    # sha256 rather than hash(): hash() of a str changes between interpreter runs.
    material = "|".join(
        (window.start.isoformat(), window.end.isoformat(), type(seed).__name__, str(seed), salt)
    )
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    rng = random.Random(int.from_bytes(digest[:16], "big"))
    slots = -(-(window.end - window.start) // _HOUR)  # ceiling: a partial last hour counts
    slot_start = window.start + rng.randrange(slots) * _HOUR
    slot_minutes = -(-min(_HOUR, window.end - slot_start) // _MINUTE)
    minute = rng.choices(range(slot_minutes), weights=[60 - m for m in range(slot_minutes)])[0]
    moment = slot_start + minute * _MINUTE
    seconds_left = min(_MINUTE, window.end - moment) // _SECOND
    return moment + rng.randrange(max(1, seconds_left)) * _SECOND


def _utc(moment: datetime, name: str) -> datetime:
    # A naive datetime is ambiguous (local time? UTC?), and guessing would shift windows.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}.")
    return moment.astimezone(timezone.utc)


def _require_one_rule(days: object, expression: object) -> None:
    if days is not None and expression is not None:
        raise ScheduleError(BOTH_RULES_MESSAGE)
    if days is None and expression is None:
        raise ScheduleError(
            "RotationRules needs AutomaticallyAfterDays or ScheduleExpression, and has neither. "
            "Set one, e.g. {'AutomaticallyAfterDays': 30} or {'ScheduleExpression': "
            "'rate(30 days)'}."
        )


def _check_days(days: object) -> int:
    if isinstance(days, bool) or not isinstance(days, int):
        raise ScheduleError(
            f"AutomaticallyAfterDays {days!r} is not a whole number of days: it must be an "
            f"integer from 1 to {MAX_AUTOMATICALLY_AFTER_DAYS}."
        )
    if not 1 <= days <= MAX_AUTOMATICALLY_AFTER_DAYS:
        raise ScheduleError(
            f"AutomaticallyAfterDays {days} is outside the range AWS allows: 1 to "
            f"{MAX_AUTOMATICALLY_AFTER_DAYS} days. Use a value in that range."
        )
    return days


def _check_duration_value(duration: timedelta) -> None:
    shown = f"'{duration // _HOUR}h'" if duration % _HOUR == timedelta(0) else str(duration)
    if duration % _HOUR != timedelta(0):
        raise ScheduleError(
            f"Duration {shown} is not a whole number of hours: AWS windows last 1h to "
            f"{MAX_DURATION_HOURS}h. Round it to whole hours."
        )
    if duration < _HOUR:
        raise ScheduleError(
            f"Duration {shown} is shorter than AWS allows: the minimum rotation window is 1h. "
            f"Use '1h' or more."
        )
    if duration > MAX_DURATION_HOURS * _HOUR:
        raise ScheduleError(
            f"Duration {shown} is longer than AWS allows: a window must not extend into the "
            f"next UTC day, so the maximum is {MAX_DURATION_HOURS}h. Use '24h' or less."
        )


def _parse_expression(expression: str) -> _Plan:
    name = f"ScheduleExpression {expression!r}"
    if not 1 <= len(expression) <= MAX_EXPRESSION_LENGTH:
        raise ScheduleError(
            f"{name} has {len(expression)} characters; AWS allows 1 to {MAX_EXPRESSION_LENGTH}. "
            f"Write a rate() or cron() expression, e.g. 'rate(30 days)'."
        )
    bad = sorted({char for char in expression if not _EXPRESSION_CHAR.fullmatch(char)})
    if bad:
        raise ScheduleError(
            f"{name} contains {', '.join(map(repr, bad))}, which AWS does not allow: only "
            f"letters, digits, spaces and ( ) # ? * - / , may appear."
        )
    if expression.strip().startswith("cron("):
        try:
            return parse_cron(expression)
        except CronError as exc:
            raise ScheduleError(str(exc)) from exc
    match = _RATE.fullmatch(expression.strip())
    if match is None:
        raise ScheduleError(
            f"{name} is neither a rate() nor a cron() expression. Use rate(N days), "
            f"rate(N hours) or cron(0 H day-of-month month day-of-week *), e.g. 'rate(30 days)'."
        )
    return _parse_rate(name, int(match.group(1)), match.group(2))


def _parse_rate(name: str, value: int, unit: str) -> _Plan:
    plan: _Plan
    if unit in ("hour", "hours"):
        if value < MIN_HOURS_BETWEEN_ROTATIONS:
            raise ScheduleError(
                f"{name} rotates more often than AWS allows: the minimum is every "
                f"{MIN_HOURS_BETWEEN_ROTATIONS} hours. Use rate({MIN_HOURS_BETWEEN_ROTATIONS} "
                f"hours) or longer."
            )
        if value > MAX_RATE_HOURS:
            raise ScheduleError(
                f"{name} is refused: rates in hours go up to rate({MAX_RATE_HOURS} hours). "
                f"For a daily or longer schedule use days, e.g. rate(1 day)."
            )
        plan, singular = _EveryNHours(value), "hour"
    elif unit in ("day", "days"):
        if not 1 <= value <= MAX_RATE_DAYS:
            raise ScheduleError(
                f"{name} is outside the range AWS allows: rates in days go from rate(1 day) to "
                f"rate({MAX_RATE_DAYS} days). Use a value in that range."
            )
        plan, singular = _EveryNDays(value), "day"
    elif unit.startswith("minute"):
        raise ScheduleError(
            f"{name} rotates more often than AWS allows: the minimum is every "
            f"{MIN_HOURS_BETWEEN_ROTATIONS} hours, and rates are in hours or days. Use "
            f"rate({MIN_HOURS_BETWEEN_ROTATIONS} hours) or longer."
        )
    else:
        raise ScheduleError(
            f"{name} uses the unit {unit!r}; AWS accepts only hour, hours, day and days, e.g. "
            f"rate(7 days)."
        )
    expected = singular if value == 1 else singular + "s"
    if unit != expected:
        number = "singular" if value == 1 else "plural"
        raise ScheduleError(
            f"{name} is refused: for a value of {value} AWS requires the {number} unit "
            f"{expected!r}. Use rate({value} {expected})."
        )
    return plan
