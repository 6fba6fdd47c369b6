"""The `rotation_clock` fixture: a fake clock that every clock in the process follows.

Time stands still until the test moves it; datetime, time, moto's dates and a Lambda's context all
read the same instant, and ``time.sleep`` moves the clock instead of waiting.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import freezegun.api
import pytest
from freezegun import freeze_time

import rotators
from rotation_testkit.clock import DEFAULT_START, ClockError
from rotation_testkit.lambdas import TaskTimedOut
from rotators import holder

UTC = timezone.utc
START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
RULES = {"AutomaticallyAfterDays": 30}


def real_seconds() -> float:
    """Real elapsed time, which freezegun does not touch (looked up at call time on purpose)."""
    return freezegun.api.real_perf_counter()


def rotate(client, secret_id: str, arn: str):
    return client.rotate_secret(SecretId=secret_id, RotationLambdaARN=arn, RotationRules=RULES)


# --- reading the clock -------------------------------------------------------------------------


def test_the_clock_starts_at_the_documented_default_as_aware_utc(rotation_clock):
    now = rotation_clock.now()

    assert now == START
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert DEFAULT_START == START


def test_time_stands_still_until_the_test_moves_it(rotation_clock):
    before = rotation_clock.now()
    for _ in range(1000):
        datetime.now(UTC)

    assert rotation_clock.now() == before
    assert datetime.now(UTC) == before


# --- moving the clock --------------------------------------------------------------------------


def test_advance_by_a_timedelta(rotation_clock):
    returned = rotation_clock.advance(timedelta(days=2, hours=3))

    assert rotation_clock.now() == START + timedelta(days=2, hours=3)
    assert returned == rotation_clock.now()


def test_advance_by_keywords(rotation_clock):
    rotation_clock.advance(days=1)
    rotation_clock.advance(hours=2)
    rotation_clock.advance(minutes=3)
    rotation_clock.advance(seconds=4)
    rotation_clock.advance(days=1, hours=1, minutes=1, seconds=1)

    assert rotation_clock.now() == START + timedelta(days=2, hours=3, minutes=4, seconds=5)


def test_advance_to_a_datetime(rotation_clock):
    target = datetime(2025, 3, 15, 12, 30, tzinfo=UTC)

    returned = rotation_clock.advance_to(target)

    assert rotation_clock.now() == target
    assert returned == target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-02-01T10:00:00Z", datetime(2025, 2, 1, 10, 0, tzinfo=UTC)),
        ("2025-02-01T10:00:00+00:00", datetime(2025, 2, 1, 10, 0, tzinfo=UTC)),
        ("2025-02-01T12:00:00+02:00", datetime(2025, 2, 1, 10, 0, tzinfo=UTC)),
        ("2025-02-01T10:00:00", datetime(2025, 2, 1, 10, 0, tzinfo=UTC)),
    ],
)
def test_advance_to_an_iso_string(rotation_clock, text, expected):
    rotation_clock.advance_to(text)

    assert rotation_clock.now() == expected
    assert rotation_clock.now().utcoffset() == timedelta(0)


def test_advance_to_a_naive_datetime_means_utc(rotation_clock):
    rotation_clock.advance_to(datetime(2025, 1, 2, 0, 0))

    assert rotation_clock.now() == datetime(2025, 1, 2, 0, 0, tzinfo=UTC)


def test_advance_to_the_past_is_refused_with_a_clear_message(rotation_clock):
    rotation_clock.advance(days=1)

    with pytest.raises(ClockError) as caught:
        rotation_clock.advance_to("2025-01-01T12:00:00Z")

    message = str(caught.value)
    assert "only moves forward" in message
    assert "2025-01-02T09:00:00+00:00" in message  # where the clock is
    assert "2025-01-01T12:00:00+00:00" in message  # where it was asked to go
    assert "clock_start" in message  # how to get an earlier instant
    assert rotation_clock.now() == START + timedelta(days=1)


def test_advance_by_a_negative_amount_is_refused(rotation_clock):
    with pytest.raises(ClockError, match="only moves forward"):
        rotation_clock.advance(hours=-1)

    assert rotation_clock.now() == START


def test_advance_to_the_same_instant_is_allowed(rotation_clock):
    rotation_clock.advance_to(START)

    assert rotation_clock.now() == START


def test_advance_refuses_a_timedelta_and_keywords_together(rotation_clock):
    with pytest.raises(ClockError, match="not both"):
        rotation_clock.advance(timedelta(hours=1), minutes=5)

    assert rotation_clock.now() == START


def test_advance_refuses_an_unknown_keyword(rotation_clock):
    with pytest.raises(ClockError, match="days=, hours=, minutes=, seconds="):
        rotation_clock.advance(fortnights=1)


def test_advance_to_refuses_a_string_that_is_not_an_instant(rotation_clock):
    with pytest.raises(ClockError, match="ISO 8601"):
        rotation_clock.advance_to("next tuesday")


# --- every clock follows -----------------------------------------------------------------------


def test_datetime_and_time_follow_the_clock(rotation_clock):
    assert datetime.now(UTC) == START
    assert time.time() == START.timestamp()

    rotation_clock.advance(days=3, minutes=7)

    expected = START + timedelta(days=3, minutes=7)
    assert datetime.now(UTC) == expected
    assert time.time() == expected.timestamp()
    assert datetime.now(timezone(timedelta(hours=2))) == expected


def test_time_monotonic_moves_with_the_clock(rotation_clock):
    before = time.monotonic()

    rotation_clock.advance(minutes=90)

    assert time.monotonic() - before == pytest.approx(90 * 60)


def test_moto_created_dates_follow_the_clock(rotation_clock, secretsmanager):
    secretsmanager.create_secret(Name="first", SecretString="one")
    rotation_clock.advance(days=3, hours=2)
    secretsmanager.create_secret(Name="second", SecretString="two")

    first = secretsmanager.describe_secret(SecretId="first")
    second = secretsmanager.describe_secret(SecretId="second")
    assert first["CreatedDate"] == START
    assert second["CreatedDate"] == START + timedelta(days=3, hours=2)
    versions = secretsmanager.list_secret_version_ids(SecretId="second")["Versions"]
    assert [v["CreatedDate"] for v in versions] == [START + timedelta(days=3, hours=2)]


def test_last_rotated_date_and_the_new_version_follow_the_clock(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    rotation_clock.advance_to("2025-01-20T14:00:00Z")
    arn = rotation_lambdas.register(rotators.correct)

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    moment = datetime(2025, 1, 20, 14, 0, tzinfo=UTC)
    described = secretsmanager.describe_secret(SecretId=secret)
    assert described["LastRotatedDate"] == moment
    assert described["CreatedDate"] == START
    new_version = secretsmanager.get_secret_value(SecretId=secret, VersionId=token)
    assert new_version["CreatedDate"] == moment


def test_the_lambda_context_remaining_time_follows_the_clock(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    remaining: list[int] = []

    def handler(event, context):
        if event["Step"] == "createSecret":
            remaining.append(context.get_remaining_time_in_millis())
            time.sleep(2.5)
            remaining.append(context.get_remaining_time_in_millis())
        return rotators.correct(event, context)

    arn = rotation_lambdas.register(handler, timeout=30)

    rotate(secretsmanager, secret, arn)

    assert remaining == [30_000, 27_500]


# --- where the clock starts ----------------------------------------------------------------------


@pytest.mark.rotation_testkit(clock_start="2030-06-01T00:00:00Z")
def test_the_marker_sets_the_start(rotation_clock, secretsmanager):
    secretsmanager.create_secret(Name="s", SecretString="v")

    start = datetime(2030, 6, 1, 0, 0, tzinfo=UTC)
    assert rotation_clock.now() == start
    assert datetime.now(UTC) == start
    assert secretsmanager.describe_secret(SecretId="s")["CreatedDate"] == start


INI_START_TEST = """
from datetime import datetime, timezone

