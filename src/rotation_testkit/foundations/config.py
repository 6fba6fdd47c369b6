"""Settings of one in-memory world.

Where AWS documents nothing exact (ROTATION-SEMANTICS marks these INF), the behaviour is a setting
here, with the toolkit's inference as the default, so a user who knows better can change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from .setting_rules import Refused, check_setting, refusal

RotationMode = Literal["immediate", "deferred"]
ColdStarts = Literal["first", "every"]

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"


class ConfigError(ValueError):
    """A setting with a value the toolkit cannot use; ``setting`` names it when known."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


@dataclass(frozen=True)
class KitConfig:
    """How the in-memory Secrets Manager behaves.

    Attributes marked *inference* are not documented by AWS; see docs/faithfulness.md.
    """

    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    #: Inference: how many times one rotation is attempted (the first try included) before the
    #: service gives up and leaves AWSPENDING in place. AWS says only "multiple times".
    max_attempts: int = 3
    #: Inference: a finishSecret that returns without moving AWSCURRENT to the token fails the
    #: attempt (AWS retries such a rotation; it never reports it as succeeded).
    require_finish_moves_current: bool = True
    #: Inference: RotateImmediately=false gives the test version a copy of the AWSCURRENT value.
    test_rotation_copies_current: bool = True
    #: How many deprecated versions the service keeps beyond the last 24 hours (AWS: 100).
    version_retention: int = 100
    #: "immediate": RotateSecret returns after the rotation succeeded or every attempt failed.
    #: "deferred": RotateSecret returns at once, as in AWS, and the steps run as the clock moves.
    rotation_mode: RotationMode = "immediate"
    #: Deferred mode: the time each step takes, so a test can stop the clock between two steps.
    step_duration: timedelta = timedelta(seconds=1)
    #: Inference, deferred mode: the pause before a failed attempt is retried from createSecret.
    retry_interval: timedelta = timedelta(minutes=5)
    #: Inference: when a rotation has failed every attempt, the service reattempts it (same
    #: token) after this delay; None means at the next rotation window of the schedule.
    reattempt_delay: timedelta | None = None
    #: The history keeps this many most recent events (None: all), so years of simulated
    #: rotations run in flat memory; a test looks at far fewer events than this.
    history_limit: int | None = 10_000
    #: Fail the test at teardown when a planned fault never fired.
    assert_faults_fired: bool = True
    #: Fail the test at teardown when a protected_http route was never called.
    assert_http_routes_used: bool = True
    #: Opt-in: fail the test when a rotation ends failed after every attempt although no fault the
    #: test planned fired during it (AWS itself reports such a rotation as no error).
    assert_rotations_succeed: bool = False
    #: Opt in to secret values in the history and the timeline (never shown otherwise).
    show_values: bool = False
    #: Invariants not to check (names from rotation_testkit.foundations.invariant_catalogue.INVARIANTS).
    disabled_invariants: frozenset[str] = frozenset()
    #: Seed for the moment a scheduled rotation picks inside its window.
    seed: int | str = 0
    #: Where the fake clock starts (None: the documented default, 2025-01-01T09:00:00Z).
    clock_start: datetime | str | None = None
    #: Answer boto3's Secrets Manager calls without HTTP emulation (the same answers, faster);
    #: False sends every call through moto's HTTP emulation, as ``rotation-testkit serve`` does.
    direct_path: bool = True
    #: Inference: Lambda does not document when an invocation gets a new execution environment.
    #: For functions registered without ``cold_starts=``: "first" keeps one warm environment
    #: after the first import, "every" imports the function's module afresh each time.
    cold_starts: ColdStarts = "first"

    def __post_init__(self) -> None:
        # Every setting is checked here, whichever way it came (marker, ini, configure), so a
        # wrong type or range is refused by name instead of failing later inside a rotation.
        for setting in fields(self):
            value = getattr(self, setting.name)
            try:
                checked = check_setting(setting.name, value, boolean=setting.type == "bool")
            except Refused as refused:
                message = refused.message or refusal(setting.name, value, refused.accepted)
                raise ConfigError(message, setting=setting.name) from None
            object.__setattr__(self, setting.name, checked)

    @classmethod
    def from_settings(cls, *layers: Mapping[str, Any]) -> KitConfig:
        """A configuration from layers of settings by name, each later layer winning.

        The pytest plugin passes its ini options, then each marker from the farthest to the
        closest; any other tool can pass plain dicts. Unknown names are refused.
        """
        config = cls()
        for layer in layers:
            config = config.updated(**layer)
        return config

    def updated(self, **changes: Any) -> KitConfig:
        """A copy with these settings changed; unknown names are refused with the list of known ones."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(
                f"unknown rotation-testkit setting(s) {', '.join(unknown)}; "
                f"known settings are: {', '.join(sorted(known))}."
            )
        return replace(self, **changes)
