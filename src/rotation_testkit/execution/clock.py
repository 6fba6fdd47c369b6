"""The fake clock: freezegun underneath, a fake ``time.sleep``, and the loop that runs due work.

Time stands still until the test moves it. Moving it runs, in time order, everything the service
has due on the way (scheduled rotations, retries, deferred steps), each at its own instant, so a
rotator sees the same "now" AWS would have given it.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from freezegun import api as freezegun_api
from freezegun import freeze_time

from ..foundations.setting_rules import LATEST_INSTANT
from .clock_types import teach_schema_builders

teach_schema_builders()

#: Where the clock starts unless a marker or the ini option says otherwise: reproducible, and a
#: Wednesday morning, not a midnight, so "today" and "the next window" differ visibly.
DEFAULT_START = datetime(2025, 1, 1, 9, 0, tzinfo=timezone.utc)

_REAL_SLEEP = time.sleep
# Modules whose references to time.sleep are theirs to keep (the kit's own, freezegun, threading).
_KEEP_REAL_SLEEP = ("rotation_testkit.", "freezegun", "threading", "_pytest", "pytest", "time")


class ClockError(RuntimeError):
    """The clock was used in a way it cannot honour; the message says what to do instead."""


class SleepGuard(Protocol):
    """Something that may cut a fake sleep short (a Lambda function reaching its timeout)."""

    def sleep_budget(self) -> float | None: ...

    def budget_exhausted(self) -> None: ...

    def owns_thread(self, ident: int) -> bool:
        """Is this thread running a function (whose sleeps are fake)?"""
        ...


class DueWork(Protocol):
    """What the clock asks the service while time moves."""

    def next_due(self) -> datetime | None: ...

    def run_due(self, now: datetime) -> None: ...


_DURATION_KEYWORDS = (
    "weeks",
    "days",
    "hours",
    "minutes",
    "seconds",
    "milliseconds",
    "microseconds",
)


def parse_instant(value: datetime | str) -> datetime:
    """An aware UTC datetime from a datetime (naive means UTC) or an ISO 8601 string."""
    if not isinstance(value, (datetime, str)):
        raise ClockError(
            f"expected a datetime or an ISO 8601 string such as '2025-01-01T09:00:00Z', got "
            f"{value!r} ({type(value).__name__})."
        )
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ClockError(
                f"expected an ISO 8601 instant such as '2025-01-01T09:00:00Z', got {value!r}."
            ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        raise ClockError(
            f"{value.isoformat()} is outside the calendar once converted to UTC; pass an instant "
            f"before {LATEST_INSTANT.isoformat()}."
        ) from None


def _duration(delta: timedelta | None, kwargs: dict[str, float]) -> timedelta:
    """The duration advance() was given, or a ClockError saying what it accepts."""
    if delta is not None and kwargs:
        raise ClockError("pass either a timedelta or days=/hours=/minutes=/seconds=, not both.")
    if delta is not None:
        if not isinstance(delta, timedelta):
            raise ClockError(
                f"advance() takes a timedelta or days=/hours=/minutes=/seconds=, got {delta!r} "
                f"({type(delta).__name__}); for example advance(days=30)."
            )
        return delta
    for name, amount in kwargs.items():
        if name not in _DURATION_KEYWORDS:
            raise ClockError(
                f"advance() takes {', '.join(k + '=' for k in _DURATION_KEYWORDS)} (or a "
                f"timedelta); got {name}=."
            )
        if (
            isinstance(amount, bool)
            or not isinstance(amount, (int, float))
            or not math.isfinite(amount)
        ):
            raise ClockError(
                f"advance({name}=...) takes a finite number, got {amount!r} "
                f"({type(amount).__name__})."
            )
    try:
        return timedelta(**kwargs)
    except OverflowError:
        raise ClockError(
            f"advance({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}) is longer than any "
            f"date can hold; the clock reaches at most {LATEST_INSTANT.isoformat()}."
        ) from None


def _other_time_mock_active() -> str | None:
    """The name of another active time-mocking library, if one would fight freezegun."""
    time_machine = sys.modules.get("time_machine")
    if time_machine is not None and getattr(time_machine, "coordinates_stack", None):
        return "time-machine"
    return None


class RotationClock:
    """The `rotation_clock` fixture: ``now()``, ``advance()``, ``advance_to()``."""

    def __init__(self, work: DueWork) -> None:
        self._work = work
        self._freezer: Any = None
        self._factory: Any = None
        self._real_sleep: Callable[[float], None] | None = None
        self._sleep_guards: list[SleepGuard] = []
        self._owner: int | None = None  # the thread that started the clock (the test's)
        self._bound_sleeps: list[tuple[Any, str]] = []  # `from time import sleep` references

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._factory is not None

    def start(self, at: datetime | str | None = None) -> None:
        if self.running:
            raise ClockError("the rotation clock is already running.")
        other = _other_time_mock_active()
        if other is not None:
            raise ClockError(
                f"{other} is already mocking time in this test; rotation_clock uses freezegun and "
                f"the two would disagree about 'now'. Remove {other} from this test and move time "
                "with rotation_clock.advance() instead."
            )
        if at is None and freezegun_api.freeze_factories:
            # Inside a user's own freeze_time: continue from the instant it froze.
            start = parse_instant(freezegun_api.freeze_factories[-1]())
        else:
            start = parse_instant(at if at is not None else DEFAULT_START)
        # pytest times tests with perf_counter from _pytest.timing: keep its durations real.
        self._freezer = freeze_time(start, tick=False, ignore=["_pytest.timing"])
        self._factory = self._freezer.start()
        self._real_sleep = time.sleep
        self._owner = threading.get_ident()
        time.sleep = self._fake_sleep  # type: ignore[assignment]
        self._patch_bound_sleeps()

    def _patch_bound_sleeps(self) -> None:
        # A library imported before the clock started (redis-py: `from time import sleep`) holds
        # the real function; point those references at the fake one too, as freezegun does for
        # the functions it fakes.
        for name, module in list(sys.modules.items()):
            if module is None or name.startswith(_KEEP_REAL_SLEEP):
                continue
            try:
                namespace = vars(module)
            except TypeError:
                continue
            for attribute, value in list(namespace.items()):
                if value is _REAL_SLEEP:
                    setattr(module, attribute, self._fake_sleep)
                    self._bound_sleeps.append((module, attribute))

    def stop(self) -> None:
        if not self.running:
            return
        for module, attribute in self._bound_sleeps:
            if getattr(module, attribute, None) == self._fake_sleep:
                setattr(module, attribute, _REAL_SLEEP)
        self._bound_sleeps.clear()
        if self._real_sleep is not None:
            time.sleep = self._real_sleep  # type: ignore[assignment]
        self._freezer.stop()
        self._freezer = self._factory = self._real_sleep = None

    def guard_sleep(self, guard: SleepGuard) -> None:
        """Let ``guard`` cut fake sleeps short (the Lambda runner enforces timeouts this way)."""
        self._sleep_guards.append(guard)

    # --- reading and moving time ------------------------------------------------------------

    def now(self) -> datetime:
        """The current instant, as an aware UTC datetime."""
        return datetime.fromtimestamp(time.time(), tz=timezone.utc)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move time forward by ``delta`` or by days=/hours=/minutes=/seconds=, running due work."""
        step = _duration(delta, kwargs)
        if step < timedelta(0):
            raise ClockError(
                f"time only moves forward; advance() got {step}. Pass a positive duration, or "
                "start the clock earlier with @pytest.mark.rotation_testkit(clock_start=...)."
            )
        now = self.now()
        if step > LATEST_INSTANT - now:
            raise ClockError(self._too_late(f"advance({step})"))
        return self.advance_to(now + step)

    def advance_to(self, when: datetime | str) -> datetime:
        """Move time forward to ``when``, running every piece of due work on the way in time order."""
        self._require_running()
        target = parse_instant(when)
        if target > LATEST_INSTANT:
            raise ClockError(self._too_late(f"advance_to({target.isoformat()})"))
        if target < self.now():
            raise ClockError(
                f"time only moves forward: it is {self.now().isoformat()} and advance_to() got "
                f"{target.isoformat()}. Start the clock earlier with "
                "@pytest.mark.rotation_testkit(clock_start=...) if you need an earlier instant."
            )
        while True:
            due = self._work.next_due()
            if due is None or due > target:
                break
            if due > self.now():
                self._move(due)
            self._work.run_due(self.now())
        self._move(target)
        return self.now()

    def pass_time(self, seconds: float) -> None:
        """Move time forward without running due work (time spent inside a step)."""
        self._require_running()
        self._factory.tick(timedelta(seconds=seconds))

    def run_due(self) -> None:
        """Run whatever is due at the current instant, without moving time."""
        self.advance_to(self.now())

    # --- internals --------------------------------------------------------------------------

    def _too_late(self, call: str) -> str:
        return (
            f"{call} would move the clock past {LATEST_INSTANT.isoformat()}; the "
            "clock stops there so that every date a schedule computes still exists. It is "
            f"{self.now().isoformat()}: pass a shorter duration or an earlier instant."
        )

    def _move(self, when: datetime) -> None:
        self._require_running()
        self._factory.move_to(when)

    def _sleeps_fake_here(self) -> bool:
        # The test's thread and the threads running handlers live on the fake clock; a thread a
        # handler started keeps real time and never moves the clock.
        ident = threading.get_ident()
        return ident == self._owner or any(g.owns_thread(ident) for g in self._sleep_guards)

    def _fake_sleep(self, seconds: float) -> None:
        if not self.running or not self._sleeps_fake_here():
            _REAL_SLEEP(seconds)
            return
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        # Sleeping moves time but runs no due work: the sleeper is usually inside a step already.
        budgets = [b for g in self._sleep_guards if (b := g.sleep_budget()) is not None]
        allowed = min([float(seconds), *budgets])
        self._factory.tick(timedelta(seconds=max(0.0, allowed)))
        if allowed < seconds:
            for guard in self._sleep_guards:
                guard.budget_exhausted()

    def _require_running(self) -> None:
        if not self.running:
            raise ClockError(
                "the rotation clock is not running: request the `rotation_clock` fixture to "
                "move time."
            )
        factories = freezegun_api.freeze_factories
        if factories and factories[-1] is not self._factory:
            raise ClockError(
                "a freeze_time started after rotation_clock now decides what time it is, so "
                "rotation_clock cannot move it. Drop that freeze_time and start the clock where "
                "you need it with @pytest.mark.rotation_testkit(clock_start=...), or start your "
                "freeze_time before rotation_clock (in a fixture) so the clock continues from it."
            )
