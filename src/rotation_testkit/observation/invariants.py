"""AWS's staging-label invariants, as data, and the checker the world runs after every change.

A rotator can end in a valid state and still have broken production on the way (AWSCURRENT moved
before the protected service knew the new password). The checker therefore looks at every API call
and every step, not only at the end, and remembers each violation with where it happened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..foundations.invariant_catalogue import (
    INVARIANT_NAMES,
    INVARIANTS,
    Invariant,
    UnknownInvariant,
    check_names,
    description_of,
)
from ..foundations.labels import AWSCURRENT, AWSPENDING, has_value, holder, short_id, snapshot
from ..foundations.masking import Masker
from .log_leaks import leak_message, secret_in_logs

Versions = Mapping[str, dict[str, Any]]


@dataclass(frozen=True)
class Violation:
    invariant: str
    message: str
    secret_arn: str
    step: str | None
    attempt: int | None
    versions: Mapping[str, tuple[str, ...]]
    after: str  # what had just happened: an API call or a step

    def render(self) -> str:
        where = f"after {self.after}"
        if self.step:
            where += f" during {self.step}"
        if self.attempt:
            where += f" (attempt {self.attempt})"
        labels = (
            ", ".join(
                f"{short_id(vid)}: {'+'.join(stages)}" for vid, stages in self.versions.items()
            )
            or "no labelled versions"
        )
        return (
            f"invariant {self.invariant!r} violated {where} on {self.secret_arn}:\n"
            f"    {self.message}\n"
            f"    ({description_of(self.invariant)})\n"
            f"    labels: {labels}"
        )


def _fingerprint(version: Mapping[str, Any]) -> str | None:
    # Compare values without keeping them: a digest is enough to see a change.
    raw = version.get("secret_string", version.get("secret_binary"))
    if raw is None:
        return None
    return hashlib.sha256(str(raw).encode()).hexdigest()


@dataclass(frozen=True)
class _Where:
    """Where a check runs: the secret, its versions, and the call or step that just happened."""

    arn: str
    versions: Versions
    step: str | None
    attempt: int | None
    after: str


@dataclass
class RotationWatch:
    """What the checker remembers about one rotation in progress."""

    token: str
    current_at_start: str | None
    current_fingerprint: str | None
    pending_fingerprint: str | None = None
    set_applied: bool = False  # a setSecret of this rotation succeeded


@dataclass(frozen=True)
class ProbeReading:
    """Whether the protected service accepted the AWSCURRENT credentials after a step."""

    secret_arn: str
    step: str | None
    attempt: int | None
    accepted: bool


@dataclass
class InvariantChecker:
    disabled: frozenset[str] = frozenset()
    probe: Callable[[Any], Any] | None = None
    #: Single-user rotations change the password in setSecret, so until finishSecret the pending
    #: credentials may stand in for AWSCURRENT's; alternating-users rotations must never need that.
    pending_may_stand_in: bool = True
    violations: list[Violation] = field(default_factory=list)
    #: What the probe said about AWSCURRENT at each step boundary, in order.
    probe_readings: list[ProbeReading] = field(default_factory=list)
    _watches: dict[str, RotationWatch] = field(default_factory=dict)
    _last_current: dict[str, str | None] = field(default_factory=dict)

    # --- rotation lifecycle -------------------------------------------------------------------

    def rotation_started(self, arn: str, token: str, versions: Versions) -> None:
        current = holder(versions, AWSCURRENT)
        self._watches[arn] = RotationWatch(
            token, current, _fingerprint(versions[current]) if current else None
        )
        self._last_current[arn] = current

    def rotation_ended(
        self,
        arn: str,
        versions: Versions,
        *,
        succeeded: bool,
        after: str,
        step: str | None = None,
        attempt: int | None = None,
    ) -> None:
        watch = self._watches.pop(arn, None)
        if not succeeded or watch is None:
            return
        where = _Where(arn, versions, step, attempt, after)
        pending, current = holder(versions, AWSPENDING), holder(versions, AWSCURRENT)
        if pending is not None and pending != current:
            self._violate(
                "valid-end-state",
                f"AWSPENDING is on {short_id(pending)} but AWSCURRENT is on "
                f"{short_id(current or '-')}: the next RotateSecret would fail with "
                '"A previous rotation isn\'t complete".',
                where,
            )
        if (
            current is not None
            and watch.current_fingerprint is not None
            and _fingerprint(versions[current]) == watch.current_fingerprint
        ):
            self._violate(
                "new-value-differs",
                "the rotation finished with the same value it started with: nothing was rotated.",
                where,
            )

    # --- after every API call or step -------------------------------------------------------------

    def check(
        self,
        arn: str,
        versions: Versions,
        *,
        step: str | None,
        attempt: int | None,
        after: str,
    ) -> None:
        where = _Where(arn, versions, step, attempt, after)
        current = holder(versions, AWSCURRENT)
        current_has_value = current is not None and has_value(versions[current])
        # Only when AWSCURRENT has no value: does any version have one (a scan of all of them)?
        if not current_has_value and any(has_value(v) for v in versions.values()):
            if current is None:
                self._violate(
                    "one-current-with-value",
                    "no version carries AWSCURRENT.",
                    where,
                )
            else:
                self._violate(
                    "one-current-with-value",
                    f"AWSCURRENT is on {short_id(current)}, a version with no value: every reader now fails.",
                    where,
                )
        watch = self._watches.get(arn)
        previous_current = self._last_current.get(arn, current)
        self._last_current[arn] = current
        if watch is None:
            return
        # Outside a step (deferred mode, between steps) a move is the test's own doing.
        if (
            step is not None
            and current != previous_current
            and (step != "finishSecret" or current != watch.token)
        ):
            self._violate(
                "current-moves-only-in-finish",
                f"AWSCURRENT moved from {short_id(previous_current or '-')} to "
                f"{short_id(current or '-')} during {step or 'the rotation'}; it may only move to the "
                f"token {short_id(watch.token)}, in finishSecret, after setSecret and testSecret proved it works.",
                where,
            )
        pending = holder(versions, AWSPENDING)
        if pending is not None and pending != watch.token:
            self._violate(
                "pending-value-stable",
                f"AWSPENDING moved to {short_id(pending)}, away from the rotation's token {short_id(watch.token)}.",
                where,
            )
        token_version = versions.get(watch.token)
        if token_version is not None and has_value(token_version):
            fingerprint = _fingerprint(token_version)
            if watch.pending_fingerprint is None:
                watch.pending_fingerprint = fingerprint
                self._check_json_keys(watch, where)
            elif fingerprint != watch.pending_fingerprint:
                self._violate(
                    "pending-value-stable",
                    f"the value of the pending version {short_id(watch.token)} changed after it was written.",
                    where,
                )

    def check_probe(
        self,
        arn: str,
        versions: Versions,
        current_value: Any,
        pending_value: Any,
        *,
        step: str | None,
        attempt: int | None,
    ) -> None:
        """At a step boundary: does the protected service accept the AWSCURRENT credentials?

        Between a successful setSecret and finishSecret a single-user rotation has already
        changed the password, so there the pending credentials may stand in for the current ones.
        """
        watch = self._watches.get(arn)
        if watch is not None and step == "setSecret":
            watch.set_applied = True
        if self.probe is None or current_value is None:
            return
        accepted, problem = ask_probe(self.probe, current_value)
        self.probe_readings.append(ProbeReading(arn, step, attempt, accepted))
        if accepted:
            return
        if (
            self.pending_may_stand_in
            and watch is not None
            and watch.set_applied
            and pending_value is not None
        ):
            if ask_probe(self.probe, pending_value)[0]:
                return
            problem += ", and neither were the pending ones"
        self._violate(
            "current-accepted-by-service",
            f"the protected service refused the AWSCURRENT credentials ({problem}): "
            "applications reading the secret now would fail.",
            _Where(arn, versions, step, attempt, f"the {step or 'rotation'} step"),
        )

    def check_logs(
        self,
        arn: str,
        versions: Versions,
        logs: str,
        known: Masker | Callable[[], Masker],
        *,
        step: str | None,
        attempt: int | None,
    ) -> None:
        """After an invocation: did the function write a known secret value to its logs?"""
        if "no-secret-in-logs" in self.disabled:
            return
        leaked = secret_in_logs(logs, known)
        if leaked is not None:
            self._violate(
                "no-secret-in-logs",
                leak_message(leaked, logs),
                _Where(arn, versions, step, attempt, f"the {step or 'function'} step"),
            )

    def _check_json_keys(self, watch: RotationWatch, where: _Where) -> None:
        versions = where.versions
        if watch.current_at_start is None or watch.current_at_start not in versions:
            return
        current = _json_object(versions[watch.current_at_start])
        if current is None:
            return
        pending = _json_object(versions[watch.token])
        missing = sorted(set(current) - set(pending or {}))
        if pending is None or missing:
            what = (
                "is not a JSON object"
                if pending is None
                else f"lacks the key(s) {', '.join(missing)}"
            )
            self._violate(
                "pending-keeps-json-keys",
                f"the pending secret {what} that the current secret has; applications reading "
                "those keys would break after finishSecret.",
                where,
            )

    def report(self) -> str:
        """Every violation so far, rendered for a failure message."""
        return "\n\n".join(violation.render() for violation in self.violations)

    def _violate(self, name: str, message: str, where: _Where) -> None:
        if name in self.disabled:
            return
        # One broken state is reported once, at the call or step that broke it.
        if any(
            (v.invariant, v.secret_arn, v.message) == (name, where.arn, message)
            for v in self.violations
        ):
            return
        self.violations.append(
            Violation(
                name,
                message,
                where.arn,
                where.step,
                where.attempt,
                snapshot(where.versions),
                where.after,
            )
        )


def ask_probe(probe: Callable[[Any], Any], value: Any) -> tuple[bool, str]:
    """Does the protected service accept these credentials? A probe that raises says no."""
    try:
        if probe(value):
            return True, ""
        return False, "the probe returned a false value"
    except Exception as error:
        return False, f"the probe raised {type(error).__name__}"


def _json_object(version: Mapping[str, Any]) -> dict[str, Any] | None:
    raw = version.get("secret_string")
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


__all__ = [
    "INVARIANTS",
    "INVARIANT_NAMES",
    "Invariant",
    "InvariantChecker",
    "ProbeReading",
    "UnknownInvariant",
    "Violation",
    "ask_probe",
    "check_names",
    "short_id",
]
