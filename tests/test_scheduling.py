"""Rotation schedules drive the service as the fake clock moves (ROTATION-SEMANTICS section 3).

Expected dates are worked out here from AWS's published rules (UTC day windows, hour rates that
restart at midnight, cron windows with a Duration), never by calling the toolkit's own schedule code.
"""

from __future__ import annotations

import importlib
import json
import statistics
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import rotators
from conftest import INITIAL
from rotation_testkit.config import KitConfig
from rotation_testkit.world import World
from rotators import holder

UTC = timezone.utc
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)  # the clock's documented default start
STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]
EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "password_rotator"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def next_rotation_date(client, secret_id: str) -> datetime | None:
    """The close of the window NextRotationDate reports.

    AWS reports the window's last second (e.g. 23:59:59 of a daily window's day), the latest
    moment rotation can happen; one second later is where the window closes.
    """
    value: datetime | None = client.describe_secret(SecretId=secret_id).get("NextRotationDate")
    return None if value is None else value + timedelta(seconds=1)


# --- AWS's rules, written out independently -----------------------------------------------------


def close_for_days(last: datetime, days: int) -> datetime:
    """AutomaticallyAfterDays N / rate(N days): the window is the UTC day last.date() + N."""
    return midnight(last.date() + days * DAY + DAY)


def close_for_hour_rate(last: datetime, hours: int, length: timedelta = HOUR) -> datetime:
    """rate(N hours): windows open every N hours counted from midnight UTC, 1 hour long by default."""
    day_start = midnight(last.date())
    opening = day_start
    while opening <= last:
        opening += hours * HOUR
    opening = min(opening, day_start + DAY)  # the count restarts at the next midnight
    return opening + length


def minimal_rotator(client: Any) -> Any:
    """A rotator with the fewest API calls (the new value is the token itself), on ``client``."""
    current: dict[str, str] = {}  # secret ARN -> the version this rotator last made current

    def handler(event: dict[str, Any], context: Any) -> None:
        arn, token = event["SecretId"], event["ClientRequestToken"]
        if event["Step"] == "createSecret":
            client.put_secret_value(
                SecretId=arn,
                ClientRequestToken=token,
                SecretString=token,
                VersionStages=["AWSPENDING"],
            )
        elif event["Step"] == "finishSecret":
            client.update_secret_version_stage(
                SecretId=arn,
                VersionStage="AWSCURRENT",
                MoveToVersionId=token,
                RemoveFromVersionId=current.get(arn) or holder(client, arn, "AWSCURRENT"),
            )
            current[arn] = token

    handler.__name__ = "minimal"
    return handler


class Switchable:
    """The correct rotator, failing at createSecret while ``broken`` is set."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.__name__ = "switchable"

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        if self.broken and event["Step"] == "createSecret":
            raise RuntimeError("the protected database is unreachable")
        return rotators.correct(event, context)


@pytest.fixture
def example_rotator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """examples/password_rotator's handler, with its toy database holding the initial password."""
    monkeypatch.syspath_prepend(str(EXAMPLE_DIR))
    rotator = importlib.import_module("rotator")
    database = importlib.import_module("toy_database").DATABASE
    database.reset({INITIAL["username"]: INITIAL["password"]})
    yield rotator.lambda_handler
    database.reset({})


# --- the schedule drives the service -------------------------------------------------------------


