"""What to do about a stuck secret: its likely causes, and the AWS CLI commands that unblock it."""

from __future__ import annotations

import re
import shlex
from datetime import datetime

from .dates import when
from .report import Item, Section
from .saved import AWSCURRENT, AWSPENDING, SavedSecret

_LAMBDA_NAME = re.compile(r":function:([A-Za-z0-9_-]+)")


def aws_command(operation: str, secret_id: str, *arguments: str) -> str:
    """An ``aws secretsmanager OPERATION --secret-id SECRET_ID ...`` command, quoted for a shell."""
    parts = ["aws", "secretsmanager", operation, "--secret-id", secret_id, *arguments]
    return " ".join(shlex.quote(part) for part in parts)


def stage_command(
    secret_id: str, label: str, *, remove_from: str | None = None, move_to: str | None = None
) -> str:
    """The ``aws secretsmanager update-secret-version-stage`` command for one label change."""
    arguments = ["--version-stage", label]
    if move_to is not None:
        arguments += ["--move-to-version-id", move_to]
    if remove_from is not None:
        arguments += ["--remove-from-version-id", remove_from]
    return aws_command("update-secret-version-stage", secret_id, *arguments)


def causes(
    secret: SavedSecret,
    pending: str,
    has_value: bool | None,
    created: datetime | None,
    now: datetime,
) -> Section:
    """Why the rotation that created ``pending`` likely never finished."""
    logs = _logs_hint(secret, created, now)
    found: list[str] = []
    if secret.rotation_enabled is False:
        found.append(
            "Rotation is off. CancelRotateSecret turns it off and leaves AWSPENDING on the "
            "half-made version; AWS asks you to remove it, because it blocks future rotations."
        )
    if has_value is False:
        found.append(
            f"Version {pending} holds no value: list-secret-version-ids lists only versions "
            "that hold one, and it does not list this one. It is the empty placeholder "
            "Secrets Manager creates when a rotation starts, and createSecret never stored "
            "the new secret in it: createSecret failed on every attempt, or the function "
            "could not run at all (it cannot reach Secrets Manager from its VPC, lacks "
            "permissions such as secretsmanager:PutSecretValue, or timed out). " + logs
        )
    elif has_value is True:
        found.append(
            f"Version {pending} holds a value, so createSecret succeeded and a later step "
            "failed on every attempt: setSecret (the protected service refused the change), "
            "testSecret (the new credentials did not work), or finishSecret (it failed, or "
            "returned without moving AWSCURRENT to the new version). " + logs
        )
    else:
        check = aws_command(
            "get-secret-value",
            secret.secret_id,
            *("--version-id", pending, "--query", "VersionId", "--output", "text"),
        )
        found.append(
            "A step of the rotation function failed on every attempt: createSecret, "
            "setSecret, testSecret or finishSecret. " + logs
        )
        found.append(
            "finishSecret returned without moving AWSCURRENT to the new version (a function "
            "must call update-secret-version-stage with --move-to-version-id the token and "
            "--remove-from-version-id the current version)."
        )
        found.append(
            "createSecret failed before storing the new secret, leaving the empty placeholder "
            "Secrets Manager created when the rotation started. To tell whether the "
            f"pending version holds a value, without printing it: `{check}` "
            "(it fails with ResourceNotFoundException for an empty placeholder), or save "
            "list-secret-version-ids output too: it lists only versions that hold a value."
        )
    if created is not None and secret.last_rotated is not None and created < secret.last_rotated:
        found.append(
            f"Unusually, version {pending} is older than the last successful rotation "
            f"({when(secret.last_rotated, now)}): AWSPENDING was attached to it later, "
            "by hand or by code that put a version with the AWSPENDING label outside a rotation."
        )
    return ("Likely causes", [("bullet", cause) for cause in found])


def _logs_hint(secret: SavedSecret, created: datetime | None, now: datetime) -> str:
    match = _LAMBDA_NAME.search(secret.rotation_lambda_arn or "")
    if not match:
        return (
            "The rotation function's CloudWatch logs say which step failed and why; "
            "CloudTrail records a RotationFailed event for each failed attempt."
        )
    since = created or secret.last_changed
    days = 7 if since is None else max(1, (now - since).days + 1)
    return (
        "The function's CloudWatch logs say which step failed and why: "
        f"`aws logs tail /aws/lambda/{match.group(1)} --since {days}d` "
        "(CloudTrail also records a RotationFailed event for each failed attempt)."
    )


def unblock(
    secret: SavedSecret, unfinished: list[str], current: str | None, has_value: bool | None
) -> tuple[list[str], Section]:
    """The commands that unblock the secret, in the order the text offers them, and the text."""
    secret_id = secret.secret_id
    pending = unfinished[0]
    remove = [stage_command(secret_id, AWSPENDING, remove_from=vid) for vid in unfinished]
    commands = list(remove)
    items: list[Item] = [
        (
            "step",
            "Remove AWSPENDING from the unfinished version. This is the fix when the "
            "protected service still accepts the AWSCURRENT credentials (the usual case: "
            "the rotation failed before setSecret changed anything). The next rotation then "
            "starts afresh with a new version:",
        ),
        *(("command", command) for command in remove),
    ]
    if has_value is not False:
        move = stage_command(secret_id, AWSCURRENT, move_to=pending, remove_from=current)
        commands += [move, remove[0]]
        items += [
            (
                "step",
                f"Only if version {pending} already holds the correct new credentials AND "
                "the protected service already uses them (setSecret succeeded, then "
                "testSecret or finishSecret failed; applications reading AWSCURRENT are then "
                "failing): finish the rotation by hand. Move AWSCURRENT to it"
                + (f" (AWSPREVIOUS follows to {current})" if current else "")
                + ":",
            ),
            ("command", move),
            ("text", "then remove AWSPENDING from it:"),
            ("command", remove[0]),
        ]
    if secret.rotation_enabled:
        items.append(
            (
                "step",
                "Or fix the function and change no label: as the error says, Secrets Manager "
                "reattempts the unfinished rotation, with the same version (AWS does not "
                "document when).",
            )
        )
    if has_value is False:
        items.append(
            (
                "bullet",
                f"Do not move AWSCURRENT to {pending}: it holds no value, and every reader "
                "of the secret would fail.",
            )
        )
    else:
        items.append(
            (
                "bullet",
                "To choose between 1 and 2 without printing the secret: check whether the "
                "applications that read AWSCURRENT can still log in (their errors, or a "
                "health check).",
            )
        )
    items.append(
        ("bullet", "Fix the function either way, or the next rotation fails the same way.")
    )
    region = secret.region
    if region:
        items.append(
            (
                "bullet",
                f"The commands use your default region; the secret is in {region}: add "
                f"--region {region} if they differ.",
            )
        )
    return commands, ("How to unblock", items)