import pytest


def test_ini_start(rotation_clock):
    assert rotation_clock.now() == datetime(2030, 6, 1, 0, 0, tzinfo=timezone.utc)


@pytest.mark.rotation_testkit(clock_start="2031-01-01T12:00:00Z")
def test_marker_wins_over_ini(rotation_clock):
    assert rotation_clock.now() == datetime(2031, 1, 1, 12, 0, tzinfo=timezone.utc)
"""


def test_the_ini_option_sets_the_start(pytester):
    pytester.makeini("[pytest]\nrotation_testkit_clock_start = 2030-06-01T00:00:00Z\n")
    pytester.makepyfile(INI_START_TEST)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)


def test_without_the_ini_option_the_default_start_applies(pytester):
    pytester.makepyfile(
        """
        from datetime import datetime, timezone

        def test_default(rotation_clock):
            assert rotation_clock.now() == datetime(2025, 1, 1, 9, 0, tzinfo=timezone.utc)
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


# --- fake sleep and Lambda timeouts --------------------------------------------------------------


def test_sleep_inside_a_handler_moves_the_clock_at_once(
    rotation_clock, secretsmanager, secret, rotation_lambdas
):
    seen: dict[str, float] = {}

    def handler(event, context):
        if event["Step"] == "createSecret":
            wall, mono, real = datetime.now(UTC), time.monotonic(), real_seconds()
            time.sleep(10)
            seen["wall"] = (datetime.now(UTC) - wall).total_seconds()
            seen["monotonic"] = time.monotonic() - mono
            seen["real"] = real_seconds() - real
        return rotators.correct(event, context)

    arn = rotation_lambdas.register(handler)

    rotate(secretsmanager, secret, arn)

    assert seen["wall"] == 10
    assert seen["monotonic"] == pytest.approx(10)
    assert seen["real"] < 1  # a real sleep would have taken ten seconds
    assert rotation_clock.now() == START + timedelta(seconds=10)
    assert [inv.error for inv in rotation_lambdas.invocations(arn)] == [None] * 4