def test_daily_rotation_runs_once_in_each_utc_day_window(
    rotation_clock, secretsmanager, rotation_lambdas, rotation_kit, example_rotator
):
    secretsmanager.create_secret(Name="app/db", SecretString=json.dumps(INITIAL))
    arn = rotation_lambdas.register(example_rotator)
    secretsmanager.rotate_secret(
        SecretId="app/db", RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1}
    )

    rotation_clock.advance_to("2025-01-11T23:59:59Z")  # ten more UTC days: 2 to 11 January

    succeeded = rotation_kit.events("RotationSucceeded", secret_id="app/db")
    assert succeeded[0].time == START  # the rotation RotateSecret itself ran
    scheduled = succeeded[1:]
    assert [e.time.date() for e in scheduled] == [date(2025, 1, 2) + n * DAY for n in range(10)]
    for event in scheduled:
        window_start = midnight(event.time.date())
        assert window_start <= event.time < window_start + DAY
    times = [e.time for e in succeeded]
    assert times == sorted(times)
    tokens = [e.version_id for e in succeeded]
    assert len(set(tokens)) == 11  # a new version every time
    invocations = rotation_lambdas.invocations(arn)
    assert [inv.step for inv in invocations] == STEPS * 11
    assert [inv.event["ClientRequestToken"] for inv in invocations] == [
        t for t in tokens for _ in STEPS
    ]
    assert all(inv.error is None for inv in invocations)
    for previous, event in zip(tokens, succeeded[1:], strict=False):
        labels = event.labels
        assert labels[event.version_id] == ("AWSCURRENT",)  # AWSPENDING removed
        assert labels[previous] == ("AWSPREVIOUS",)
    assert holder(secretsmanager, "app/db", "AWSCURRENT") == tokens[-1]
    password = json.loads(secretsmanager.get_secret_value(SecretId="app/db")["SecretString"])
    assert importlib.import_module("toy_database").DATABASE.login("app", password["password"])


def test_each_scheduled_rotation_runs_all_its_steps_at_one_instant_inside_its_window(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 3}
    )

    rotation_clock.advance_to("2025-01-04T23:59:59Z")

    invokes = [e for e in rotation_kit.events("Invoke") if e.time > START]
    assert [e.step for e in invokes] == STEPS
    moment = invokes[0].time
    assert {e.time for e in invokes} == {moment}
    assert midnight(date(2025, 1, 4)) <= moment < midnight(date(2025, 1, 5))
    assert secretsmanager.describe_secret(SecretId=secret)["LastRotatedDate"] == moment


def test_rate_in_hours_rotates_once_in_each_one_hour_window(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=arn,
        RotationRules={"ScheduleExpression": "rate(4 hours)"},
    )

    rotation_clock.advance_to("2025-01-01T23:59:59Z")

    moments = [e.time for e in rotation_kit.events("RotationSucceeded")][1:]
    openings = [utc("2025-01-01T12:00:00Z"), utc("2025-01-01T16:00:00Z"), utc("2025-01-01T20:00Z")]
    assert len(moments) == len(openings)
    for moment, opening in zip(moments, openings, strict=True):
        assert opening <= moment < opening + HOUR


def test_a_cron_with_a_duration_rotates_inside_that_window(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=arn,
        RotationRules={"ScheduleExpression": "cron(0 16 ? * MON *)", "Duration": "3h"},
    )

    rotation_clock.advance_to("2025-01-20T00:00:00Z")

    moments = [e.time for e in rotation_kit.events("RotationSucceeded")][1:]
    mondays = [utc("2025-01-06T16:00:00Z"), utc("2025-01-13T16:00:00Z")]
    assert len(moments) == 2
    for moment, opening in zip(moments, mondays, strict=True):
        assert opening <= moment < opening + 3 * HOUR
    assert next_rotation_date(secretsmanager, secret) == utc("2025-01-20T19:00:00Z")


