"""Explain a secret's rotation state from saved AWS CLI output: is a rotation stuck, and how to unblock it.

The input is what ``aws secretsmanager describe-secret --secret-id NAME`` printed, optionally with
what ``aws secretsmanager list-secret-version-ids --secret-id NAME --include-deprecated`` printed:
in two files, back to back in one file, or merged into one object. Nothing here calls AWS or moto,
and nothing reads or prints a secret's value: the inputs hold only labels, ids and dates.

Library use: :func:`diagnose` takes the parsed JSON (or boto3's responses, whose dates are
``datetime`` objects) and returns a :class:`Diagnosis`. The command line uses
:func:`run_diagnose_command`.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

__all__ = [
    "HEALTHY",
    "INCONSISTENT",
    "IN_PROGRESS",
    "STUCK",
    "Diagnosis",
    "Problem",
    "SavedSecret",
    "SavedVersion",
    "UnreadableInput",
    "diagnose",
    "parse_date",
    "parse_saved_state",
    "read_saved_states",
    "run_diagnose_command",
    "stage_command",
]

AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"
AWSPREVIOUS = "AWSPREVIOUS"

HEALTHY = "healthy"
IN_PROGRESS = "rotation in progress"
STUCK = "stuck"
INCONSISTENT = "inconsistent"

PREVIOUS_ROTATION_INCOMPLETE = (
    "A previous rotation isn't complete. That rotation will be reattempted."
)
NO_LAMBDA = "No Lambda rotation function ARN is associated with this secret."
MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)

#: A pending version younger than this may belong to a rotation that is still running.
RUNNING_WINDOW = timedelta(hours=1)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREADABLE = 2

_WIDTH = 92
_SAVE_HINT = (
    "Save it with: aws secretsmanager describe-secret --secret-id NAME --output json > state.json"
)
# Keys only DescribeSecret returns (list-secret-version-ids returns ARN, Name and Versions).
_DESCRIBE_KEYS = (
    "VersionIdsToStages",
    "RotationEnabled",
    "RotationLambdaARN",
    "RotationRules",
    "LastRotatedDate",
    "LastChangedDate",
    "LastAccessedDate",
    "NextRotationDate",
    "DeletedDate",
    "CreatedDate",
    "KmsKeyId",
    "OwningService",
    "PrimaryRegion",
)
_LAMBDA_NAME = re.compile(r":function:([A-Za-z0-9_-]+)")
_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):")


class UnreadableInput(ValueError):
    """The input is not saved describe-secret (or list-secret-version-ids) output.

    The message says what is wrong and how to save the right output.
    """


# --- the saved state, normalised ---------------------------------------------------------------


@dataclass
class SavedVersion:
    """One version as the saved outputs show it (never its value)."""

    version_id: str
    labels: list[str] = field(default_factory=list)
    created: datetime | None = None
    last_accessed: datetime | None = None
    #: Listed by list-secret-version-ids, which lists only versions that hold a value.
    listed: bool = False


@dataclass
class SavedSecret:
    """What describe-secret (and list-secret-version-ids) said about one secret."""

    arn: str | None
    name: str | None
    versions: dict[str, SavedVersion]
    rotation_enabled: bool | None = None
    rotation_lambda_arn: str | None = None
    rotation_rules: dict[str, Any] | None = None
    created: datetime | None = None
    last_changed: datetime | None = None
    last_rotated: datetime | None = None
    next_rotation: datetime | None = None
    deleted: datetime | None = None
    owning_service: str | None = None
    #: A list-secret-version-ids output was given.
    versions_listed: bool = False
    #: ... and it was complete (no NextToken), so a version it lacks holds no value.
    listing_complete: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def secret_id(self) -> str:
        """The identifier to pass to the AWS CLI: the ARN if known, else the name."""
        return self.arn or self.name or "SECRET"

    @property
    def display_name(self) -> str:
        return self.name or self.arn or "(unnamed secret)"

    @property
    def region(self) -> str | None:
        match = _ARN_REGION.match(self.arn or "")
        return match.group(1) if match else None

    def holders(self, label: str) -> list[str]:
        return [vid for vid, v in self.versions.items() if label in v.labels]

    def has_value(self, version_id: str) -> bool | None:
        """True or False when the saved outputs tell, None when they cannot."""
        version = self.versions.get(version_id)
        if version is None:
            return None
        if version.listed:
            return True
        if self.versions_listed and self.listing_complete:
            return False
        return None


def parse_saved_state(
    described: Mapping[str, Any], versions: Mapping[str, Any] | None = None
) -> SavedSecret:
    """Normalise describe-secret output (and list-secret-version-ids output) into a SavedSecret.

    ``described`` may also be one object holding both (describe-secret's keys plus ``Versions``).
    Dates may be ISO 8601 strings, epoch numbers or ``datetime`` objects. Raises UnreadableInput.
    """
    if not isinstance(described, Mapping):
        raise UnreadableInput(
            f"expected describe-secret output (a JSON object), got {_kind_of(described)}. "
            + _SAVE_HINT
        )
    if versions is None and "Versions" in described:
        versions = described
    _require_describe(described, "the input")
    notes: list[str] = []
    arn = _optional_str(described, "ARN")
    name = _optional_str(described, "Name")
    saved_versions: dict[str, SavedVersion] = {}
    stages = described.get("VersionIdsToStages")
    if stages is not None:
        if not isinstance(stages, Mapping) or not all(
            isinstance(vid, str) and _is_label_list(labels) for vid, labels in stages.items()
        ):
            raise UnreadableInput(
                "VersionIdsToStages is not an object mapping version ids to lists of staging "
                "labels, as describe-secret prints it. " + _SAVE_HINT
            )
        for vid, labels in stages.items():
            saved_versions[vid] = SavedVersion(vid, list(labels))
    versions_listed = listing_complete = False
    if versions is not None:
        entries = _version_entries(versions, arn, name)
        versions_listed = True
        listing_complete = not versions.get("NextToken")
        if not listing_complete:
            notes.append(
                "The list-secret-version-ids output has a NextToken: it is one page of several, "
                "so a version missing from it may still hold a value."
            )
        for entry in entries:
            vid = entry["VersionId"]
            labels = list(entry.get("VersionStages") or [])
            version = saved_versions.get(vid)
            if version is None:
                version = saved_versions[vid] = SavedVersion(vid, labels if stages is None else [])
                if stages is not None and labels:
                    notes.append(
                        f"list-secret-version-ids shows {'+'.join(labels)} on {vid}, which "
                        "describe-secret does not list: the two outputs were saved at different "
                        "times. This diagnosis uses describe-secret's labels."
                    )
            elif sorted(labels) != sorted(version.labels):
                notes.append(
                    f"The two outputs disagree about the labels of {vid} "
                    f"(describe-secret: {'+'.join(version.labels) or 'none'}; "
                    f"list-secret-version-ids: {'+'.join(labels) or 'none'}): they were saved at "
                    "different times. This diagnosis uses describe-secret's labels."
                )
            version.listed = True
            version.created = _date(entry, "CreatedDate", notes, where=f"version {vid}")
            version.last_accessed = _date(entry, "LastAccessedDate", notes, where=f"version {vid}")
    enabled = described.get("RotationEnabled")
    rules = described.get("RotationRules")
    return SavedSecret(
        arn=arn,
        name=name,
        versions=saved_versions,
        rotation_enabled=enabled if isinstance(enabled, bool) else None,
        rotation_lambda_arn=_optional_str(described, "RotationLambdaARN") or None,
        rotation_rules=dict(rules) if isinstance(rules, Mapping) else None,
        created=_date(described, "CreatedDate", notes),
        last_changed=_date(described, "LastChangedDate", notes),
        last_rotated=_date(described, "LastRotatedDate", notes),
        next_rotation=_date(described, "NextRotationDate", notes),
        deleted=_date(described, "DeletedDate", notes),
        owning_service=_optional_str(described, "OwningService") or None,
        versions_listed=versions_listed,
        listing_complete=listing_complete,
        notes=notes,
    )


def _require_describe(document: Mapping[str, Any], where: str) -> None:
    for key in ("SecretString", "SecretBinary"):
        if key in document:
            raise UnreadableInput(
                f"{where} is get-secret-value output, which contains the secret's value: delete "
                "it, and save describe-secret output instead (it holds no value). " + _SAVE_HINT
            )
    if "SecretList" in document:
        raise UnreadableInput(
            f"{where} is list-secrets output; diagnose needs the describe-secret output of one "
            "secret. " + _SAVE_HINT
        )
    has_id = isinstance(document.get("ARN"), str) or isinstance(document.get("Name"), str)
    if not has_id or not any(key in document for key in _DESCRIBE_KEYS):
        if has_id and "Versions" in document:
            raise UnreadableInput(
                f"{where} is list-secret-version-ids output only; diagnose also needs the "
                "secret's describe-secret output, before it (in the same file or as the first "
                "file). " + _SAVE_HINT
            )
        raise UnreadableInput(
            f"{where} is not describe-secret output: it lacks "
            + ("ARN and Name" if not has_id else "VersionIdsToStages and the rotation fields")
            + ". "
            + _SAVE_HINT
        )


def _version_entries(
    versions: Mapping[str, Any], arn: str | None, name: str | None
) -> list[Mapping[str, Any]]:
    if not isinstance(versions, Mapping) or not isinstance(versions.get("Versions"), list):
        raise UnreadableInput(
            "the version list is not list-secret-version-ids output (an object with a "
            "'Versions' list). Save it with: aws secretsmanager list-secret-version-ids "
            "--secret-id NAME --include-deprecated --output json > versions.json"
        )
    other_arn, other_name = versions.get("ARN"), versions.get("Name")
    if (arn and isinstance(other_arn, str) and other_arn != arn) or (
        name and isinstance(other_name, str) and other_name != name
    ):
        raise UnreadableInput(
            f"the list-secret-version-ids output is for {other_name or other_arn}, but the "
            f"describe-secret output is for {name or arn}: save both for the same secret."
        )
    entries: list[Mapping[str, Any]] = []
    for entry in versions["Versions"]:
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("VersionId"), str)
            or not _is_label_list(entry.get("VersionStages") or [])
        ):
            raise UnreadableInput(
                "an entry of 'Versions' lacks a VersionId or has VersionStages that are not a "
                "list of labels: is this list-secret-version-ids output?"
            )
        entries.append(entry)
    return entries


def _is_label_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(label, str) for label in value)


def _optional_str(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) else None


def _kind_of(value: object) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if value is None:
        return "null"
    return f"a JSON {type(value).__name__}"


# --- dates ------------------------------------------------------------------------------------

_FRACTION = re.compile(r"(\.\d+)")


def parse_date(value: object) -> datetime | None:
    """An aware UTC datetime from an AWS CLI date: ISO 8601 text, epoch seconds or a datetime.

    Returns None for None; raises ValueError for anything else it cannot read.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds, as JavaScript SDKs print them
            seconds /= 1000
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        try:
            return parse_date(float(text))
        except ValueError:
            pass
        text = re.sub(r"[zZ]$", "+00:00", text)
        # Python 3.10 reads only 3 or 6 fractional digits.
        text = _FRACTION.sub(lambda m: (m.group(1) + "000000")[:7], text, count=1)
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
        return parse_date(parsed)
    raise ValueError(value)


def _date(
    document: Mapping[str, Any], key: str, notes: list[str], *, where: str = ""
) -> datetime | None:
    try:
        return parse_date(document.get(key))
    except (ValueError, OverflowError, OSError):
        notes.append(f"Could not read {key}{' of ' + where if where else ''}; it was ignored.")
        return None


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "at an unknown date"
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC ({_relative(moment, now)})"


def _relative(moment: datetime, now: datetime) -> str:
    seconds = (now - moment).total_seconds()
    amount = abs(seconds)
    if amount < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if amount >= size:
            count = int(amount // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"{text} ago" if seconds > 0 else f"in {text}"
    return "just now"  # pragma: no cover


# --- the diagnosis ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the secret, with a stable code for programs and a message for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Diagnosis:
    """What :func:`diagnose` found.

    ``state`` is HEALTHY, IN_PROGRESS, STUCK or INCONSISTENT (not stuck, but ``problems`` is not
    empty). ``commands`` are the exact AWS CLI commands the text offers, each once: for a stuck
    secret the first one unblocks it (removes AWSPENDING), and the next one is the alternative
    that makes the pending version current; they are choices the text explains, not a script to
    run in order. ``text`` is the whole explanation, as the command line prints it.
    """

    state: str
    problems: list[Problem]
    commands: list[str]
    text: str
    arn: str | None = None
    name: str | None = None
    current_version: str | None = None
    pending_version: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when healthy or a rotation may still be running, 1 when stuck or inconsistent."""
        return EXIT_OK if self.state in (HEALTHY, IN_PROGRESS) and not self.problems else 1


def diagnose(
    described: Mapping[str, Any],
    versions: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Diagnosis:
    """Explain a secret's rotation state from describe-secret (and list-secret-version-ids) output.

    ``now`` (default: the current time) decides what "recent" and "in the past" mean; pass the
    moment the outputs were saved to read an old saved state as it was then.
    """
    secret = parse_saved_state(described, versions)
    moment = parse_date(now) if now is not None else datetime.now(timezone.utc)
    assert moment is not None
    return _Analysis(secret, moment).run()


def stage_command(
    secret_id: str, label: str, *, remove_from: str | None = None, move_to: str | None = None
) -> str:
    """The ``aws secretsmanager update-secret-version-stage`` command for one label change."""
    parts = [
        "aws",
        "secretsmanager",
        "update-secret-version-stage",
        "--secret-id",
        secret_id,
        "--version-stage",
        label,
    ]
    if move_to is not None:
        parts += ["--move-to-version-id", move_to]
    if remove_from is not None:
        parts += ["--remove-from-version-id", remove_from]
    return " ".join(shlex.quote(part) for part in parts)


class _Analysis:
    def __init__(self, secret: SavedSecret, now: datetime) -> None:
        self.secret = secret
        self.now = now
        self.problems: list[Problem] = []
        self.commands: list[str] = []
        # (title, [(kind, text)]): kind is "step" (numbered), "command", "text" or "bullet".
        self.sections: list[tuple[str, list[tuple[str, str]]]] = []
        self.notes = list(secret.notes)

    # The analysis fills problems, commands and sections; run() renders them.
    def run(self) -> Diagnosis:
        secret = self.secret
        currents = secret.holders(AWSCURRENT)
        current = currents[0] if currents else None
        unfinished = [vid for vid in secret.holders(AWSPENDING) if vid not in currents]
        pending = unfinished[0] if unfinished else None
        self._check_labels(currents)
        if pending is None:
            state = HEALTHY
            summary = self._healthy_summary(current)
        elif self._may_be_running(pending):
            state = IN_PROGRESS
            summary = self._in_progress(pending, current)
        else:
            state = STUCK
            summary = self._stuck(unfinished, current)
        self._check_configuration(pending)
        if state == HEALTHY and self.problems:
            state = INCONSISTENT
            summary = [
                "The staging labels do not block rotation, but something else is wrong: see "
                "Problems below.",
                *summary[1:],
            ]
        text = self._render(state, summary)
        return Diagnosis(
            state=state,
            problems=self.problems,
            commands=list(dict.fromkeys(self.commands)),
            text=text,
            arn=secret.arn,
            name=secret.name,
            current_version=current,
            pending_version=pending,
            notes=self.notes,
        )

    # --- the label state ----------------------------------------------------------------------

    def _healthy_summary(self, current: str | None) -> list[str]:
        secret = self.secret
        if current is None:
            return ["No rotation is pending."]
        lines = [
            f"AWSCURRENT is on version {current} and no rotation is pending: the next "
            "RotateSecret starts a new rotation."
        ]
        if current in secret.holders(AWSPENDING):
            lines.append(
                "AWSPENDING is on the same version as AWSCURRENT: a finished rotation whose "
                "label was not cleared. That is a valid end state, and it does not block the next "
                "rotation."
            )
        return lines

    def _created(self, version_id: str) -> datetime | None:
        version = self.secret.versions[version_id]
        return version.created

    def _may_be_running(self, pending: str) -> bool:
        created = self._created(pending)
        if created is None and self.secret.has_value(pending) is not True:
            # An empty placeholder is never listed with its date; the secret's own last change
            # is at or after the moment RotateSecret created it.
            created = self.secret.last_changed
        return created is not None and self.now - created < RUNNING_WINDOW

    def _in_progress(self, pending: str, current: str | None) -> list[str]:
        created = self._created(pending)
        when = (
            f"created {_relative(created, self.now)}"
            if created is not None
            else f"the secret last changed {_relative(self.secret.last_changed, self.now)}"
            if self.secret.last_changed is not None
            else ""
        )
        return [
            f"AWSPENDING is on version {pending} ({when}), not on the AWSCURRENT version "
            f"{current or '(none)'}: a rotation started less than an hour ago and may still be "
            "running. Each step can run for up to the function's timeout, and Secrets Manager "
            "retries a failed rotation several times.",
            "While it runs, RotateSecret fails with: " + PREVIOUS_ROTATION_INCOMPLETE + " That "
            "is expected. Do not remove AWSPENDING now. If it is still on this version an hour "
            "after the rotation started, save the state again and rerun this command: it will "
            "then show how to unblock the secret.",
        ]

    def _stuck(self, unfinished: list[str], current: str | None) -> list[str]:
        secret, pending = self.secret, unfinished[0]
        created = self._created(pending)
        has_value = secret.has_value(pending)
        lines = [
            f"AWSPENDING is on version {pending}"
            + (f", created {_relative(created, self.now)}," if created else "")
            + f", but AWSCURRENT is on {current or 'no version'}: the rotation that created "
            f"{pending} never finished. The next RotateSecret would fail with the error below, "
            "and so would every one after it until AWSPENDING is removed:",
            "    InvalidRequestException: " + PREVIOUS_ROTATION_INCOMPLETE,
        ]
        if created is None and secret.last_changed is not None:
            lines.append(
                f"(No date is known for {pending}. The secret last changed "
                f"{_when(secret.last_changed, self.now)}, and creating the version changed it, "
                "so the rotation started at least that long ago.)"
            )
        elif created is None:
            lines.append(
                "(No date is known for it. If a rotation started within the last hour, it may "
                "still be running: wait an hour and check again before unblocking.)"
            )
        self._causes(pending, has_value, created)
        self._unblock(unfinished, current, has_value)
        return lines

    def _causes(self, pending: str, has_value: bool | None, created: datetime | None) -> None:
        secret = self.secret
        logs = self._logs_hint(created)
        causes: list[str] = []
        if secret.rotation_enabled is False:
            causes.append(
                "Rotation is off. CancelRotateSecret turns it off and leaves AWSPENDING on the "
                "half-made version; AWS asks you to remove it, because it blocks future rotations."
            )
        if has_value is False:
            causes.append(
                f"Version {pending} holds no value: list-secret-version-ids lists only versions "
                "that hold one, and it does not list this one. It is the empty placeholder "
                "Secrets Manager creates when a rotation starts, and createSecret never stored "
                "the new secret in it: createSecret failed on every attempt, or the function "
                "could not run at all (it cannot reach Secrets Manager from its VPC, lacks "
                "permissions such as secretsmanager:PutSecretValue, or timed out). " + logs
            )
        elif has_value is True:
            causes.append(
                f"Version {pending} holds a value, so createSecret succeeded and a later step "
                "failed on every attempt: setSecret (the protected service refused the change), "
                "testSecret (the new credentials did not work), or finishSecret (it failed, or "
                "returned without moving AWSCURRENT to the new version). " + logs
            )
        else:
            causes.append(
                "A step of the rotation function failed on every attempt: createSecret, "
                "setSecret, testSecret or finishSecret. " + logs
            )
            causes.append(
                "finishSecret returned without moving AWSCURRENT to the new version (a function "
                "must call update-secret-version-stage with --move-to-version-id the token and "
                "--remove-from-version-id the current version)."
            )
            causes.append(
                "createSecret failed before storing the new secret, leaving the empty placeholder "
                "Secrets Manager created when the rotation started. To tell whether the "
                "pending version holds a value, without printing it: "
                f"`aws secretsmanager get-secret-value --secret-id {shlex.quote(secret.secret_id)} "
                f"--version-id {shlex.quote(pending)} --query VersionId --output text` "
                "(it fails with ResourceNotFoundException for an empty placeholder), or save "
                "list-secret-version-ids output too: it lists only versions that hold a value."
            )
        if (
            created is not None
            and secret.last_rotated is not None
            and created < secret.last_rotated
        ):
            causes.append(
                f"Unusually, version {pending} is older than the last successful rotation "
                f"({_when(secret.last_rotated, self.now)}): AWSPENDING was attached to it later, "
                "by hand or by code that put a version with the AWSPENDING label outside a rotation."
            )
        self.sections.append(("Likely causes", [("bullet", cause) for cause in causes]))

    def _logs_hint(self, created: datetime | None) -> str:
        arn = self.secret.rotation_lambda_arn or ""
        match = _LAMBDA_NAME.search(arn)
        if not match:
            return (
                "The rotation function's CloudWatch logs say which step failed and why; "
                "CloudTrail records a RotationFailed event for each failed attempt."
            )
        since = created or self.secret.last_changed
        days = 7 if since is None else max(1, (self.now - since).days + 1)
        return (
            "The function's CloudWatch logs say which step failed and why: "
            f"`aws logs tail /aws/lambda/{match.group(1)} --since {days}d` "
            "(CloudTrail also records a RotationFailed event for each failed attempt)."
        )

    def _unblock(self, unfinished: list[str], current: str | None, has_value: bool | None) -> None:
        secret_id = self.secret.secret_id
        pending = unfinished[0]
        remove = [stage_command(secret_id, AWSPENDING, remove_from=vid) for vid in unfinished]
        self.commands += remove
        items: list[tuple[str, str]] = [
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
            self.commands += [move, remove[0]]
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
        if self.secret.rotation_enabled:
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
        region = self.secret.region
        if region:
            items.append(
                (
                    "bullet",
                    f"The commands use your default region; the secret is in {region}: add "
                    f"--region {region} if they differ.",
                )
            )
        self.sections.append(("How to unblock", items))

    # --- consistency --------------------------------------------------------------------------

    def _problem(self, code: str, message: str) -> None:
        self.problems.append(Problem(code, message))

    def _check_labels(self, currents: list[str]) -> None:
        secret = self.secret
        secret_id = shlex.quote(secret.secret_id)
        if not secret.versions:
            self._problem(
                "no-current",
                "The secret has no version, so no AWSCURRENT: it holds no value yet (it was "
                "created without one). GetSecretValue fails, and a rotation function cannot read "
                "the current secret. Store a first value with put-secret-value.",
            )
        elif not currents:
            previous = secret.holders(AWSPREVIOUS)
            hint = (
                f" AWSPREVIOUS, the last known good version, is on {previous[0]}."
                if previous
                else ""
            )
            self._problem(
                "no-current",
                "No version carries AWSCURRENT: GetSecretValue without a version fails, and a "
                "rotation function cannot read the current secret. Move AWSCURRENT to the "
                "version whose credentials the protected service accepts: `aws secretsmanager "
                f"update-secret-version-stage --secret-id {secret_id} --version-stage AWSCURRENT "
                "--move-to-version-id VERSION_ID`." + hint,
            )
        seen: dict[str, list[str]] = {}
        for vid, version in secret.versions.items():
            for label in dict.fromkeys(version.labels):
                seen.setdefault(label, []).append(vid)
        for label, holders in seen.items():
            if len(holders) > 1:
                self._problem(
                    "label-on-two-versions",
                    f"{label} is on {len(holders)} versions ({', '.join(holders)}). Secrets "
                    "Manager keeps each staging label on one version at a time, so this output "
                    "was edited, or assembled from outputs saved at different times: save it "
                    "again.",
                )

    def _check_configuration(self, pending: str | None) -> None:
        secret = self.secret
        secret_id = shlex.quote(secret.secret_id)
        if pending is not None and not secret.rotation_enabled:
            why = (
                "rotation is off (CancelRotateSecret turns it off and leaves AWSPENDING behind)"
                if secret.rotation_enabled is False
                else "the secret was never configured for rotation, so the label was attached "
                "by hand or by code outside a rotation"
            )
            self._problem(
                "pending-without-rotation",
                f"AWSPENDING is on {pending} but {why}: nothing will reattempt this rotation, "
                "and RotateSecret fails until AWSPENDING is removed.",
            )
        if (
            secret.rotation_enabled
            and secret.next_rotation is not None
            and secret.next_rotation < self.now
        ):
            if pending is None:
                why = (
                    "No rotation is pending, so either it never started (Secrets Manager could "
                    "not invoke the function: its resource policy must allow the principal "
                    "secretsmanager.amazonaws.com), or it was abandoned when a new value was "
                    "stored while it ran (CloudTrail event RotationAbandoned)."
                )
            else:
                why = "That is the rotation left pending on " + pending + "."
            self._problem(
                "next-rotation-past",
                f"NextRotationDate, {_when(secret.next_rotation, self.now)}, is in the past "
                "while rotation is on: the rotation due by then did not succeed (AWS shows a "
                f"past date after a failed rotation). {why}",
            )
        if secret.deleted is not None:
            command = f"aws secretsmanager restore-secret --secret-id {secret_id}"
            self.commands.append(command)
            self._problem(
                "scheduled-for-deletion",
                f"The secret is marked for deletion (DeletedDate {_when(secret.deleted, self.now)}): "
                "rotation no longer runs, and RotateSecret and most other calls fail with: "
                f"{MARKED_FOR_DELETION} If the deletion was a mistake, cancel it: `{command}`",
            )
        if secret.rotation_enabled and not secret.rotation_lambda_arn:
            if secret.owning_service:
                self.notes.append(
                    f"Rotation is managed by {secret.owning_service}, which needs no rotation "
                    "function of yours."
                )
            else:
                self._problem(
                    "rotation-without-lambda",
                    "Rotation is on but no rotation function is configured: every rotation "
                    f"fails with: {NO_LAMBDA} Configure one: `aws secretsmanager rotate-secret "
                    f"--secret-id {secret_id} --rotation-lambda-arn FUNCTION_ARN`",
                )

    # --- rendering ----------------------------------------------------------------------------

    def _render(self, state: str, summary: list[str]) -> str:
        secret = self.secret
        out = [f"Secret: {secret.display_name}"]
        if secret.arn and secret.arn != secret.display_name:
            out.append(f"  {secret.arn}")
        out.append("")
        out.append(f"State: {state.upper()}")
        for paragraph in summary:
            if paragraph.startswith("    "):
                out.append(paragraph)  # a quoted error message, whole
            else:
                out += _wrap(paragraph, indent="  ")
        out += ["", "Versions:", *self._version_lines()]
        out += ["", "Rotation:", *self._rotation_lines()]
        if self.problems:
            out += ["", "Problems:"]
            for problem in self.problems:
                out += _wrap(problem.message, indent="  - ", subsequent="    ")
        for title, items in self.sections:
            out += ["", f"{title}:"]
            number = 0
            for kind, text in items:
                if kind == "command":
                    out.append(f"       {text}")  # one line, to copy whole
                elif kind == "step":
                    number += 1
                    out += _wrap(f"{number}. {text}", indent="  ", subsequent="     ")
                elif kind == "text":
                    out += _wrap(text, indent="     ")
                else:
                    out += _wrap(text, indent="  - ", subsequent="    ")
        if self.notes:
            out += ["", "Notes:"]
            for note in self.notes:
                out += _wrap(note, indent="  - ", subsequent="    ")
        return "\n".join(out) + "\n"

    def _version_lines(self) -> list[str]:
        secret = self.secret
        if not secret.versions:
            return ["  (none)"]
        width = max(len(vid) for vid in secret.versions)
        label_width = max(len("+".join(v.labels) or "(no label)") for v in secret.versions.values())
        lines = []
        for vid, version in _ordered(secret.versions):
            labels = "+".join(version.labels) or "(no label)"
            facts = []
            if version.created is not None:
                facts.append(f"created {_when(version.created, self.now)}")
            if version.last_accessed is not None:
                facts.append(f"last read {version.last_accessed:%Y-%m-%d}")
            value = secret.has_value(vid)
            if value is False:
                facts.append("no value")
            lines.append(f"  {vid:<{width}}  {labels:<{label_width}}  {', '.join(facts)}".rstrip())
        if not secret.versions_listed:
            lines.append(
                "  (dates and values unknown: list-secret-version-ids output was not given)"
            )
        return lines

    def _rotation_lines(self) -> list[str]:
        secret = self.secret
        if secret.rotation_enabled is None and secret.rotation_lambda_arn is None:
            return ["  never configured"]
        state = "on" if secret.rotation_enabled else "off"
        function = secret.rotation_lambda_arn or (
            f"managed by {secret.owning_service}" if secret.owning_service else "no function"
        )
        lines = [f"  {state}, {function}"]
        schedule = _schedule_text(secret.rotation_rules)
        if schedule:
            lines.append(f"  schedule: {schedule}")
        if secret.last_rotated is not None:
            lines.append(f"  last rotated {_when(secret.last_rotated, self.now)}")
        if secret.next_rotation is not None:
            lines.append(f"  next rotation by {_when(secret.next_rotation, self.now)}")
        return lines


def _ordered(versions: Mapping[str, SavedVersion]) -> list[tuple[str, SavedVersion]]:
    """Newest first when dates are known; else pending, current, previous, the rest."""
    rank = {AWSPENDING: 0, AWSCURRENT: 1, AWSPREVIOUS: 2}

    def key(item: tuple[str, SavedVersion]) -> tuple[int, float, int]:
        version = item[1]
        label_rank = min((rank.get(label, 3) for label in version.labels), default=4)
        if version.created is None:
            return (0, 0.0, label_rank)
        return (1, -version.created.timestamp(), label_rank)

    return sorted(versions.items(), key=key)


def _schedule_text(rules: Mapping[str, Any] | None) -> str:
    if not rules:
        return ""
    expression = rules.get("ScheduleExpression")
    if expression:
        text = str(expression)
    elif rules.get("AutomaticallyAfterDays") is not None:
        days = rules["AutomaticallyAfterDays"]
        text = f"every {days} day{'s' if days != 1 else ''}"
    else:
        text = ""
    if rules.get("Duration"):
        text += f", window {rules['Duration']}"
    return text


_INLINE_COMMAND = re.compile(r"`[^`]+`")
_NO_BREAK = "\u00a0"  # textwrap does not break at a no-break space


def _wrap(text: str, *, indent: str, subsequent: str | None = None) -> list[str]:
    """Wrap a paragraph; a `command` in backticks stays on one line, to copy whole."""
    text = _INLINE_COMMAND.sub(lambda m: m.group(0).replace(" ", _NO_BREAK), text)
    lines = textwrap.wrap(
        text,
        width=_WIDTH,
        initial_indent=indent,
        subsequent_indent=subsequent if subsequent is not None else " " * len(indent),
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [line.replace(_NO_BREAK, " ") for line in lines]


# --- reading files ------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    # PowerShell's ">" writes UTF-16 with a byte-order mark.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def _read(source: str, stdin: IO[Any] | None) -> tuple[str, str]:
    """(label for messages, text) of one file, or of standard input for '-'."""
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin
        buffer = getattr(stream, "buffer", None)
        raw = buffer.read() if buffer is not None else stream.read()
        where = "standard input"
    else:
        where = source
        try:
            raw = Path(source).read_bytes()
        except FileNotFoundError:
            raise UnreadableInput(f"{source}: no such file. {_SAVE_HINT}") from None
        except IsADirectoryError:
            raise UnreadableInput(f"{source} is a directory; give the JSON file.") from None
        except OSError as error:
            raise UnreadableInput(f"{source}: cannot read it ({error.strerror}).") from None
    try:
        text = raw if isinstance(raw, str) else _decode(raw)
    except UnicodeDecodeError:
        raise UnreadableInput(
            f"{where} is not text in UTF-8 or UTF-16: is it the JSON the aws command printed?"
        ) from None
    return where, text


def _documents(where: str, text: str) -> list[Any]:
    """Every JSON document in the text: one, or several back to back."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        try:
            document, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            # The position only: the text itself is never echoed.
            raise UnreadableInput(
                f"{where} is not valid JSON (line {error.lineno}, column {error.colno}: "
                f"{error.msg}). Save the output with --output json, e.g. {_SAVE_HINT[14:]}"
            ) from None
        documents.append(document)
    if not documents:
        raise UnreadableInput(
            f"{where} is empty: did the aws command fail? Its error goes to the terminal, not "
            f"to the file. {_SAVE_HINT}"
        )
    return documents


def read_saved_states(
    files: Sequence[str], *, stdin: IO[Any] | None = None
) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """Read the files ('-' for standard input) into (describe-secret, list-versions) pairs.

    A list-secret-version-ids document goes with the describe-secret document of the same secret,
    wherever it comes; one that names no secret goes with the describe-secret document before
    it. Raises UnreadableInput.
    """
    described: list[dict[str, Any]] = []
    listings: list[list[Mapping[str, Any]]] = []
    # (where, document, how many describe-secret documents came before it)
    loose: list[tuple[str, dict[str, Any], int]] = []
    for source in files:
        where, text = _read(source, stdin)
        documents = _documents(where, text)
        for number, document in enumerate(documents, 1):
            place = where if len(documents) == 1 else f"{where} (JSON document {number})"
            if not isinstance(document, dict):
                raise UnreadableInput(
                    f"{place} is {_kind_of(document)}, not describe-secret output (a JSON "
                    f"object). {_SAVE_HINT}"
                )
            is_listing = isinstance(document.get("Versions"), list)
            if is_listing and not any(key in document for key in _DESCRIBE_KEYS):
                loose.append((place, document, len(described)))
                continue
            _require_describe(document, place)
            described.append(document)
            listings.append([document] if is_listing else [])
    for place, listing, before in loose:
        target = _owner(listing, described, before)
        if target is None:
            named = listing.get("Name") or listing.get("ARN")
            raise UnreadableInput(
                f"{place} is list-secret-version-ids output"
                + (
                    f" for {named}, but no describe-secret output of that secret was given"
                    if described and named
                    else " only; diagnose also needs the secret's describe-secret output, in "
                    "the same file or another one"
                )
                + ". "
                + _SAVE_HINT
            )
        listings[target].append(listing)
    return [
        (document, _merge_listings(found) if found else None)
        for document, found in zip(described, listings, strict=True)
    ]


def _owner(listing: Mapping[str, Any], described: list[dict[str, Any]], before: int) -> int | None:
    """The index of the describe-secret document a listing belongs to."""
    arn, name = listing.get("ARN"), listing.get("Name")
    if not arn and not name:
        if before:
            return before - 1
        return 0 if len(described) == 1 else None
    for index, document in enumerate(described):
        if (arn and document.get("ARN") == arn) or (name and document.get("Name") == name):
            return index
    return None


def _merge_listings(listings: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    """Pages of list-secret-version-ids output saved one by one, as one listing."""
    listings = list(listings)
    if len(listings) == 1:
        return listings[0]
    merged: dict[str, Any] = {k: v for k, v in listings[0].items() if k != "Versions"}
    seen: dict[str, Any] = {}
    for listing in listings:
        for entry in listing["Versions"]:
            if isinstance(entry, Mapping):
                seen.setdefault(str(entry.get("VersionId")), entry)
    merged["Versions"] = list(seen.values())
    merged.pop("NextToken", None)
    if listings[-1].get("NextToken"):
        merged["NextToken"] = listings[-1]["NextToken"]
    return merged


def run_diagnose_command(
    files: Sequence[str],
    *,
    stdin: IO[Any] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    now: datetime | None = None,
) -> int:
    """``rotation-testkit diagnose FILE...``: print the diagnosis of each saved secret.

    Exit 0 when every secret is healthy (or a rotation may still be running), 1 when any is stuck
    or inconsistent, 2 when the input cannot be read.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        pairs = read_saved_states(files, stdin=stdin)
        diagnoses = [diagnose(described, versions, now=now) for described, versions in pairs]
    except UnreadableInput as error:
        print(f"rotation-testkit diagnose: {error}", file=err)
        return EXIT_UNREADABLE
    for index, diagnosis in enumerate(diagnoses):
        if index:
            out.write("\n" + "-" * 40 + "\n\n")
        out.write(diagnosis.text)
    return max(diagnosis.exit_code for diagnosis in diagnoses)
