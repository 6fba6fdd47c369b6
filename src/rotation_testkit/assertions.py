"""Assertion helpers for rotation tests. They read the secret through the API, as a user would,
and their messages show versions by short id and never a secret's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .diagnose import diagnose
from .foundations.labels import short_id
from .world import active_world, has_active_world

if TYPE_CHECKING:
    from .kit import RotationKit

__all__ = [
    "Attempt",
    "assert_not_stuck",
    "assert_retried",
    "assert_rotated",
    "assert_valid_labels",
    "rotation_attempts",
]


def _stages(client: Any, secret_id: str) -> dict[str, list[str]]:
    described = client.describe_secret(SecretId=secret_id)
    stages: dict[str, list[str]] = described.get("VersionIdsToStages", {})
    return stages


def _render(stages: Mapping[str, list[str]]) -> str:
    return (
        ", ".join(f"{short_id(v)}: {'+'.join(s)}" for v, s in stages.items())
        or "no labelled versions"
    )


def _holder(stages: Mapping[str, list[str]], label: str) -> list[str]:
    return [version for version, labels in stages.items() if label in labels]


def assert_valid_labels(client: Any, secret_id: str) -> None:
    """Every label on at most one version, one AWSCURRENT, AWSPREVIOUS not on AWSCURRENT's version."""
    stages = _stages(client, secret_id)
    problems = []
    seen: dict[str, str] = {}
    for version, labels in stages.items():
        for label in labels:
            if labels.count(label) > 1:
                problems.append(f"{label} appears twice on {short_id(version)}")
            if label in seen and seen[label] != version:
                problems.append(
                    f"{label} is on both {short_id(seen[label])} and {short_id(version)}"
                )
            seen[label] = version
    if stages and not _holder(stages, "AWSCURRENT"):
        problems.append("no version carries AWSCURRENT")
    current, previous = _holder(stages, "AWSCURRENT"), _holder(stages, "AWSPREVIOUS")
    if current and previous and current[0] == previous[0]:
        problems.append("AWSPREVIOUS is on the AWSCURRENT version")
    assert not problems, (
        f"expected valid staging labels on {secret_id!r}, but {'; '.join(problems)}. "
        f"Labels: {_render(stages)}"
    )


def assert_not_stuck(client: Any, secret_id: str) -> None:
    """AWSPENDING is absent or on AWSCURRENT's version, so the next RotateSecret can start.

    It decides as :func:`rotation_testkit.diagnose.diagnose` does on the same describe-secret
    output, judged at the world's clock (``rotation_clock.now()``) inside a test: it fails
    exactly when the diagnosis has a ``pending_version`` (state "stuck", or "rotation in
    progress" for a rotation started less than an hour before), and its message names that
    state.
    """
    described = client.describe_secret(SecretId=secret_id)
    diagnosis = diagnose(described, now=active_world().now() if has_active_world() else None)
    pending = diagnosis.pending_version
    if pending is None:
        return
    stages: dict[str, list[str]] = described.get("VersionIdsToStages", {})
    current = diagnosis.current_version
    raise AssertionError(
        f"expected {secret_id!r} not to be stuck, but AWSPENDING is on {short_id(pending)} while "
        f"AWSCURRENT is on {short_id(current) if current else 'no version'}: the next "
        'RotateSecret fails with "A previous rotation isn\'t complete". Labels: '
        f"{_render(stages)}. diagnose() calls this state {diagnosis.state!r}. To unblock: "
        f"aws secretsmanager update-secret-version-stage --secret-id {described['ARN']} "
        f"--version-stage AWSPENDING --remove-from-version-id {pending}"
    )