# --- NextRotationDate ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "rotated_at", "expected"),
    [
        # AutomaticallyAfterDays 1: the window is the next UTC day; the date is its close.
        ({"AutomaticallyAfterDays": 1}, "2025-01-01T09:00:00Z", "2025-01-03T00:00:00Z"),
        ({"AutomaticallyAfterDays": 1}, "2025-01-01T23:59:00Z", "2025-01-03T00:00:00Z"),
        ({"AutomaticallyAfterDays": 30}, "2025-01-01T09:00:00Z", "2025-02-01T00:00:00Z"),
        ({"ScheduleExpression": "rate(2 days)"}, "2025-01-01T09:00:00Z", "2025-01-04T00:00:00Z"),
        # rate(4 hours): 1-hour windows opening at 00, 04, 08, 12, 16, 20 UTC.
        ({"ScheduleExpression": "rate(4 hours)"}, "2025-01-01T09:00:00Z", "2025-01-01T13:00:00Z"),
        ({"ScheduleExpression": "rate(4 hours)"}, "2025-01-01T22:00:00Z", "2025-01-02T01:00:00Z"),
        (
            {"ScheduleExpression": "rate(4 hours)", "Duration": "2h"},
            "2025-01-01T09:00:00Z",
            "2025-01-01T14:00:00Z",
        ),
        # rate(5 hours): 00, 05, 10, 15, 20, then the count restarts at midnight.
        ({"ScheduleExpression": "rate(5 hours)"}, "2025-01-01T21:00:00Z", "2025-01-02T01:00:00Z"),
        # A daily cron without Duration: the window runs to the end of the UTC day.
        ({"ScheduleExpression": "cron(0 8 * * ? *)"}, "2025-01-01T09:00:00Z", "2025-01-03T00:00Z"),
        ({"ScheduleExpression": "cron(0 8 * * ? *)"}, "2025-01-02T07:00:00Z", "2025-01-03T00:00Z"),
        # Wednesday 1 January 2025: the next Monday is the 6th.
        (
            {"ScheduleExpression": "cron(0 16 ? * MON *)", "Duration": "3h"},
            "2025-01-01T09:00:00Z",
            "2025-01-06T19:00:00Z",
        ),
        (
            {"ScheduleExpression": "cron(0 0 1 * ? *)", "Duration": "4h"},
            "2025-01-01T09:00:00Z",
            "2025-02-01T04:00:00Z",
        ),
    ],
)
def test_next_rotation_date_is_the_close_of_the_next_window(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rules, rotated_at, expected
):
    rotation_clock.advance_to(rotated_at)
    arn = rotation_lambdas.register(rotators.correct)

    secretsmanager.rotate_secret(SecretId=secret, RotationLambdaARN=arn, RotationRules=rules)

    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["LastRotatedDate"] == utc(rotated_at)
    # The latest moment rotation can occur: the last second before the window closes.
    assert described["NextRotationDate"] == utc(expected) - timedelta(seconds=1)


@pytest.mark.parametrize("days", [1, 2, 7])
def test_next_rotation_date_follows_each_scheduled_rotation(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit, days
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": days}
    )
    assert next_rotation_date(secretsmanager, secret) == close_for_days(START, days)

    for _ in range(3):
        expected_close = next_rotation_date(secretsmanager, secret)
        rotation_clock.advance_to(expected_close - timedelta(seconds=1))
        last = rotation_kit.events("RotationSucceeded")[-1].time
        assert expected_close - DAY <= last < expected_close  # it happened in that window
        assert next_rotation_date(secretsmanager, secret) == close_for_days(last, days)


def test_next_rotation_date_for_an_hour_rate_follows_each_rotation(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=arn,
        RotationRules={"ScheduleExpression": "rate(6 hours)"},
    )

    for _ in range(5):
        expected_close = close_for_hour_rate(rotation_clock.now(), 6)
        assert next_rotation_date(secretsmanager, secret) == expected_close
        rotation_clock.advance_to(expected_close - timedelta(seconds=1))
        last = rotation_kit.events("RotationSucceeded")[-1].time
        assert expected_close - HOUR <= last < expected_close
        rotation_clock.advance_to(expected_close)


def test_describe_secret_reports_the_rules_and_days_derived_from_an_expression(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)

    secretsmanager.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=arn,
        RotationRules={"ScheduleExpression": "rate(10 days)", "Duration": "3h"},
    )

    rules = secretsmanager.describe_secret(SecretId=secret)["RotationRules"]
    assert rules["ScheduleExpression"] == "rate(10 days)"
    assert rules["Duration"] == "3h"
    assert rules["AutomaticallyAfterDays"] == 10