def test_sleep_in_the_test_itself_moves_the_clock(rotation_clock):
    real = real_seconds()

    time.sleep(3600)

    assert rotation_clock.now() == START + timedelta(hours=1)
    assert real_seconds() - real < 1


def test_a_handler_sleeping_past_its_timeout_times_out_and_is_retried(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    swallowed: list[str] = []
    after_sleep: list[str] = []

    def sleepy(event, context):
        try:
            time.sleep(10)
        except Exception as error:  # must not be able to catch Lambda's timeout
            swallowed.append(repr(error))
        after_sleep.append(event["Step"])

    arn = rotation_lambdas.register(sleepy, timeout=5)
    real = real_seconds()

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    assert real_seconds() - real < 1
    invocations = rotation_lambdas.invocations(arn)
    assert [inv.step for inv in invocations] == ["createSecret"] * 3  # 3 attempts by default
    for invocation in invocations:
        assert isinstance(invocation.error, TaskTimedOut)
        assert str(invocation.error) == "Task timed out after 5.00 seconds"
        assert invocation.event["ClientRequestToken"] == token
    assert swallowed == []
    assert after_sleep == []
    failed = rotation_kit.events("RotationFailed")
    assert len(failed) == 3
    assert all("Task timed out after 5.00 seconds" in (e.error or "") for e in failed)
    # Each attempt ran exactly up to its deadline, not to the end of the requested sleep.
    assert [e.time for e in failed] == [START + timedelta(seconds=5 * n) for n in (1, 2, 3)]
    assert rotation_clock.now() == START + timedelta(seconds=15)
    assert rotation_kit.events("RotationSucceeded") == []
    assert holder(secretsmanager, secret, "AWSPENDING") == token


def test_a_handler_timing_out_once_is_retried_and_succeeds(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    calls: list[str] = []

    def slow_once(event, context):
        calls.append(event["Step"])
        if len(calls) == 1:
            time.sleep(60)
        return rotators.correct(event, context)

    arn = rotation_lambdas.register(slow_once, timeout=5)

    token = rotate(secretsmanager, secret, arn)["VersionId"]

    errors = [inv.error for inv in rotation_lambdas.invocations(arn)]
    assert isinstance(errors[0], TaskTimedOut)
    assert errors[1:] == [None] * 4
    assert [e.attempt for e in rotation_kit.events("RotationSucceeded")] == [2]
    assert holder(secretsmanager, secret, "AWSCURRENT") == token
    assert rotation_clock.now() == START + timedelta(seconds=5)


# --- living with the user's own freeze_time ------------------------------------------------------


@pytest.fixture
def frozen_by_the_user():
    with freeze_time("2031-03-04T05:06:07Z"):
        yield


def test_a_freeze_time_started_before_the_clock_is_continued(frozen_by_the_user, rotation_clock):
    start = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert rotation_clock.now() == start

    rotation_clock.advance(hours=2)

    assert rotation_clock.now() == start + timedelta(hours=2)
    assert datetime.now(UTC) == start + timedelta(hours=2)


def test_a_freeze_time_started_before_the_clock_drives_moto_dates(
    frozen_by_the_user, rotation_clock, secretsmanager
):
    rotation_clock.advance(days=1)
    secretsmanager.create_secret(Name="s", SecretString="v")

    created = secretsmanager.describe_secret(SecretId="s")["CreatedDate"]
    assert created == datetime(2031, 3, 5, 5, 6, 7, tzinfo=UTC)


def test_a_freeze_time_started_after_the_clock_makes_advance_fail(rotation_clock):
    with freeze_time("2040-01-01T00:00:00Z"):
        with pytest.raises(ClockError) as caught:
            rotation_clock.advance(hours=1)
        with pytest.raises(ClockError):
            rotation_clock.advance_to("2041-01-01T00:00:00Z")

    message = str(caught.value)
    assert "freeze_time" in message
    assert "clock_start" in message  # what to do instead
    assert "before rotation_clock" in message
    # Once the user's freeze_time has ended, the rotation clock works again.
    rotation_clock.advance(hours=1)
    assert rotation_clock.now() == START + timedelta(hours=1)


def test_the_clock_is_released_after_the_test(pytester):
    pytester.makepyfile(
        """
        import time
        from datetime import datetime, timezone

        def test_uses_clock(rotation_clock):
            rotation_clock.advance(days=400)
            assert datetime.now(timezone.utc) == datetime(2026, 2, 5, 9, 0, tzinfo=timezone.utc)

        def test_after(secretsmanager):
            # A later test without the clock sees time passing, and a real sleep.
            before = time.time()
            time.sleep(0.01)
            assert time.time() > before
            assert datetime.now(timezone.utc) != datetime(2026, 2, 5, 9, 0, tzinfo=timezone.utc)
            assert time.sleep.__module__ == "time"
        """
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)


def test_rotation_kit_clock_starts_the_same_clock(rotation_kit):
    # Without the rotation_clock fixture, rotation_kit.clock starts the clock on first use.
    clock = rotation_kit.clock

    clock.advance(minutes=1)

    assert clock.now() == START + timedelta(minutes=1)


def test_the_secret_value_is_untouched_by_moving_the_clock(rotation_clock, secretsmanager, secret):
    before = secretsmanager.get_secret_value(SecretId=secret)

    rotation_clock.advance(days=365)

    after = secretsmanager.get_secret_value(SecretId=secret)
    assert json.loads(after["SecretString"]) == json.loads(before["SecretString"])
    assert after["VersionId"] == before["VersionId"]


# --- absurd input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"days": float("nan")}, r"advance\(days=\.\.\.\) takes a finite number, got nan"),
        ({"hours": float("inf")}, r"advance\(hours=\.\.\.\) takes a finite number, got inf"),
        ({"minutes": -float("inf")}, "takes a finite number, got -inf"),
        ({"days": "30"}, r"takes a finite number, got '30' \(str\)"),
        ({"days": True}, r"takes a finite number, got True \(bool\)"),
        ({"days": 10**12}, "longer than any date can hold"),
        ({"seconds": 1e300}, "longer than any date can hold"),
        ({"days": 3_000_000}, "would move the clock past 9990-01-01"),
    ],
)
def test_advance_refuses_absurd_amounts_with_a_clock_error(rotation_clock, kwargs, expected):
    with pytest.raises(ClockError, match=expected):
        rotation_clock.advance(**kwargs)
    assert rotation_clock.now() == START  # time did not move