def assert_rotated(client: Any, secret_id: str, *, since_version: str | None = None) -> None:
    """AWSCURRENT moved to a new version with a different value; the old one is AWSPREVIOUS;
    nothing is pending.

    ``since_version`` is the version that was AWSCURRENT before (by default, the AWSPREVIOUS one).
    """
    assert_not_stuck(client, secret_id)
    stages = _stages(client, secret_id)
    current, previous = _holder(stages, "AWSCURRENT"), _holder(stages, "AWSPREVIOUS")
    old = since_version or (previous[0] if previous else None)
    if not current or old is None or current[0] == old:
        raise AssertionError(
            f"expected {secret_id!r} to have rotated away from "
            f"{short_id(old) if old else 'its first version'}, but AWSCURRENT is on "
            f"{short_id(current[0]) if current else 'no version'}. Labels: {_render(stages)}"
        )
    if old not in previous:
        raise AssertionError(
            f"expected the old version {short_id(old)} to carry AWSPREVIOUS after rotating, "
            f"but labels are: {_render(stages)}"
        )
    same = _same_value(client, secret_id, current[0], old)
    assert not same, (
        f"expected a new value in {short_id(current[0])}, but it is identical to the value of "
        f"{short_id(old)} (values not shown): the rotation changed labels only."
    )


def _same_value(client: Any, secret_id: str, version: str, other: str) -> bool:
    """Do two versions hold the same value? The values live only in this frame, which has
    returned before any assertion fails, so ``pytest -l`` (which prints locals) never shows them."""
    values = [client.get_secret_value(SecretId=secret_id, VersionId=v) for v in (version, other)]
    return all(values[0].get(key) == values[1].get(key) for key in ("SecretString", "SecretBinary"))


@dataclass
class Attempt:
    """One attempt of a rotation, from the history."""

    number: int
    token: str | None
    steps: list[str] = field(default_factory=list)
    failed_step: str | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None and "finishSecret" in self.steps


def rotation_attempts(kit: RotationKit, secret_id: str) -> list[Attempt]:
    """Every rotation attempt on a secret, in order, with the steps invoked and how it ended."""
    attempts: list[Attempt] = []
    for event in kit.events(secret_id=secret_id):
        if event.name == "RotationStarted":
            attempts.append(Attempt(event.attempt or len(attempts) + 1, event.version_id))
        elif (
            attempts
            and event.name == "Invoke"
            and event.step
            and event.version_id == attempts[-1].token
        ):
            attempts[-1].steps.append(event.step)
        elif attempts and event.name == "RotationFailed" and event.version_id == attempts[-1].token:
            attempts[-1].failed_step, attempts[-1].error = event.step, event.error
    return attempts


def assert_retried(
    kit: RotationKit,
    secret_id: str,
    *,
    attempts: int | None = None,
    same_token: bool = True,
    succeeded: bool | None = None,
) -> list[Attempt]:
    """The rotation was retried: more than one attempt (or exactly ``attempts``), each with the
    same token, each restarting at createSecret; ``succeeded`` checks how the last one ended."""
    found = rotation_attempts(kit, secret_id)
    summary = (
        "\n".join(
            f"  attempt {a.number} token {short_id(a.token or '-')}: {' > '.join(a.steps) or '(no step)'}"
            + (f"  FAILED at {a.failed_step}: {a.error}" if a.error else "")
            for a in found
        )
        or "  (no attempt)"
    )
    if attempts is None:
        assert len(found) > 1, (
            f"expected the rotation of {secret_id!r} to be retried, got:\n{summary}"
        )
    else:
        assert len(found) == attempts, (
            f"expected {attempts} attempt(s) on {secret_id!r}, got:\n{summary}"
        )
    tokens = {a.token for a in found}
    if same_token:
        assert len(tokens) == 1, f"expected every attempt to reuse one token, got:\n{summary}"
    restarted = all(a.steps[:1] == ["createSecret"] for a in found)
    assert restarted, f"expected every attempt to restart at createSecret, got:\n{summary}"
    if succeeded is not None and found:
        assert found[-1].succeeded == succeeded, (
            f"expected the last attempt to {'succeed' if succeeded else 'fail'}, got:\n{summary}"
        )
    return found