@pytest.mark.parametrize("how", ["put_secret_value", "update_secret"])
def test_a_manual_new_value_counts_as_a_rotation_for_the_schedule(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit, how
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 7}
    )
    assert next_rotation_date(secretsmanager, secret) == utc("2025-01-09T00:00:00Z")

    rotation_clock.advance_to("2025-01-04T10:00:00Z")
    value = json.dumps({"username": "app", "password": "set-by-hand"})
    getattr(secretsmanager, how)(SecretId=secret, SecretString=value)

    assert next_rotation_date(secretsmanager, secret) == utc("2025-01-12T00:00:00Z")
    # Nothing rotates in the old window (8 January); the rotation comes in the new one.
    rotation_clock.advance_to("2025-01-10T23:59:59Z")
    assert len(rotation_kit.events("RotationSucceeded")) == 1
    rotation_clock.advance_to("2025-01-11T23:59:59Z")
    moments = [e.time for e in rotation_kit.events("RotationSucceeded")]
    assert len(moments) == 2
    assert midnight(date(2025, 1, 11)) <= moments[1]


# --- the moment inside the window ---------------------------------------------------------------

SEED_TEST = """
import json
from pathlib import Path

import boto3
import pytest


def rotator(event, context):
    client = boto3.client("secretsmanager")
    arn, token = event["SecretId"], event["ClientRequestToken"]
    if event["Step"] == "createSecret":
        client.put_secret_value(
            SecretId=arn, ClientRequestToken=token, SecretString=token, VersionStages=["AWSPENDING"]
        )
    elif event["Step"] == "finishSecret":
        stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
        current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
        client.update_secret_version_stage(
            SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
        )


def rotate_and_record(secretsmanager, rotation_lambdas, rotation_clock, rotation_kit, out):
    arn = rotation_lambdas.register(rotator)
    for n in range(6):
        secretsmanager.create_secret(Name=f"secret-{n}", SecretString="initial")
        secretsmanager.rotate_secret(
            SecretId=f"secret-{n}",
            RotationLambdaARN=arn,
            RotationRules={"AutomaticallyAfterDays": 1},
            RotateImmediately=False,
        )
    rotation_clock.advance_to("2025-01-04T23:59:59Z")
    moments = {}
    for n in range(6):
        events = rotation_kit.events("RotationSucceeded", secret_id=f"secret-{n}")
        moments[f"secret-{n}"] = [e.time.isoformat() for e in events]
    Path(out).write_text(json.dumps(moments, sort_keys=True))


def test_seed_from_ini(secretsmanager, rotation_lambdas, rotation_clock, rotation_kit):
    rotate_and_record(
        secretsmanager, rotation_lambdas, rotation_clock, rotation_kit, "ini-seed.json"
    )


@pytest.mark.rotation_testkit(seed=8)
def test_seed_from_marker(secretsmanager, rotation_lambdas, rotation_clock, rotation_kit):
    rotate_and_record(
        secretsmanager, rotation_lambdas, rotation_clock, rotation_kit, "marker-seed.json"
    )
"""


def run_for_moments(pytester: pytest.Pytester) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run SEED_TEST once: the moments with seed 7 (ini) and with seed 8 (marker)."""
    result = pytester.runpytest("-p", "no:cacheprovider", "-o", "rotation_testkit_seed=7")
    result.assert_outcomes(passed=2)
    ini = json.loads((pytester.path / "ini-seed.json").read_text())
    marker = json.loads((pytester.path / "marker-seed.json").read_text())
    return ini, marker


def test_the_same_seed_gives_the_same_moments_in_two_runs(pytester):
    pytester.makepyfile(SEED_TEST)

    first_seven, first_eight = run_for_moments(pytester)
    second_seven, second_eight = run_for_moments(pytester)

    assert all(len(m) == 3 for m in first_seven.values())  # 2, 3 and 4 January
    assert first_seven == second_seven
    assert first_eight == second_eight
    assert first_seven != first_eight


def moments_in_a_world(seed: int | str, names: list[str]) -> dict[str, datetime]:
    """Run one world with this seed; the moment each secret's scheduled rotation started."""
    world = World(KitConfig(seed=seed))
    with world.activate():
        clock = world.start_clock()
        client = world.client()
        arn = world.lambdas.register(minimal_rotator(client))
        for name in names:
            client.create_secret(Name=name, SecretString="initial")
            client.rotate_secret(
                SecretId=name,
                RotationLambdaARN=arn,
                RotationRules={"AutomaticallyAfterDays": 1},
                RotateImmediately=False,
            )
        clock.advance_to("2025-01-02T23:59:59Z")
        found = {}
        for name in names:
            secret = world.find_secret(name)
            assert secret is not None
            events = world.history.events("RotationStarted", secret_arn=secret.arn)
            assert len(events) == 1
            found[name] = events[0].time
        return found


