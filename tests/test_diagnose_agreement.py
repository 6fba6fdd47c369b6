"""diagnose() (Python) and assertions.assert_not_stuck agree on the same state: the assertion
fails exactly when the diagnosis finds a pending rotation, and names the diagnosis's state."""

from __future__ import annotations

from typing import Any

import pytest

from rotation_testkit.assertions import assert_not_stuck
from rotation_testkit.diagnose import HEALTHY, IN_PROGRESS, INCONSISTENT, STUCK, diagnose
from rotation_testkit.state import load_state

PREVIOUS = "7d0c1a52-6f7e-4b8e-9a51-2f4c8b0e1d11"
CURRENT = "c8a3e1f0-1b2d-4c5e-8f9a-0b1c2d3e4f50"
PENDING = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
NOW = "2025-06-02T09:30:00Z"
RECENT = "2025-05-20T03:12:45+00:00"  # the next rotation is due after NOW


def saved(stages: dict[str, list[str]], **fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3",
        "Name": "prod/app/db",
        "RotationEnabled": True,
        "RotationLambdaARN": "arn:aws:lambda:eu-west-1:111122223333:function:rotate-app-db",
        "RotationRules": {"AutomaticallyAfterDays": 30},
        "LastRotatedDate": "2025-05-01T03:12:45+00:00",
        "LastChangedDate": "2025-05-31T03:05:10+00:00",
        "VersionIdsToStages": stages,
        "CreatedDate": "2024-11-02T10:00:00+00:00",
    }
    document.update(fields)
    return document


def listing(*entries: tuple[str, list[str], str]) -> dict[str, Any]:
    return {
        "Versions": [
            {"VersionId": vid, "VersionStages": labels, "CreatedDate": created}
            for vid, labels, created in entries
        ],
        "Name": "prod/app/db",
    }


CASES = {
    "healthy": (
        saved({PREVIOUS: ["AWSPREVIOUS"], CURRENT: ["AWSCURRENT"]}, LastRotatedDate=RECENT),
        None,
        HEALTHY,
    ),
    "pending-on-current": (
        saved({CURRENT: ["AWSCURRENT", "AWSPENDING"]}, LastRotatedDate=RECENT),
        None,
        HEALTHY,
    ),
    "stuck-placeholder": (
        saved({CURRENT: ["AWSCURRENT"], PENDING: ["AWSPENDING"]}),
        None,
        STUCK,
    ),
    "stuck-with-value": (
        saved({CURRENT: ["AWSCURRENT"], PENDING: ["AWSPENDING"]}),
        listing(
            (CURRENT, ["AWSCURRENT"], "2025-05-01T03:11:40+00:00"),
            (PENDING, ["AWSPENDING"], "2025-05-31T03:05:11+00:00"),
        ),
        STUCK,
    ),
    "in-progress": (
        saved(
            {CURRENT: ["AWSCURRENT"], PENDING: ["AWSPENDING"]},
            LastChangedDate="2025-06-02T09:20:00+00:00",
        ),
        listing(
            (CURRENT, ["AWSCURRENT"], "2025-05-01T03:11:40+00:00"),
            (PENDING, ["AWSPENDING"], "2025-06-02T09:20:00+00:00"),
        ),
        IN_PROGRESS,
    ),
    "rotation-off-with-pending": (
        saved({CURRENT: ["AWSCURRENT"], PENDING: ["AWSPENDING"]}, RotationEnabled=False),
        None,
        STUCK,
    ),
    "no-current": (saved({PREVIOUS: ["AWSPREVIOUS"], CURRENT: []}), None, INCONSISTENT),
}


@pytest.mark.rotation_testkit(clock_start=NOW)
@pytest.mark.parametrize("case", list(CASES))
def test_assert_not_stuck_fails_exactly_when_diagnose_finds_a_pending_rotation(
    rotation_kit: Any, secretsmanager: Any, rotation_clock: Any, case: str
) -> None:
    described, versions, expected = CASES[case]
    arn = load_state(rotation_kit.world, described, versions)

    diagnosis = diagnose(
        secretsmanager.describe_secret(SecretId=arn),
        secretsmanager.list_secret_version_ids(SecretId=arn, IncludeDeprecated=True),
        now=rotation_clock.now(),
    )
    try:
        assert_not_stuck(secretsmanager, arn)
    except AssertionError as failure:
        message: str | None = str(failure)
    else:
        message = None

    assert diagnosis.state == expected
    assert (message is not None) == (diagnosis.pending_version is not None)
    if message is not None:
        assert f"diagnose() calls this state {diagnosis.state!r}" in message
        assert f"--remove-from-version-id {diagnosis.pending_version}" in message
    if case == "no-current":
        # A saved state with no AWSCURRENT breaks the kit's invariant on purpose.
        rotation_kit.world.invariants.violations.clear()
