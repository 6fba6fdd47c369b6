"""When each secret rotates next: NextRotationDate and the moment picked inside its window.

The service asks this module after every rotation, manual change, failure or cancellation; the
clock asks the service, which asks this module, what falls due as time moves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..foundations.schedule import (
    RotationSchedule,
    Window,
    parse_rotation_rules,
    pick_rotation_time,
)

if TYPE_CHECKING:
    from ..foundations.config import KitConfig
    from .secret import FaithfulSecret


def without_derived_days(rules: dict[str, Any]) -> dict[str, Any]:
    """Stored rules carry the AutomaticallyAfterDays DescribeSecret derives from an expression."""
    if "ScheduleExpression" in rules:
        return {k: v for k, v in rules.items() if k != "AutomaticallyAfterDays"}
    return dict(rules)


def stored_schedule(secret: FaithfulSecret) -> RotationSchedule | None:
    if not secret.rotation_rules:
        return None
    return parse_rotation_rules(without_derived_days(secret.rotation_rules))


def latest_rotation_date(window: Window) -> int:
    """NextRotationDate: "the latest date that rotation will occur", the window's last second.

    AWS reports e.g. 23:59:59 of the day a daily window falls on (seen in saved describe-secret
    output), not the exclusive end of the window.
    """
    return int(window.end.timestamp()) - 1


class RotationScheduler:
    """The next scheduled rotation (or reattempt) of every secret, by ARN."""

    def __init__(self, config: Callable[[], KitConfig], now: Callable[[], datetime]) -> None:
        self._config = config
        self._now = now
        self.due_at: dict[str, datetime] = {}

    def after_rotation(self, secret: FaithfulSecret, last: datetime) -> None:
        """After a rotation (or a manual change) at ``last``: the next window and moment."""
        schedule = stored_schedule(secret)
        if not secret.rotation_enabled or schedule is None:
            secret.next_rotation_date = None
            self.due_at.pop(secret.arn, None)
            return
        window = schedule.next_window(last)
        secret.next_rotation_date = latest_rotation_date(window)
        self.due_at[secret.arn] = self._pick(secret, window)

    def after_failure(self, secret: FaithfulSecret) -> None:
        """Every attempt failed: the service tries the same rotation again later (inference)."""
        delay = self._config().reattempt_delay
        schedule = stored_schedule(secret)
        if delay is not None:
            self.due_at[secret.arn] = self._now() + delay
        elif secret.rotation_enabled and schedule is not None:
            window = schedule.next_window(self._now())
            self.due_at[secret.arn] = self._pick(secret, window)
            if secret.next_rotation_date is None:
                # A first rotation that failed: AWS still reports when the next one will be.
                secret.next_rotation_date = latest_rotation_date(window)
        # Otherwise NextRotationDate keeps its value: AWS reports a date in the past after a failure.

    def forget(self, arn: str) -> None:
        self.due_at.pop(arn, None)

    def _pick(self, secret: FaithfulSecret, window: Window) -> datetime:
        # The salt leaves out moto's random ARN suffix: the same seed gives the same moments.
        salt = f"{secret.account_id}:{secret.region}:{secret.name}@{window.start.isoformat()}"
        return pick_rotation_time(window, self._config().seed, salt=salt)