def test_the_same_seed_gives_the_same_moments_in_two_worlds():
    names = [f"svc-{n}" for n in range(5)]

    first = moments_in_a_world(3, names)
    second = moments_in_a_world(3, names)
    other = moments_in_a_world("another seed", names)

    assert first == second
    assert first != other
    for moment in first.values():
        assert midnight(date(2025, 1, 2)) <= moment < midnight(date(2025, 1, 3))


def test_moments_are_spread_over_the_day_and_weighted_to_the_top_of_the_hour(
    rotation_clock, secretsmanager, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(minimal_rotator(secretsmanager))
    count = 150
    for n in range(count):
        secretsmanager.create_secret(Name=f"s{n}", SecretString="initial")
        secretsmanager.rotate_secret(
            SecretId=f"s{n}",
            RotationLambdaARN=arn,
            RotationRules={"AutomaticallyAfterDays": 1},
            RotateImmediately=False,
        )

    rotation_clock.advance_to("2025-01-02T23:59:59Z")

    moments = [e.time for e in rotation_kit.events("RotationSucceeded")]
    assert len(moments) == count
    assert all(moment.date() == date(2025, 1, 2) for moment in moments)
    # The hour is random over the UTC day: 200 draws over 24 hours leave almost none unused.
    assert len({moment.hour for moment in moments}) >= 20
    # Minutes weighted toward the top of the hour: uniform minutes would average 29.5 with
    # about half below 30; AWS's weighting pulls both clearly toward the hour.
    minutes = [moment.minute for moment in moments]
    assert statistics.mean(minutes) < 25
    assert sum(m < 30 for m in minutes) / count > 0.62
    assert len(set(minutes)) > 30  # still random, not always on the hour


def test_stopping_inside_a_window_is_a_coin_toss_but_next_rotation_date_never_is(
    rotation_clock, secretsmanager, rotation_lambdas, rotation_kit
):
    # The pitfall docs/schedules.md warns about, and the pattern it recommends.
    arn = rotation_lambdas.register(minimal_rotator(secretsmanager))
    names = [f"svc-{n}" for n in range(40)]
    for name in names:
        secretsmanager.create_secret(Name=name, SecretString="initial")
        secretsmanager.rotate_secret(
            SecretId=name,
            RotationLambdaARN=arn,
            RotationRules={"AutomaticallyAfterDays": 1},
            RotateImmediately=False,
        )

    rotation_clock.advance_to("2025-01-02T12:00:00Z")  # inside every secret's window
    rotated_by_noon = len(rotation_kit.events("RotationSucceeded"))
    assert 0 < rotated_by_noon < len(names)  # whether it ran depends on the secret's draw

    dates = {secretsmanager.describe_secret(SecretId=n)["NextRotationDate"] for n in names}
    next_date = min(dates)
    assert next_date == utc("2025-01-02T23:59:59Z")
    rotation_clock.advance_to(next_date)

    assert len(rotation_kit.events("RotationSucceeded")) == len(names)


# --- failures and reattempts ---------------------------------------------------------------------


def test_a_failed_scheduled_rotation_is_reattempted_with_the_same_token_at_the_next_window(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotator = Switchable()
    arn = rotation_lambdas.register(rotator)
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1}
    )
    first_current = holder(secretsmanager, secret, "AWSCURRENT")
    assert next_rotation_date(secretsmanager, secret) == utc("2025-01-03T00:00:00Z")
    rotator.broken = True

    # 2 January: the scheduled rotation fails every attempt and leaves AWSPENDING behind.
    rotation_clock.advance_to("2025-01-02T23:59:59Z")
    failed = rotation_kit.events("RotationFailed")
    assert len(failed) == 3
    token = failed[0].version_id
    assert {e.version_id for e in failed} == {token}
    assert all(e.time.date() == date(2025, 1, 2) for e in failed)
    assert holder(secretsmanager, secret, "AWSPENDING") == token
    assert holder(secretsmanager, secret, "AWSCURRENT") == first_current

    # 3 January: still broken; the same rotation is reattempted and fails again.
    rotation_clock.advance_to("2025-01-03T23:59:59Z")
    failed = rotation_kit.events("RotationFailed")
    assert len(failed) == 6
    assert {e.version_id for e in failed} == {token}
    assert all(e.time.date() == date(2025, 1, 3) for e in failed[3:])
    # NextRotationDate stays where it was, now in the past.
    assert next_rotation_date(secretsmanager, secret) == utc("2025-01-03T00:00:00Z")
    assert next_rotation_date(secretsmanager, secret) < rotation_clock.now()

    # Fixed before the 4 January window: the reattempt finishes the SAME rotation.
    rotator.broken = False
    rotation_clock.advance_to("2025-01-04T23:59:59Z")
    succeeded = rotation_kit.events("RotationSucceeded")
    assert len(succeeded) == 2
    assert succeeded[1].version_id == token
    assert succeeded[1].time.date() == date(2025, 1, 4)
    later = rotation_lambdas.invocations(arn)[4:]
    assert {inv.event["ClientRequestToken"] for inv in later} == {token}
    assert holder(secretsmanager, secret, "AWSCURRENT") == token
    assert holder(secretsmanager, secret, "AWSPENDING") is None
    assert next_rotation_date(secretsmanager, secret) == utc("2025-01-06T00:00:00Z")
    assert rotators.login(
        "app",
        json.loads(secretsmanager.get_secret_value(SecretId=secret)["SecretString"])["password"],
    )


