"""Problems besides the staging labels, and notes from the secret's other fields.

Each check reads the saved secret (and the label state the analysis decided) and adds
:class:`Problem` entries, AWS CLI commands and notes to a :class:`Findings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .commands import secret_command, stage_command
from .dates import when
from .saved import AWSCURRENT, AWSPENDING, AWSPREVIOUS, SavedSecret

NO_LAMBDA = "No Lambda rotation function ARN is associated with this secret."
MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the secret, with a stable code for programs and a message for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Findings:
    problems: list[Problem] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problem(self, code: str, message: str) -> None:
        self.problems.append(Problem(code, message))


def no_current_value(secret: SavedSecret) -> bool:
    """No AWSCURRENT, and no version but AWSPENDING placeholders: the secret never held a value."""
    if secret.holders(AWSCURRENT):
        return False
    return all(
        AWSPENDING in version.labels and secret.has_value(vid) is not True
        for vid, version in secret.versions.items()
    )


def check_labels(secret: SavedSecret, findings: Findings) -> None:
    currents = secret.holders(AWSCURRENT)
    if not secret.versions:
        findings.problem(
            "no-current",
            "The secret has no version, so no AWSCURRENT: it holds no value yet (it was "
            "created without one). GetSecretValue fails, and a rotation function cannot read "
            "the current secret. Store a first value with put-secret-value.",
        )
    elif not currents and no_current_value(secret):
        store = secret_command(
            "put-secret-value", secret.secret_id, "--secret-string", "file://secret.json"
        )
        findings.commands.append(store)
        findings.problem(
            "no-current",
            "No version carries AWSCURRENT, and the only version is the empty AWSPENDING "
            "placeholder a rotation created: the secret has never held a value. GetSecretValue "
            "fails, and the rotation cannot build a new value from the current one. Store the "
            "first value (written to secret.json), which also ends the pending rotation, or "
            f"let a first rotation that does not read AWSCURRENT finish: `{store}`",
        )
    elif not currents:
        previous = secret.holders(AWSPREVIOUS)
        candidate = previous[0] if previous else _newest_with_value(secret)
        if candidate is not None:
            move = stage_command(secret.secret_id, AWSCURRENT, move_to=candidate)
            findings.commands.append(move)
            which = (
                f"AWSPREVIOUS, the last known good version, is on {candidate}"
                if previous
                else f"The newest version that holds a value is {candidate}"
            )
            advice = (
                f" {which}: if its credentials are the ones the protected service accepts, "
                f"move AWSCURRENT to it: `{move}`"
            )
        else:
            advice = (
                " Move AWSCURRENT (update-secret-version-stage --move-to-version-id) to the "
                "version whose credentials the protected service accepts."
            )
        findings.problem(
            "no-current",
            "No version carries AWSCURRENT: GetSecretValue without a version fails, and a "
            "rotation function cannot read the current secret." + advice,
        )
    seen: dict[str, list[str]] = {}
    for vid, version in secret.versions.items():
        for label in dict.fromkeys(version.labels):
            seen.setdefault(label, []).append(vid)
    for label, holders in seen.items():
        if len(holders) > 1:
            findings.problem(
                "label-on-two-versions",
                f"{label} is on {len(holders)} versions ({', '.join(holders)}). Secrets "
                "Manager keeps each staging label on one version at a time, so this output "
                "was edited, or assembled from outputs saved at different times: save it "
                "again.",
            )


def _newest_with_value(secret: SavedSecret) -> str | None:
    dated = [
        (version.created, vid)
        for vid, version in secret.versions.items()
        if secret.has_value(vid) is True and version.created is not None
    ]
    return max(dated)[1] if dated else None


def check_configuration(
    secret: SavedSecret, pending: str | None, now: datetime, findings: Findings
) -> None:
    if pending is not None and not secret.rotation_enabled:
        why = (
            "rotation is off (CancelRotateSecret turns it off and leaves AWSPENDING behind)"
            if secret.rotation_enabled is False
            else "the secret was never configured for rotation, so the label was attached "
            "by hand or by code outside a rotation"
        )
        findings.problem(
            "pending-without-rotation",
            f"AWSPENDING is on {pending} but {why}: nothing will reattempt this rotation, "
            "and RotateSecret fails until AWSPENDING is removed.",
        )
    if secret.rotation_enabled and secret.next_rotation is not None and secret.next_rotation < now:
        if pending is None:
            why = (
                "No rotation is pending, so either it never started (Secrets Manager could "
                "not invoke the function: its resource policy must allow the principal "
                "secretsmanager.amazonaws.com), or it was abandoned when a new value was "
                "stored while it ran (CloudTrail event RotationAbandoned)."
            )
        else:
            why = "That is the rotation left pending on " + pending + "."
        findings.problem(
            "next-rotation-past",
            f"NextRotationDate, {when(secret.next_rotation, now)}, is in the past "
            "while rotation is on: the rotation due by then did not succeed (AWS shows a "
            f"past date after a failed rotation). {why}",
        )
    if secret.deleted is not None:
        command = secret_command("restore-secret", secret.secret_id)
        findings.commands.append(command)
        findings.problem(
            "scheduled-for-deletion",
            f"The secret is marked for deletion (DeletedDate {when(secret.deleted, now)}): "
            "rotation no longer runs, and RotateSecret and most other calls fail with: "
            f"{MARKED_FOR_DELETION} If the deletion was a mistake, cancel it: `{command}`",
        )
    if secret.rotation_enabled and not secret.rotation_lambda_arn:
        if secret.owning_service:
            findings.notes.append(
                f"Rotation is managed by {secret.owning_service}, which needs no rotation "
                "function of yours."
            )
        else:
            findings.problem(
                "rotation-without-lambda",
                "Rotation is on but no rotation function is configured: every rotation "
                f"fails with: {NO_LAMBDA} Configure one with rotate-secret "
                "--rotation-lambda-arn and your function's ARN.",
            )


def note_fields(secret: SavedSecret, findings: Findings) -> None:
    """Notes from the fields that shape the diagnosis: the key, never rotated, the managing tool."""
    if secret.kms_key_id:
        findings.notes.append(
            f"The secret is encrypted with the customer managed KMS key {secret.kms_key_id}: "
            "the rotation function's role needs kms:Decrypt and kms:GenerateDataKey on it."
        )
    if secret.rotation_enabled and secret.last_rotated is None and secret.rotation_lambda_arn:
        findings.notes.append(
            "Rotation is on but LastRotatedDate is missing: no rotation of this secret has "
            "ever succeeded, so the function, its permissions and its network path are "
            "untested; suspect the set-up before the code."
        )
    tool = secret.managed_by
    if tool:
        findings.notes.append(
            f"The tags show that {tool} manages this secret: fix the rotation settings there, "
            "or the next deployment undoes a fix made by hand; and a deployment that writes "
            "the value while a rotation runs abandons the rotation."
        )
