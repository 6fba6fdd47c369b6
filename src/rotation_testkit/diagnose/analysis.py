"""The diagnosis: from a saved secret, decide its rotation state and what is wrong with it.

:func:`diagnose` reads the staging labels (is a rotation pending, may it still be running, or is
it stuck?) and checks the labels and the rotation settings for problems; the advice for a stuck
secret comes from :mod:`.advice`, and the text from :mod:`.report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from . import advice
from .dates import parse_date, relative, when
from .report import Section, render
from .saved import AWSCURRENT, AWSPENDING, AWSPREVIOUS, SavedSecret, parse_saved_state

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
        return (
            EXIT_OK if self.state in (HEALTHY, IN_PROGRESS) and not self.problems else EXIT_FAILED
        )


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


class _Analysis:
    def __init__(self, secret: SavedSecret, now: datetime) -> None:
        self.secret = secret
        self.now = now
        self.problems: list[Problem] = []
        self.commands: list[str] = []
        self.sections: list[Section] = []
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
        text = render(
            secret,
            self.now,
            state=state,
            summary=summary,
            problems=[problem.message for problem in self.problems],
            sections=self.sections,
            notes=self.notes,
        )
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
        return self.secret.versions[version_id].created

    def _may_be_running(self, pending: str) -> bool:
        created = self._created(pending)
        if created is None and self.secret.has_value(pending) is not True:
            # An empty placeholder is never listed with its date; the secret's own last change
            # is at or after the moment RotateSecret created it.
            created = self.secret.last_changed
        return created is not None and self.now - created < RUNNING_WINDOW

    def _in_progress(self, pending: str, current: str | None) -> list[str]:
        created = self._created(pending)
        since = (
            f"created {relative(created, self.now)}"
            if created is not None
            else f"the secret last changed {relative(self.secret.last_changed, self.now)}"
            if self.secret.last_changed is not None
            else ""
        )
        return [
            f"AWSPENDING is on version {pending} ({since}), not on the AWSCURRENT version "
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
            + (f", created {relative(created, self.now)}," if created else "")
            + f", but AWSCURRENT is on {current or 'no version'}: the rotation that created "
            f"{pending} never finished. The next RotateSecret would fail with the error below, "
            "and so would every one after it until AWSPENDING is removed:",
            "    InvalidRequestException: " + PREVIOUS_ROTATION_INCOMPLETE,
        ]
        if created is None and secret.last_changed is not None:
            lines.append(
                f"(No date is known for {pending}. The secret last changed "
                f"{when(secret.last_changed, self.now)}, and creating the version changed it, "
                "so the rotation started at least that long ago.)"
            )
        elif created is None:
            lines.append(
                "(No date is known for it. If a rotation started within the last hour, it may "
                "still be running: wait an hour and check again before unblocking.)"
            )
        self.sections.append(advice.causes(secret, pending, has_value, created, self.now))
        commands, section = advice.unblock(secret, unfinished, current, has_value)
        self.commands += commands
        self.sections.append(section)
        return lines

    # --- consistency --------------------------------------------------------------------------

    def _problem(self, code: str, message: str) -> None:
        self.problems.append(Problem(code, message))

    def _check_labels(self, currents: list[str]) -> None:
        secret = self.secret
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
            move = advice.stage_command(secret.secret_id, AWSCURRENT, move_to="VERSION_ID")
            self._problem(
                "no-current",
                "No version carries AWSCURRENT: GetSecretValue without a version fails, and a "
                "rotation function cannot read the current secret. Move AWSCURRENT to the "
                f"version whose credentials the protected service accepts: `{move}`." + hint,
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
                f"NextRotationDate, {when(secret.next_rotation, self.now)}, is in the past "
                "while rotation is on: the rotation due by then did not succeed (AWS shows a "
                f"past date after a failed rotation). {why}",
            )
        if secret.deleted is not None:
            command = advice.aws_command("restore-secret", secret.secret_id)
            self.commands.append(command)
            self._problem(
                "scheduled-for-deletion",
                f"The secret is marked for deletion (DeletedDate {when(secret.deleted, self.now)}): "
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
                configure = advice.aws_command(
                    "rotate-secret", secret.secret_id, "--rotation-lambda-arn", "FUNCTION_ARN"
                )
                self._problem(
                    "rotation-without-lambda",
                    "Rotation is on but no rotation function is configured: every rotation "
                    f"fails with: {NO_LAMBDA} Configure one: `{configure}`",
                )
