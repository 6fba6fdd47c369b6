"""What to do about a stuck secret: its likely causes when the evidence names none, where the
missing evidence is, and the AWS CLI commands that unblock it."""

from __future__ import annotations

from datetime import datetime

from .checks import no_current_value
from .commands import log_commands, secret_command, stage_command, trail_command
from .dates import when
from .report import Item, Section
from .saved import AWSCURRENT, AWSPENDING, SavedSecret

__all__ = ["aws_command", "evidence_hint", "likely_causes", "stage_command", "unblock"]


def aws_command(operation: str, secret_id: str, *arguments: str) -> str:
    """An ``aws secretsmanager OPERATION --secret-id SECRET_ID ...`` command, quoted for a shell,
    with the region of the secret when SECRET_ID is an ARN."""
    return secret_command(operation, secret_id, *arguments)


def likely_causes(
    secret: SavedSecret,
    pending: str,
    has_value: bool | None,
    created: datetime | None,
    now: datetime,
    *,
    logs_given: bool,
    trail_given: bool,
) -> list[str]:
    """Why the rotation that created ``pending`` likely never finished: guesses from the labels,
    each saying what would settle it."""
    logs = evidence_hint(secret, created, now, logs_given=logs_given, trail_given=trail_given)
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
    return [text.rstrip() for text in found]


def evidence_hint(
    secret: SavedSecret,
    created: datetime | None,
    now: datetime,
    *,
    logs_given: bool = False,
    trail_given: bool = False,
) -> str:
    """Where the evidence that was not given is, and the commands that save it; nothing is asked
    for again once given."""
    since = created or secret.last_changed or now
    commands = log_commands(secret.rotation_lambda_arn or "", since, now)
    trail = trail_command(secret.arn, since)
    asks: list[str] = []
    if not logs_given:
        if commands is None:
            asks.append(
                "The rotation function's CloudWatch logs say which step failed and why: save "
                "them (aws logs filter-log-events --output json) and give them to diagnose too."
            )
        else:
            tail, save = commands
            asks.append(
                "The function's CloudWatch logs say which step failed and why. Save them and "
                f"give them to diagnose too: `{save}` (AWS CLI v2 can also show them: `{tail}`)."
            )
    if not trail_given:
        asks.append(
            "CloudTrail records a RotationFailed event for each failed attempt; save them for "
            f"diagnose too: `{trail}`."
        )
    if not asks:
        return (
            "The logs and CloudTrail events given show no failure of this rotation: check that "
            "they cover the time since it started, and the function's log group."
        )
    return " ".join(asks)


def _first_value(secret: SavedSecret) -> tuple[list[str], Section]:
    """The secret never held a value: store one; no label move can help."""
    store = secret_command(
        "put-secret-value", secret.secret_id, "--secret-string", "file://secret.json"
    )
    items: list[Item] = [
        (
            "step",
            "Store the secret's first value (write it to secret.json first). A new value "
            "stored while a rotation is pending ends that rotation (RotationAbandoned), so "
            "AWSPENDING goes too, and the next rotation starts from this value:",
        ),
        ("command", store),
        (
            "step",
            "Or let a first rotation finish: that works only with a function whose "
            "createSecret does not need an AWSCURRENT value to start from.",
        ),
        (
            "bullet",
            "Moving AWSCURRENT or removing AWSPENDING cannot help: no version holds a value.",
        ),
    ]
    if secret.region is None:
        items.append(
            ("bullet", "The saved output has no ARN, so the command uses your default region.")
        )
    return [store], ("How to unblock", items)


def unblock(
    secret: SavedSecret, unfinished: list[str], current: str | None, has_value: bool | None
) -> tuple[list[str], Section]:
    """The commands that unblock the secret, in the order the text offers them, and the text."""
    if no_current_value(secret):
        return _first_value(secret)
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
    if secret.region is None:
        items.append(
            (
                "bullet",
                "The saved output has no ARN, so the commands use your default region: run "
                "them where the secret is.",
            )
        )
    return commands, ("How to unblock", items)