def test_a_failed_first_rotation_is_reattempted_at_the_next_window_by_default(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotator = Switchable(broken=True)
    arn = rotation_lambdas.register(rotator)
    token = secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1}
    )["VersionId"]
    assert len(rotation_kit.events("RotationFailed")) == 3
    rotator.broken = False

    rotation_clock.advance_to("2025-01-01T23:59:59Z")
    assert rotation_kit.events("RotationSucceeded") == []  # not again the same day

    rotation_clock.advance_to("2025-01-02T23:59:59Z")
    succeeded = rotation_kit.events("RotationSucceeded")
    assert [e.version_id for e in succeeded] == [token]
    assert succeeded[0].time.date() == date(2025, 1, 2)


def test_a_secret_whose_first_rotation_failed_still_reports_a_next_rotation_date(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    """NextRotationDate is null only when rotation is off; a failure leaves it, maybe in the past."""
    arn = rotation_lambdas.register(Switchable(broken=True))
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1}
    )

    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["RotationEnabled"] is True
    assert described.get("NextRotationDate") is not None


@pytest.mark.rotation_testkit(reattempt_delay=2 * 60 * 60)
def test_reattempt_delay_sets_when_a_failed_rotation_is_reattempted(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotator = Switchable(broken=True)
    arn = rotation_lambdas.register(rotator)
    token = secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )["VersionId"]
    assert len(rotation_kit.events("RotationFailed")) == 3

    rotation_clock.advance(hours=1, minutes=59, seconds=59)
    assert len(rotation_kit.events("RotationStarted")) == 3  # not yet

    rotation_clock.advance(seconds=1)
    started = rotation_kit.events("RotationStarted")
    assert len(started) == 6
    assert {e.time for e in started[3:]} == {START + 2 * HOUR}
    assert {e.version_id for e in started} == {token}

    rotator.broken = False
    rotation_clock.advance(hours=2)
    succeeded = rotation_kit.events("RotationSucceeded")
    assert [(e.version_id, e.time) for e in succeeded] == [(token, START + 4 * HOUR)]