@pytest.mark.parametrize("delta", [30, 1.5, "1 day", datetime(2026, 1, 1)])
def test_advance_refuses_a_delta_that_is_not_a_timedelta(rotation_clock, delta):
    with pytest.raises(ClockError, match=r"advance\(\) takes a timedelta or days="):
        rotation_clock.advance(delta)


def test_advance_refuses_a_huge_timedelta(rotation_clock):
    with pytest.raises(ClockError, match="would move the clock past 9990-01-01"):
        rotation_clock.advance(timedelta.max)
    assert rotation_clock.now() == START


@pytest.mark.parametrize(
    "when",
    [
        1735722000,
        1.5,
        None,
        datetime(2026, 1, 1).date(),
        b"2026-01-01",
        ["2026-01-01"],
    ],
    ids=["int", "float", "None", "date", "bytes", "list"],
)
def test_advance_to_refuses_what_is_not_an_instant(rotation_clock, when):
    with pytest.raises(ClockError, match="expected a datetime or an ISO 8601 string"):
        rotation_clock.advance_to(when)


@pytest.mark.parametrize(
    "when",
    [
        datetime.max,
        "9999-12-31T23:59:59Z",
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
        datetime(9995, 1, 1, tzinfo=UTC),
    ],
    ids=["datetime.max", "iso-end-of-calendar", "west-of-utc-overflow", "past-the-last-instant"],
)
def test_advance_to_the_end_of_the_calendar_is_a_clock_error(rotation_clock, when):
    with pytest.raises(ClockError, match="9990-01-01"):
        rotation_clock.advance_to(when)
    assert rotation_clock.now() == START


@pytest.mark.rotation_testkit(clock_start="9985-01-01T00:00:00Z")
def test_the_clock_reaches_the_last_instant_and_schedules_still_work(
    rotation_clock, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    secretsmanager.rotate_secret(
        SecretId=secret,
        RotationLambdaARN=rotation_lambdas.register(rotators.correct),
        RotationRules={"AutomaticallyAfterDays": 1000},
    )

    rotation_clock.advance_to("9990-01-01T00:00:00Z")

    assert rotation_clock.now() == datetime(9990, 1, 1, tzinfo=UTC)
    assert len(rotation_kit.events("RotationSucceeded")) == 2  # at the start, then 1000 days later
    assert secretsmanager.describe_secret(SecretId=secret)["NextRotationDate"].year == 9990
