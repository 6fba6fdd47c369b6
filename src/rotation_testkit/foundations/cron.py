"""EventBridge ``cron()`` expressions as Secrets Manager rotation schedules.

croniter does the calendar arithmetic. This module parses the EventBridge dialect itself (six
fields, ``?``, day-of-week numbered 1=SUN..7=SAT, ``5L``, ``LW``), so that every refusal can name
the offending field, and then hands croniter an expression in its own dialect. The one construct
croniter has no equivalent for, ``LW`` (last weekday of the month), is computed here.

Restrictions beyond AWS's documentation (inferences, kept strict so typos surface in tests):
``L``, ``LW``, ``nW``, ``nL`` and ``n#k`` must be the whole field (no lists), and ranges must
not wrap around (``FRI-MON`` is refused; write ``FRI,SAT,SUN,MON``).
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property

from croniter import CroniterBadDateError, croniter  # type: ignore[import-untyped]

__all__ = ["MIN_HOURS_BETWEEN_ROTATIONS", "CronError", "CronRule", "parse_cron"]

MIN_HOURS_BETWEEN_ROTATIONS = 4

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}
_WEEKDAYS = {
    name: number
    for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)
}
_FIELDS = "minutes hours day-of-month month day-of-week year"
_EXAMPLE = "cron(0 8 * * ? *)"
# A fixed reference keeps derived numbers (described_days) independent of today's date; the
# four years from a leap year include every month length and a 29 February.
_SCAN_FROM = datetime(2024, 1, 1, tzinfo=timezone.utc)
_SCAN_UNTIL = date(2028, 1, 1)


class CronError(ValueError):
    """The expression is not a cron schedule AWS accepts for rotation; str() says why."""


@dataclass(frozen=True)
class CronRule:
    """A validated rotation cron expression.

    ``hours`` are the UTC hours a window opens on every matching day (minutes are always 0).
    """

    expression: str
    hours: tuple[int, ...]
    croniter_expression: str | None  # None when the day rule is LW, computed here instead
    lw_months: frozenset[int] = frozenset()
    weekly: bool = False  # the days repeat every week, so two weeks show every gap

    @property
    def is_hourly(self) -> bool:
        """AWS calls a cron with several windows a day a schedule "in hours" (1 hour windows)."""
        return len(self.hours) > 1

    def next_fire(self, after: datetime) -> datetime:
        """The first window opening strictly after ``after`` (aware), in UTC."""
        after = after.astimezone(timezone.utc)
        if self.croniter_expression is None:
            return self._next_last_weekday(after)
        try:
            fired: datetime = croniter(self.croniter_expression, after).get_next(datetime)
        except CroniterBadDateError as exc:
            raise CronError(
                f"ScheduleExpression {self.expression!r} never fires: no date matches its "
                f"day-of-month, month and day-of-week fields together. Choose days that exist "
                f"in the chosen months, e.g. 'L' for the last day of the month."
            ) from exc
        return fired.astimezone(timezone.utc)

    def _next_last_weekday(self, after: datetime) -> datetime:
        year, month = after.year, after.month
        for _ in range(13):  # lw_months is never empty, so a year and a month always suffice
            if month in self.lw_months:
                day = _last_weekday(year, month)
                for hour in self.hours:
                    candidate = datetime.combine(day, time(hour), tzinfo=timezone.utc)
                    if candidate > after:
                        return candidate
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("unreachable: LW fires every listed month")  # pragma: no cover

    def min_day_gap(self) -> int:
        """Smallest number of days between two consecutive days with a window.

        Scans four years from 2024-01-01 (plus the gap that crosses the end), so leap days and
        every month length are seen; two weeks for a plain day-of-week schedule. Stops early at
        1 because nothing is smaller.
        """
        return self._min_day_gap

    @cached_property
    def _min_day_gap(self) -> int:
        # Cached on the instance: a scan costs croniter a few hundred steps.
        until = _SCAN_FROM.date() + timedelta(days=14) if self.weekly else _SCAN_UNTIL
        best: int | None = None
        previous: date | None = None
        cursor = _SCAN_FROM - timedelta(seconds=1)
        while True:
            day = self.next_fire(cursor).date()
            if previous is not None:
                gap = (day - previous).days
                best = gap if best is None else min(best, gap)
                if best == 1 or day >= until:
                    return best
            previous = day
            # After the day's last window the next firing is necessarily on a later day.
            cursor = datetime.combine(day, time(self.hours[-1]), tzinfo=timezone.utc)


def parse_cron(expression: str) -> CronRule:
    """Validate ``cron(...)`` for rotation and translate it for croniter; raise CronError."""
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    if match is None:
        raise CronError(f"ScheduleExpression {expression!r} is not a cron() expression.")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise CronError(
            f"ScheduleExpression {expression!r} has {len(fields)} fields, but a cron expression "
            f"needs exactly 6: {_FIELDS}. Write it like {_EXAMPLE}."
        )
    minutes, hours_text, dom, month_text, dow, year = fields
    if minutes != "0":
        fixed = f"cron(0 {' '.join(fields[1:])})"
        raise CronError(
            f"ScheduleExpression {expression!r} is refused: the minutes field of a rotation cron "
            f"expression must be 0 (rotation windows open on the hour), not {minutes!r}. "
            f"Use {fixed}."
        )
    if year != "*":
        fixed = f"cron({' '.join(fields[:5])} *)"
        raise CronError(
            f"ScheduleExpression {expression!r} is refused: the year field of a rotation cron "
            f"expression must be '*' (AWS does not rotate on schedules more than a year apart), "
            f"not {year!r}. Use {fixed}."
        )
    if (dom == "?") == (dow == "?"):
        both = "both are '?'" if dom == "?" else "neither is '?'"
        raise CronError(
            f"ScheduleExpression {expression!r} is refused: exactly one of day-of-month and "
            f"day-of-week must be '?', but {both}. Use '?' in the field you do not restrict, "
            f"e.g. cron(0 8 * * ? *) or cron(0 8 ? * MON *)."
        )
    hours = _expand(expression, "hours", hours_text, 0, 23, {})
    _check_spacing(expression, hours)
    months = _expand(expression, "month", month_text, 1, 12, _MONTHS)
    month_part = "*" if month_text == "*" else ",".join(map(str, months))
    hour_part = ",".join(map(str, hours))
    if dom == "LW":
        rule = CronRule(expression, tuple(hours), None, frozenset(months))
    else:
        dom_part = "*" if dom == "?" else _day_of_month(expression, dom)
        dow_part = "*" if dow == "?" else _day_of_week(expression, dow)
        translated = f"0 {hour_part} {dom_part} {month_part} {dow_part}"
        weekly = dom == "?" and month_part == "*" and not re.search(r"[L#]", dow_part)
        rule = CronRule(expression, tuple(hours), translated, weekly=weekly)
    rule.next_fire(_SCAN_FROM)  # refuses expressions that never fire, such as 30 February
    overnight = 24 - hours[-1] + hours[0]
    # Across midnight the windows are only too close if two consecutive days both fire.
    if overnight < MIN_HOURS_BETWEEN_ROTATIONS and rule.min_day_gap() == 1:
        raise _too_often(expression, hours[-1], hours[0], overnight)
    return rule


def _too_often(expression: str, first: int, second: int, gap: int) -> CronError:
    return CronError(
        f"ScheduleExpression {expression!r} rotates more often than AWS allows: windows open "
        f"at {first:02d}:00 and {second:02d}:00, {gap} hours apart, but the minimum is every "
        f"{MIN_HOURS_BETWEEN_ROTATIONS} hours. Space the hours at least "
        f"{MIN_HOURS_BETWEEN_ROTATIONS} apart, e.g. cron(0 */4 * * ? *)."
    )


def _check_spacing(expression: str, hours: list[int]) -> None:
    for first, second in itertools.pairwise(hours):
        if second - first < MIN_HOURS_BETWEEN_ROTATIONS:
            raise _too_often(expression, first, second, second - first)


def _day_of_month(expression: str, text: str) -> str:
    if text in ("*", "L"):
        return text
    nearest = re.fullmatch(r"(\d+)W", text)
    if nearest is not None:
        day = int(nearest.group(1))
        if not 1 <= day <= 31:
            raise _bad_value(expression, "day-of-month", text, "1 to 31")
        return f"{day}W"
    return ",".join(map(str, _expand(expression, "day-of-month", text, 1, 31, {})))


def _day_of_week(expression: str, text: str) -> str:
    # croniter numbers days 0=SUN..6=SAT; EventBridge 1=SUN..7=SAT, hence the "- 1" below.
    if text == "*":
        return text
    if text == "L":
        return "6"  # on its own, L in day-of-week is the last day of the week: Saturday
    last = re.fullmatch(r"(\w+)L", text)
    if last is not None:
        return f"L{_single(expression, 'day-of-week', last.group(1), 1, 7, _WEEKDAYS) - 1}"
    nth = re.fullmatch(r"(\w+)#(\d+)", text)
    if nth is not None:
        weekday = _single(expression, "day-of-week", nth.group(1), 1, 7, _WEEKDAYS)
        week = int(nth.group(2))
        if not 1 <= week <= 5:
            raise _bad_value(expression, "day-of-week", text, "#1 to #5 after the day")
        return f"{weekday - 1}#{week}"
    days = _expand(expression, "day-of-week", text, 1, 7, _WEEKDAYS)
    return ",".join(str(day - 1) for day in days)


def _expand(
    expression: str, field: str, text: str, low: int, high: int, names: Mapping[str, int]
) -> list[int]:
    """Expand ``*``, ``a``, ``a-b``, ``*/n``, ``a/n``, ``a-b/n`` and comma lists."""
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise _bad_value(expression, field, part, "a step of at least 1 after '/'")
            step = int(step_text)
        if base == "*":
            start, stop = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start = _single(expression, field, first, low, high, names)
            stop = _single(expression, field, last, low, high, names)
            if start > stop:
                raise CronError(
                    f"ScheduleExpression {expression!r} is refused: the range {part!r} in the "
                    f"{field} field runs backwards; ranges must go from low to high and do not "
                    f"wrap around. List the values instead, e.g. 'FRI,SAT,SUN,MON'."
                )
        else:
            start = _single(expression, field, base, low, high, names)
            stop = high if slash else start
        values.update(range(start, stop + 1, step))
    return sorted(values)


def _single(
    expression: str, field: str, text: str, low: int, high: int, names: Mapping[str, int]
) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    allowed = f"{low} to {high}"
    if names:
        ordered = sorted(names, key=names.__getitem__)
        allowed += f" or {ordered[0]} to {ordered[-1]}"
    if field.startswith("day-") and re.search(r"[LW#?]", text):
        allowed += ". L, W, # and ? must be the whole field, not part of a list or range"
    raise _bad_value(expression, field, text, allowed)


def _bad_value(expression: str, field: str, text: str, allowed: str) -> CronError:
    return CronError(
        f"ScheduleExpression {expression!r} is refused: {text!r} in the {field} field is not "
        f"valid; the field allows {allowed}. Fields are: {_FIELDS}."
    )


def _last_weekday(year: int, month: int) -> date:
    day = date(year, month, calendar.monthrange(year, month)[1])
    # weekday(): Saturday is 5 and Sunday 6; step back to Friday.
    return day - timedelta(days=max(0, day.weekday() - 4))