def test_reattempt_delay_set_through_the_kit(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(reattempt_delay=timedelta(minutes=30), max_attempts=1)
    arn = rotation_lambdas.register(Switchable(broken=True))
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )

    rotation_clock.advance(hours=2)

    starts = [e.time for e in rotation_kit.events("RotationStarted")]
    assert starts == [START + n * timedelta(minutes=30) for n in range(5)]


# --- turning rotation off ------------------------------------------------------------------------


def test_cancel_rotate_secret_stops_scheduled_rotations(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1}
    )
    assert len(rotation_lambdas.invocations(arn)) == 4

    secretsmanager.cancel_rotate_secret(SecretId=secret)
    rotation_clock.advance(days=31)

    assert len(rotation_lambdas.invocations(arn)) == 4
    assert len(rotation_kit.events("RotationSucceeded")) == 1
    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["RotationEnabled"] is False
    assert "NextRotationDate" not in described


def test_cancel_rotate_secret_stops_the_reattempts_of_a_stuck_rotation(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(Switchable(broken=True))
    token = secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1}
    )["VersionId"]

    cancelled = secretsmanager.cancel_rotate_secret(SecretId=secret)
    rotation_clock.advance(days=31)

    assert cancelled["VersionId"] == token
    assert len(rotation_lambdas.invocations(arn)) == 3
    assert holder(secretsmanager, secret, "AWSPENDING") == token  # AWS leaves it for the user


def test_rotate_secret_after_cancel_turns_the_schedule_back_on(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1}
    )
    secretsmanager.cancel_rotate_secret(SecretId=secret)
    rotation_clock.advance_to("2025-01-05T09:00:00Z")

    secretsmanager.rotate_secret(SecretId=secret)  # the stored Lambda and rules are reused

    assert next_rotation_date(secretsmanager, secret) == utc("2025-01-07T00:00:00Z")
    rotation_clock.advance_to("2025-01-06T23:59:59Z")
    moments = [e.time for e in rotation_kit.events("RotationSucceeded")]
    assert [m.date() for m in moments] == [date(2025, 1, d) for d in (1, 5, 6)]


# --- rules AWS refuses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ({"ScheduleExpression": "rate(2 hours)"}, "rate(2 hours)"),
        ({"ScheduleExpression": "rate(30 minutes)"}, "rate(30 minutes)"),
        ({"ScheduleExpression": "cron(30 8 * * ? *)"}, "cron(30 8 * * ? *)"),
        ({"ScheduleExpression": "cron(0 8 * * ? 2026)"}, "cron(0 8 * * ? 2026)"),
        ({"ScheduleExpression": "rate(4 hours)", "Duration": "5h"}, "Duration '5h'"),
        ({"ScheduleExpression": "cron(0 20 * * ? *)", "Duration": "5h"}, "Duration '5h'"),
        ({"AutomaticallyAfterDays": 1, "Duration": "25h"}, "Duration '25h'"),
        ({"AutomaticallyAfterDays": 0}, "AutomaticallyAfterDays 0"),
        ({"AutomaticallyAfterDays": 1001}, "AutomaticallyAfterDays 1001"),
    ],
)
def test_invalid_rules_are_refused_by_rotate_secret(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rules, named
):
    # botocore checks some minimums itself; skip that so the service's own answer is seen.
    client = boto3.client("secretsmanager", config=Config(parameter_validation=False))
    arn = rotation_lambdas.register(rotators.correct)

    with pytest.raises(ClientError) as caught:
        client.rotate_secret(SecretId=secret, RotationLambdaARN=arn, RotationRules=rules)

    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterException"
    assert named in error["Message"]
    assert rotation_lambdas.invocations() == []
    described = secretsmanager.describe_secret(SecretId=secret)
    assert not described.get("RotationEnabled")
    assert "NextRotationDate" not in described
    assert holder(secretsmanager, secret, "AWSPENDING") is None


def test_the_longest_duration_that_fits_is_accepted(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)

    secretsmanager.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=arn,
        RotationRules={"ScheduleExpression": "rate(4 hours)", "Duration": "4h"},
    )

    assert next_rotation_date(secretsmanager, secret) == utc("2025-01-01T16:00:00Z")
