"""Rotation rules, windows and rotation-time picking (rotation_testkit.schedule and .cron)."""

from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from rotation_testkit.cron import parse_cron
from rotation_testkit.schedule import (
    BOTH_RULES_MESSAGE,
    RotationSchedule,
    ScheduleError,
    Window,
    parse_duration,
    parse_rotation_rules,
    pick_rotation_time,
)

UTC = timezone.utc
H = timedelta(hours=1)


def at(text: str) -> datetime:
    """'2024-06-01 08:30' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def expr(expression: str, duration: str | None = None) -> RotationSchedule:
    rules: dict[str, object] = {"ScheduleExpression": expression}
    if duration is not None:
        rules["Duration"] = duration
    return parse_rotation_rules(rules)


def window(schedule: RotationSchedule, last: str) -> tuple[datetime, datetime]:
    found = schedule.next_window(at(last))
    return found.start, found.end


def refusal(rules: dict[str, object]) -> str:
    with pytest.raises(ScheduleError) as caught:
        parse_rotation_rules(rules)
    return str(caught.value)


def openings(schedule: RotationSchedule, last: str, count: int) -> list[datetime]:
    """The next ``count`` window starts, chaining next_window from ``last``."""
    starts: list[datetime] = []
    moment = at(last)
    for _ in range(count):
        moment = schedule.next_window(moment).start
        starts.append(moment)
    return starts


# --- choosing the rule ------------------------------------------------------------------------


def test_both_rules_are_refused_with_the_aws_text() -> None:
    message = refusal({"AutomaticallyAfterDays": 30, "ScheduleExpression": "rate(30 days)"})
    assert message == BOTH_RULES_MESSAGE
    assert message == "You cannot specify both rotation frequency and schedule expression together."


def test_both_rules_are_refused_when_constructed_directly() -> None:
    with pytest.raises(ScheduleError, match=r"^You cannot specify both"):
        RotationSchedule(30, "rate(30 days)", None)


@pytest.mark.parametrize("rules", [{}, {"Duration": "3h"}, {"AutomaticallyAfterDays": None}])
def test_a_rule_is_required(rules: dict[str, object]) -> None:
    message = refusal(rules)
    assert "AutomaticallyAfterDays or ScheduleExpression" in message
    assert "neither" in message


def test_none_values_count_as_absent() -> None:
    schedule = parse_rotation_rules({"AutomaticallyAfterDays": 5, "ScheduleExpression": None})
    assert schedule.automatically_after_days == 5
    assert schedule.schedule_expression is None


def test_unknown_keys_are_refused() -> None:
    message = refusal({"AutomaticallyAfterDays": 5, "AutomaticallyAfterDay": 5})
    assert "'AutomaticallyAfterDay'" in message
    assert "AutomaticallyAfterDays, ScheduleExpression, Duration" in message


# --- AutomaticallyAfterDays -------------------------------------------------------------------


@pytest.mark.parametrize("days", [1, 7, 1000])
def test_automatically_after_days_in_range_is_accepted(days: int) -> None:
    assert parse_rotation_rules({"AutomaticallyAfterDays": days}).described_days() == days


@pytest.mark.parametrize("days", [0, -1, 1001])
def test_automatically_after_days_out_of_range_is_refused(days: int) -> None:
    message = refusal({"AutomaticallyAfterDays": days})
    assert f"AutomaticallyAfterDays {days} " in message
    assert "1 to 1000" in message


@pytest.mark.parametrize("days", [True, "30", 30.0])
def test_automatically_after_days_must_be_an_int(days: object) -> None:
    message = refusal({"AutomaticallyAfterDays": days})
    assert f"AutomaticallyAfterDays {days!r}" in message
    assert "integer from 1 to 1000" in message


def test_automatically_after_days_window_is_the_whole_utc_day_n_days_later() -> None:
    schedule = parse_rotation_rules({"AutomaticallyAfterDays": 30})
    assert window(schedule, "2024-06-01 08:30") == (at("2024-07-01 00:00"), at("2024-07-02 00:00"))
    assert window(schedule, "2024-12-20 23:59") == (at("2025-01-19 00:00"), at("2025-01-20 00:00"))
    assert schedule.window_length() == 24 * H


def test_automatically_after_days_counts_from_the_utc_date() -> None:
    schedule = parse_rotation_rules({"AutomaticallyAfterDays": 1})
    # 23:30 at UTC-5 is already 2 June in UTC, so the next window is on 3 June.
    last = datetime(2024, 6, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    found = schedule.next_window(last)
    assert found.start == at("2024-06-03 00:00")
    assert found.start.tzinfo == UTC


def test_automatically_after_days_with_duration_shortens_the_window() -> None:
    schedule = parse_rotation_rules({"AutomaticallyAfterDays": 30, "Duration": "3h"})
    assert window(schedule, "2024-06-01 08:30") == (at("2024-07-01 00:00"), at("2024-07-01 03:00"))


# --- ScheduleExpression: shape ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "fragments"),
    [
        ("", ["has 0 characters", "1 to 256"]),
        ("rate(1 day)" + " " * 250, ["has 261 characters", "1 to 256"]),
        ("rate(1_day)", ["'_'", "( ) # ? * - / ,"]),
        ("every day", ["neither a rate() nor a cron() expression", "rate(N days)"]),
        ("rate(2 weeks)", ["'weeks'", "hour, hours, day and days"]),
    ],
)
def test_malformed_expressions_are_refused(expression: str, fragments: list[str]) -> None:
    message = refusal({"ScheduleExpression": expression})
    assert f"ScheduleExpression {expression!r}" in message
    for fragment in fragments:
        assert fragment in message


def test_expression_must_be_a_string() -> None:
    assert "is not a string" in refusal({"ScheduleExpression": 30})


# --- rate() -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    ["rate(4 hours)", "rate(23 hours)", "rate(1 day)", "rate(2 days)", "rate(999 days)"],
)
def test_valid_rates_are_accepted(expression: str) -> None:
    assert expr(expression).schedule_expression == expression


@pytest.mark.parametrize(
    ("expression", "fragments"),
    [
        (
            "rate(2 hours)",
            [
                "ScheduleExpression 'rate(2 hours)' rotates more often than AWS allows: the "
                "minimum is every 4 hours. Use rate(4 hours) or longer."
            ],
        ),
        ("rate(3 hours)", ["minimum is every 4 hours"]),
        ("rate(1 hour)", ["minimum is every 4 hours"]),
        ("rate(30 minutes)", ["minimum is every 4 hours"]),
        ("rate(24 hours)", ["rate(23 hours)", "rate(1 day)"]),
        ("rate(0 days)", ["rate(1 day) to rate(999 days)"]),
        ("rate(1000 days)", ["rate(1 day) to rate(999 days)"]),
        ("rate(1 days)", ["singular", "Use rate(1 day)."]),
        ("rate(2 day)", ["plural", "Use rate(2 days)."]),
        ("rate(5 hour)", ["plural", "Use rate(5 hours)."]),
    ],
)
def test_invalid_rates_are_refused(expression: str, fragments: list[str]) -> None:
    message = refusal({"ScheduleExpression": expression})
    assert f"ScheduleExpression {expression!r}" in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("last", "start"),
    [
        ("2024-06-01 00:00", "2024-06-01 04:00"),
        ("2024-06-01 08:30", "2024-06-01 12:00"),
        ("2024-06-01 12:00", "2024-06-01 16:00"),  # strictly after: not the window at 12:00
        ("2024-06-01 20:00", "2024-06-02 00:00"),
        ("2024-06-01 23:59", "2024-06-02 00:00"),
    ],
)
def test_hour_rate_windows_open_every_n_hours_from_midnight(last: str, start: str) -> None:
    assert window(expr("rate(4 hours)"), last) == (at(start), at(start) + H)


def test_hour_rate_count_restarts_at_midnight() -> None:
    # rate(5 hours) opens at 00, 05, 10, 15 and 20, then 00 again, not 01.
    schedule = expr("rate(5 hours)")
    assert [s.hour for s in openings(schedule, "2024-06-01 00:00", 6)] == [5, 10, 15, 20, 0, 5]


def test_hour_rate_with_duration() -> None:
    schedule = expr("rate(7 hours)", "3h")
    assert window(schedule, "2024-06-01 15:00") == (at("2024-06-01 21:00"), at("2024-06-02 00:00"))


@pytest.mark.parametrize(
    ("expression", "last", "start"),
    [
        ("rate(1 day)", "2024-06-01 08:30", "2024-06-02 00:00"),
        ("rate(10 days)", "2024-06-01 00:00", "2024-06-11 00:00"),
        ("rate(10 days)", "2024-06-01 23:59", "2024-06-11 00:00"),
        ("rate(999 days)", "2024-01-01 12:00", "2026-09-26 00:00"),
    ],
)
def test_day_rate_window_is_the_utc_day_n_days_later(
    expression: str, last: str, start: str
) -> None:
    assert window(expr(expression), last) == (at(start), at(start) + 24 * H)


def test_day_rate_with_duration() -> None:
    schedule = expr("rate(1 day)", "2h")
    assert window(schedule, "2024-06-01 08:30") == (at("2024-06-02 00:00"), at("2024-06-02 02:00"))


# --- Duration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "hours"), [("1h", 1), ("3h", 3), ("24h", 24), ("04h", 4)])
def test_parse_duration(text: str, hours: int) -> None:
    assert parse_duration(text) == hours * H


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0h", "the minimum rotation window is 1h"),
        ("25h", "the maximum is 24h"),
        ("99h", "the maximum is 24h"),
        ("3", "from '1h' to '24h'"),
        ("h", "from '1h' to '24h'"),
        ("100h", "2 to 3 characters"),
        ("3H", "from '1h' to '24h'"),
        ("3 h", "from '1h' to '24h'"),
        ("-1h", "from '1h' to '24h'"),
    ],
)
def test_invalid_durations_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_duration(text)
    assert f"Duration {text!r}" in str(caught.value)
    assert fragment in str(caught.value)


def test_duration_must_be_a_string_in_rules() -> None:
    assert "is not a string" in refusal({"AutomaticallyAfterDays": 1, "Duration": 3})


@pytest.mark.parametrize(
    ("duration", "fragment"),
    [
        (timedelta(minutes=90), "not a whole number of hours"),
        (timedelta(0), "minimum rotation window is 1h"),
        (timedelta(hours=25), "maximum is 24h"),
    ],
)
def test_constructor_checks_duration(duration: timedelta, fragment: str) -> None:
    with pytest.raises(ScheduleError, match=fragment):
        RotationSchedule(None, "rate(1 day)", duration)


@pytest.mark.parametrize(
    ("rules", "longest"),
    [
        ({"ScheduleExpression": "rate(4 hours)"}, 4),
        ({"ScheduleExpression": "rate(6 hours)"}, 6),
        ({"ScheduleExpression": "rate(7 hours)"}, 3),  # 21:00 + 3h reaches midnight
        ({"ScheduleExpression": "rate(13 hours)"}, 11),  # 13:00 + 11h reaches midnight
        ({"ScheduleExpression": "rate(1 day)"}, 24),
        ({"AutomaticallyAfterDays": 30}, 24),
        ({"ScheduleExpression": "cron(0 20 * * ? *)"}, 4),
        ({"ScheduleExpression": "cron(0 0 * * ? *)"}, 24),
        ({"ScheduleExpression": "cron(0 4/12 * * ? *)"}, 8),  # 04 and 16: 16 + 8 = 24
        ({"ScheduleExpression": "cron(0 0,6,12 * * ? *)"}, 6),  # the next window binds
    ],
)
def test_duration_limit(rules: dict[str, object], longest: int) -> None:
    fits = parse_rotation_rules({**rules, "Duration": f"{longest}h"})
    assert fits.window_length() == longest * H
    if longest < 24:
        message = refusal({**rules, "Duration": f"{longest + 1}h"})
        assert f"Duration '{longest + 1}h' is too long" in message
        assert f"the limit is {longest}h" in message
        assert f"Use Duration '{longest}h' or less." in message


def test_duration_past_next_window_names_the_collision() -> None:
    message = refusal({"ScheduleExpression": "rate(4 hours)", "Duration": "5h"})
    assert "ScheduleExpression 'rate(4 hours)'" in message
    assert "before the next one opens at 04:00" in message


def test_duration_past_midnight_names_the_day_end() -> None:
    message = refusal({"ScheduleExpression": "cron(0 20 * * ? *)", "Duration": "5h"})
    assert "ScheduleExpression 'cron(0 20 * * ? *)'" in message
    assert "window opening at 20:00 must close by the end of the UTC day" in message


# --- cron(): validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 8 * * ? *)",
        "cron(0 8 ? * * *)",
        "cron(0 8 ? * MON-FRI *)",
        "cron(0 8 ? * mon,wed,fri *)",
        "cron(0 8 1 JAN-MAR,OCT ? *)",
        "cron(0 8 L * ? *)",
        "cron(0 8 LW * ? *)",
        "cron(0 8 15W * ? *)",
        "cron(0 8 ? * 6L *)",
        "cron(0 8 ? * FRIL *)",
        "cron(0 8 ? * L *)",
        "cron(0 8 ? * MON#2 *)",
        "cron(0 8 ? * 2#5 *)",
        "cron(0 */4 * * ? *)",
        "cron(0 2/10 * * ? *)",
        "cron(0 8 1-31/2 * ? *)",
        "cron(0 0,22 1 * ? *)",  # 2 hours apart across midnight, but never on consecutive days
        "cron(0 0 29 2 ? *)",
    ],
)
def test_valid_cron_expressions_are_accepted(expression: str) -> None:
    assert expr(expression).schedule_expression == expression


@pytest.mark.parametrize(
    ("expression", "fragments"),
    [
        (
            "cron(30 8 * * ? *)",
            [
                "the minutes field of a rotation cron expression must be 0",
                "'30'",
                "Use cron(0 8 * * ? *).",
            ],
        ),
        ("cron(* 8 * * ? *)", ["the minutes field of a rotation cron expression must be 0"]),
        ("cron(0 8 * * ? 2025)", ["the year field", "must be '*'", "Use cron(0 8 * * ? *)."]),
        ("cron(0 8 * * ?)", ["has 5 fields", "exactly 6"]),
        ("cron(0 8 * * ? * *)", ["has 7 fields", "exactly 6"]),
        ("cron(0 8 * * * *)", ["exactly one of day-of-month and day-of-week", "neither is '?'"]),
        ("cron(0 8 ? * ? *)", ["exactly one of day-of-month and day-of-week", "both are '?'"]),
        ("cron(0 8 1 * MON *)", ["neither is '?'"]),
        ("cron(0 24 * * ? *)", ["'24' in the hours field", "0 to 23"]),
        ("cron(0 8 32 * ? *)", ["'32' in the day-of-month field", "1 to 31"]),
        ("cron(0 8 0 * ? *)", ["'0' in the day-of-month field"]),
        ("cron(0 8 1 13 ? *)", ["'13' in the month field", "1 to 12 or JAN to DEC"]),
        ("cron(0 8 ? * 0 *)", ["'0' in the day-of-week field", "1 to 7 or SUN to SAT"]),
        ("cron(0 8 ? * 8 *)", ["'8' in the day-of-week field"]),
        ("cron(0 8 ? * FUN *)", ["'FUN' in the day-of-week field"]),
        ("cron(0 8 ? * MON#6 *)", ["'MON#6'", "#1 to #5"]),
        ("cron(0 8 32W * ? *)", ["'32W'", "1 to 31"]),
        ("cron(0 8 L,15 * ? *)", ["'L' in the day-of-month field", "must be the whole field"]),
        ("cron(0 8 ? * MON#2,FRI *)", ["'MON#2'", "must be the whole field"]),
        ("cron(0 8 ? * FRI-MON *)", ["'FRI-MON'", "runs backwards", "FRI,SAT,SUN,MON"]),
        ("cron(0 */0 * * ? *)", ["'*/0' in the hours field", "step of at least 1"]),
        ("cron(0 8 1,,2 * ? *)", ["'' in the day-of-month field"]),
        ("cron(0 8 30 2 ? *)", ["never fires"]),
        ("cron(0 8 31 4,6,9,11 ? *)", ["never fires"]),
        ("cron(0 */2 * * ? *)", ["00:00 and 02:00", "2 hours apart", "minimum is every 4 hours"]),
        ("cron(0 0,22 * * ? *)", ["22:00 and 00:00", "2 hours apart", "every 4 hours"]),
        ("cron(0 1,23 ? * MON-FRI *)", ["23:00 and 01:00", "every 4 hours"]),
    ],
)
def test_invalid_cron_expressions_are_refused(expression: str, fragments: list[str]) -> None:
    message = refusal({"ScheduleExpression": expression})
    assert f"ScheduleExpression {expression!r}" in message
    for fragment in fragments:
        assert fragment in message


# --- cron(): windows --------------------------------------------------------------------------


def test_daily_cron_window_runs_to_the_end_of_the_day() -> None:
    schedule = expr("cron(0 20 * * ? *)")
    assert window(schedule, "2024-06-01 08:30") == (at("2024-06-01 20:00"), at("2024-06-02 00:00"))
    assert window(schedule, "2024-06-01 20:00") == (at("2024-06-02 20:00"), at("2024-06-03 00:00"))
    assert schedule.window_length() == 4 * H


def test_cron_in_hours_has_one_hour_windows() -> None:
    schedule = expr("cron(0 4/12 * * ? *)")
    assert window(schedule, "2024-06-01 08:30") == (at("2024-06-01 16:00"), at("2024-06-01 17:00"))
    assert [s.hour for s in openings(schedule, "2024-06-01 00:00", 4)] == [4, 16, 4, 16]


def test_cron_duration_sets_the_window() -> None:
    schedule = expr("cron(0 8 * * ? *)", "2h")
    assert window(schedule, "2024-06-01 00:00") == (at("2024-06-01 08:00"), at("2024-06-01 10:00"))


@pytest.mark.parametrize(
    ("expression", "weekday"),
    [
        ("cron(0 8 ? * 1 *)", "Sunday"),  # EventBridge numbers days 1=SUN .. 7=SAT
        ("cron(0 8 ? * 2 *)", "Monday"),
        ("cron(0 8 ? * 7 *)", "Saturday"),
        ("cron(0 8 ? * SUN *)", "Sunday"),
        ("cron(0 8 ? * fri *)", "Friday"),
        ("cron(0 8 ? * L *)", "Saturday"),  # L alone: the last day of the week
    ],
)
def test_day_of_week_numbering_and_names(expression: str, weekday: str) -> None:
    starts = openings(expr(expression), "2024-06-01 00:00", 3)
    assert {s.strftime("%A") for s in starts} == {weekday}
    assert [(b - a).days for a, b in itertools.pairwise(starts)] == [7, 7]


def test_day_of_week_range_and_list() -> None:
    starts = openings(expr("cron(0 8 ? * MON-FRI *)"), "2024-06-07 09:00", 6)  # a Friday
    assert [s.date() for s in starts] == [date(2024, 6, d) for d in (10, 11, 12, 13, 14, 17)]
    starts = openings(expr("cron(0 8 ? * MON,THU *)"), "2024-06-01 00:00", 4)
    assert [s.date() for s in starts] == [date(2024, 6, d) for d in (3, 6, 10, 13)]


def test_day_of_week_step_counts_in_eventbridge_numbers() -> None:
    # 2/2 is 2, 4, 6: MON, WED, FRI (croniter's own numbering would give TUE, THU, SAT).
    starts = openings(expr("cron(0 8 ? * 2/2 *)"), "2024-06-01 00:00", 6)
    assert [s.strftime("%a") for s in starts] == ["Mon", "Wed", "Fri"] * 2


def test_day_of_month_step_and_list() -> None:
    starts = openings(expr("cron(0 8 1/10 * ? *)"), "2024-07-01 09:00", 4)
    assert [s.date() for s in starts] == [
        date(2024, 7, 11),
        date(2024, 7, 21),
        date(2024, 7, 31),
        date(2024, 8, 1),
    ]
    starts = openings(expr("cron(0 8 5,20 * ? *)"), "2024-06-10 00:00", 3)
    assert [s.date() for s in starts] == [date(2024, 6, 20), date(2024, 7, 5), date(2024, 7, 20)]


def test_month_names_and_ranges() -> None:
    starts = openings(expr("cron(0 8 1 JAN,JUL-AUG ? *)"), "2024-06-10 00:00", 4)
    assert [s.date() for s in starts] == [
        date(2024, 7, 1),
        date(2024, 8, 1),
        date(2025, 1, 1),
        date(2025, 7, 1),
    ]


def test_hour_list_and_step() -> None:
    starts = openings(expr("cron(0 0/6 * * ? *)"), "2024-06-01 00:00", 4)
    assert [s.hour for s in starts] == [6, 12, 18, 0]
    starts = openings(expr("cron(0 3,9,21 * * ? *)"), "2024-06-01 10:00", 3)
    assert starts == [at("2024-06-01 21:00"), at("2024-06-02 03:00"), at("2024-06-02 09:00")]


def test_last_day_of_month() -> None:
    starts = openings(expr("cron(0 8 L * ? *)"), "2024-01-31 09:00", 3)
    assert [s.date() for s in starts] == [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]
    assert expr("cron(0 8 L 2 ? *)").next_window(at("2024-03-01 00:00")).start == at(
        "2025-02-28 08:00"
    )


@pytest.mark.parametrize(
    ("expression", "last", "start"),
    [
        ("cron(0 8 15W * ? *)", "2024-06-01 00:00", "2024-06-14 08:00"),  # 15th is a Saturday
        ("cron(0 8 15W * ? *)", "2024-09-01 00:00", "2024-09-16 08:00"),  # 15th is a Sunday
        ("cron(0 8 15W * ? *)", "2024-07-01 00:00", "2024-07-15 08:00"),  # 15th is a Monday
        ("cron(0 8 1W * ? *)", "2024-05-31 00:00", "2024-06-03 08:00"),  # stays in June
        ("cron(0 8 LW * ? *)", "2024-06-01 00:00", "2024-06-28 08:00"),  # 30th is a Sunday
        ("cron(0 8 LW * ? *)", "2024-08-01 00:00", "2024-08-30 08:00"),  # 31st is a Saturday
        ("cron(0 8 LW * ? *)", "2024-07-01 00:00", "2024-07-31 08:00"),  # 31st is a Wednesday
        ("cron(0 8 LW * ? *)", "2024-06-28 08:00", "2024-07-31 08:00"),
        ("cron(0 8 LW 3,9 ? *)", "2024-04-01 00:00", "2024-09-30 08:00"),
        ("cron(0 8 LW 12 ? *)", "2024-12-31 08:00", "2025-12-31 08:00"),
        ("cron(0 4,16 LW * ? *)", "2024-07-31 04:00", "2024-07-31 16:00"),
        ("cron(0 8 ? * 6L *)", "2024-06-01 00:00", "2024-06-28 08:00"),  # last Friday
        ("cron(0 8 ? * FRIL *)", "2024-06-28 09:00", "2024-07-26 08:00"),
        ("cron(0 8 ? * 2L *)", "2024-09-01 00:00", "2024-09-30 08:00"),  # last Monday
        ("cron(0 8 ? * MON#2 *)", "2024-06-01 00:00", "2024-06-10 08:00"),
        ("cron(0 8 ? * 2#2 *)", "2024-06-10 08:00", "2024-07-08 08:00"),
        ("cron(0 8 ? * 6#5 *)", "2024-06-01 00:00", "2024-08-30 08:00"),  # skips months with 4
        ("cron(0 8 ? * SUN#1 *)", "2024-06-01 00:00", "2024-06-02 08:00"),
    ],
)
def test_special_day_rules(expression: str, last: str, start: str) -> None:
    assert expr(expression).next_window(at(last)).start == at(start)


def test_next_window_does_not_loop_to_now() -> None:
    schedule = parse_rotation_rules({"AutomaticallyAfterDays": 1})
    found = schedule.next_window(at("2024-06-01 08:00"), now=at("2030-01-01 00:00"))
    assert found == Window(at("2024-06-02 00:00"), at("2024-06-03 00:00"))


def test_naive_datetimes_are_refused() -> None:
    schedule = parse_rotation_rules({"AutomaticallyAfterDays": 1})
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.next_window(datetime(2024, 6, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.next_window(at("2024-06-01 00:00"), now=datetime(2024, 6, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Window(datetime(2024, 6, 1), at("2024-06-02 00:00"))


# --- Window -----------------------------------------------------------------------------------


def test_window_normalises_to_utc_and_checks_order() -> None:
    plus_two = timezone(timedelta(hours=2))
    w = Window(datetime(2024, 6, 1, 2, tzinfo=plus_two), datetime(2024, 6, 1, 3, tzinfo=plus_two))
    assert w.start == at("2024-06-01 00:00")
    assert w.start.tzinfo == UTC
    assert w.end.tzinfo == UTC
    assert at("2024-06-01 00:59") in w
    assert at("2024-06-01 01:00") not in w
    with pytest.raises(ValueError, match="must be after its start"):
        Window(at("2024-06-01 01:00"), at("2024-06-01 01:00"))


# --- described_days and to_rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "days"),
    [
        ({"AutomaticallyAfterDays": 30}, 30),
        ({"ScheduleExpression": "rate(10 days)"}, 10),
        ({"ScheduleExpression": "rate(1 day)"}, 1),
        ({"ScheduleExpression": "rate(6 hours)"}, 1),
        ({"ScheduleExpression": "cron(0 8 * * ? *)"}, 1),
        ({"ScheduleExpression": "cron(0 4/12 * * ? *)"}, 1),
        ({"ScheduleExpression": "cron(0 8 ? * MON-FRI *)"}, 1),
        ({"ScheduleExpression": "cron(0 8 ? * MON,THU *)"}, 3),
        ({"ScheduleExpression": "cron(0 8 ? * SUN *)"}, 7),
        ({"ScheduleExpression": "cron(0 8 ? JAN,JUL SUN *)"}, 7),
        ({"ScheduleExpression": "cron(0 8 1,16 * ? *)"}, 13),  # 16 Feb -> 1 Mar, non-leap year
        ({"ScheduleExpression": "cron(0 8 1 * ? *)"}, 28),
        ({"ScheduleExpression": "cron(0 8 ? * MON#1 *)"}, 28),
        ({"ScheduleExpression": "cron(0 8 1 1/3 ? *)"}, 90),
        ({"ScheduleExpression": "cron(0 8 1 1 ? *)"}, 365),
        ({"ScheduleExpression": "cron(0 0 29 2 ? *)"}, 1461),
    ],
)
def test_described_days(rules: dict[str, object], days: int) -> None:
    assert parse_rotation_rules(rules).described_days() == days


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 8 ? * SUN *)",
        "cron(0 8 ? * MON,THU *)",
        "cron(0 4,16 ? * 2/2 *)",
        "cron(0 8 ? * * *)",
    ],
)
def test_weekly_shortcut_matches_a_full_scan(expression: str) -> None:
    rule = parse_cron(expression)
    assert rule.weekly
    assert dataclasses.replace(rule, weekly=False).min_day_gap() == rule.min_day_gap()


def test_to_rules_for_automatically_after_days() -> None:
    assert parse_rotation_rules({"AutomaticallyAfterDays": 30}).to_rules() == {
        "AutomaticallyAfterDays": 30
    }
    schedule = parse_rotation_rules({"AutomaticallyAfterDays": 30, "Duration": "3h"})
    assert schedule.to_rules() == {"AutomaticallyAfterDays": 30, "Duration": "3h"}
    assert schedule.to_rules(for_request=True) == {"AutomaticallyAfterDays": 30, "Duration": "3h"}


def test_to_rules_for_expressions_shows_the_derived_days_like_describe_secret() -> None:
    schedule = expr("cron(0 8 ? * SUN *)", "4h")
    assert schedule.to_rules() == {
        "AutomaticallyAfterDays": 7,
        "ScheduleExpression": "cron(0 8 ? * SUN *)",
        "Duration": "4h",
    }
    assert schedule.to_rules(for_request=True) == {
        "ScheduleExpression": "cron(0 8 ? * SUN *)",
        "Duration": "4h",
    }
    # AWS refuses DescribeSecret's shape when it is sent back to RotateSecret.
    assert refusal(schedule.to_rules()) == BOTH_RULES_MESSAGE


@pytest.mark.parametrize(
    "rules",
    [
        {"AutomaticallyAfterDays": 1},
        {"AutomaticallyAfterDays": 1000, "Duration": "24h"},
        {"ScheduleExpression": "rate(4 hours)"},
        {"ScheduleExpression": "rate(4 hours)", "Duration": "4h"},
        {"ScheduleExpression": "rate(30 days)", "Duration": "1h"},
        {"ScheduleExpression": "cron(0 8 LW * ? *)"},
        {"ScheduleExpression": "cron(0 16 ? * 6#1 *)", "Duration": "8h"},
    ],
)
def test_to_rules_round_trip(rules: dict[str, object]) -> None:
    schedule = parse_rotation_rules(rules)
    assert schedule.to_rules(for_request=True) == rules
    again = parse_rotation_rules(schedule.to_rules(for_request=True))
    assert again == schedule
    assert again.next_window(at("2024-06-01 08:30")) == schedule.next_window(at("2024-06-01 08:30"))


# --- pick_rotation_time -----------------------------------------------------------------------

DAY_WINDOW = Window(at("2024-07-01 00:00"), at("2024-07-02 00:00"))


def test_pick_is_deterministic() -> None:
    first = pick_rotation_time(DAY_WINDOW, "arn:secret:a", salt="1")
    assert pick_rotation_time(DAY_WINDOW, "arn:secret:a", salt="1") == first
    # The copy compares equal, so the result depends on values, not identity.
    copy = Window(at("2024-07-01 00:00"), at("2024-07-02 00:00"))
    assert pick_rotation_time(copy, "arn:secret:a", salt="1") == first


def test_pick_depends_on_seed_salt_and_window() -> None:
    picks = {pick_rotation_time(DAY_WINDOW, seed) for seed in range(50)}
    assert len(picks) > 40
    salted = {pick_rotation_time(DAY_WINDOW, 7, salt=str(salt)) for salt in range(50)}
    assert len(salted) > 40
    assert pick_rotation_time(DAY_WINDOW, 1) != pick_rotation_time(DAY_WINDOW, "1")
    other_day = Window(at("2024-07-02 00:00"), at("2024-07-03 00:00"))
    assert pick_rotation_time(other_day, 7) - pick_rotation_time(DAY_WINDOW, 7) != timedelta(days=1)


def test_pick_is_stable_across_processes() -> None:
    # hash() of a str differs per process; the pick must not.
    code = (
        "from datetime import datetime, timezone\n"
        "from rotation_testkit.schedule import Window, pick_rotation_time\n"
        "u = timezone.utc\n"
        "w = Window(datetime(2024, 7, 1, tzinfo=u), datetime(2024, 7, 2, tzinfo=u))\n"
        "print(pick_rotation_time(w, 'arn:secret:a', salt='s').isoformat())\n"
    )
    expected = pick_rotation_time(DAY_WINDOW, "arn:secret:a", salt="s").isoformat()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    "w",
    [
        DAY_WINDOW,
        Window(at("2024-07-01 20:00"), at("2024-07-01 21:00")),
        Window(at("2024-07-01 20:00"), at("2024-07-01 21:30")),
        Window(at("2024-07-01 20:00"), at("2024-07-01 20:00:30")),
        Window(at("2024-07-01 20:00:00.250000"), at("2024-07-01 20:00:01")),
    ],
)
def test_pick_stays_inside_the_window(w: Window) -> None:
    for seed in range(300):
        moment = pick_rotation_time(w, seed)
        assert w.start <= moment < w.end
        assert moment.tzinfo == UTC


def test_pick_hour_is_uniform_over_the_window() -> None:
    hours = Counter(pick_rotation_time(DAY_WINDOW, seed).hour for seed in range(2400))
    assert set(hours) == set(range(24))
    # 100 expected per hour; 45 and 155 are more than 5 standard deviations away.
    assert all(45 < count < 155 for count in hours.values()), hours


def test_pick_minute_is_weighted_towards_the_top_of_the_hour() -> None:
    minutes = [pick_rotation_time(DAY_WINDOW, seed).minute for seed in range(2000)]
    early = sum(1 for m in minutes if m < 10)
    late = sum(1 for m in minutes if m >= 50)
    assert early > 3 * late
    assert late > 0  # weighted, not pinned to minute 0
    assert len(set(minutes)) > 40


def test_pick_in_a_short_window_uses_its_hours_only() -> None:
    w = Window(at("2024-07-01 00:00"), at("2024-07-01 03:00"))
    assert {pick_rotation_time(w, seed).hour for seed in range(300)} == {0, 1, 2}
