"""The diagnosis: from a saved secret and the evidence about it, decide its rotation state, what
is wrong, and why.

:func:`diagnose` reads the staging labels (is a rotation pending, may it still be running, or is
it stuck?), checks the rest of the secret (:mod:`.checks`), and looks for the root cause in the
timeline of the function's invocations and CloudTrail events (:mod:`.timeline`; the rules are in
:mod:`.causes_story`, :mod:`.causes_history`, :mod:`.causes_rotator`, :mod:`.causes_permissions`
and :mod:`.causes_access`). The advice for a stuck secret comes from :mod:`.advice`, and the text
from :mod:`.report`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from . import (
    advice,
    causes_access,
    causes_history,
    causes_permissions,
    causes_rotator,
    causes_story,
    checks,
)
from .causes import Cause, Context, find_causes
from .checks import MARKED_FOR_DELETION, NO_LAMBDA, Findings, Problem
from .dates import parse_date, relative, when
from .evidence import LogsInput, TrailInput, events_for, logs_for
from .report import Section, render
from .saved import AWSCURRENT, AWSPENDING, SavedSecret, parse_saved_state
from .timeline import Invocation

HEALTHY = "healthy"
IN_PROGRESS = "rotation in progress"
STUCK = "stuck"
INCONSISTENT = "inconsistent"
#: Every state a diagnosis can report.
STATES = (HEALTHY, IN_PROGRESS, STUCK, INCONSISTENT)

PREVIOUS_ROTATION_INCOMPLETE = (
    "A previous rotation isn't complete. That rotation will be reattempted."
)

#: A pending version younger than this may belong to a rotation that is still running.
RUNNING_WINDOW = timedelta(hours=1)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREADABLE = 2

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_UNREADABLE",
    "HEALTHY",
    "INCONSISTENT",
    "IN_PROGRESS",
    "MARKED_FOR_DELETION",
    "NO_LAMBDA",
    "PREVIOUS_ROTATION_INCOMPLETE",
    "RUNNING_WINDOW",
    "STATES",
    "STUCK",
    "Diagnosis",
    "Problem",
    "diagnose",
]


@dataclass
class Diagnosis:
    """What :func:`diagnose` found.

    ``state`` is one of :data:`STATES`: HEALTHY, IN_PROGRESS (a rotation started less than
    :data:`RUNNING_WINDOW` ago and may still be running), STUCK, or INCONSISTENT (no rotation is
    pending, but ``problems`` is not empty). ``causes`` are the root causes the evidence shows
    (or, marked ``certain=False``, suggests), strongest first. ``commands`` are the exact AWS CLI
    commands the text offers, each once: for a stuck secret the first one unblocks it (removes
    AWSPENDING, or stores a first value when the secret never held one), and the next one is the
    alternative that makes the pending version current;
    they are choices the text explains, not a script to run in order. ``text`` is the whole
    explanation, as the command line prints it; :meth:`as_dict` is the same as data.
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
    causes: list[Cause] = field(default_factory=list)
    region: str | None = None
    judged_at: datetime | None = None
    #: The function's invocations the logs show, in order (see :class:`.Timeline`).
    attempts: list[Invocation] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when healthy or a rotation may still be running (whatever else it notes), 1 when
        stuck or inconsistent."""
        if self.state == IN_PROGRESS:
            return EXIT_OK
        return EXIT_OK if self.state == HEALTHY and not self.problems else EXIT_FAILED

    def as_dict(self) -> dict[str, Any]:
        """The diagnosis as JSON-ready data (what ``--format json`` prints for each secret)."""
        return {
            "secret": {"arn": self.arn, "name": self.name, "region": self.region},
            "state": self.state,
            "exit_code": self.exit_code,
            "judged_at": self.judged_at.isoformat() if self.judged_at else None,
            "current_version": self.current_version,
            "pending_version": self.pending_version,
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
            "causes": [cause.as_dict() for cause in self.causes],
            "commands": list(self.commands),
            "notes": list(self.notes),
            "attempts": [attempt.as_dict() for attempt in self.attempts],
        }


def diagnose(
    described: Mapping[str, Any],
    versions: Mapping[str, Any] | None = None,
    now: datetime | str | None = None,
    *,
    logs: LogsInput | None = None,
    events: TrailInput | None = None,
) -> Diagnosis:
    """Explain a secret's rotation state from describe-secret (and list-secret-version-ids) output.

    ``now`` (default: the current time) decides what "recent" and "in the past" mean; pass the
    moment the outputs were saved to read an old saved state as it was then. ``logs`` are the
    rotation function's logs (filter-log-events or get-log-events output, plain text, or a list
    of either) and ``events`` CloudTrail lookup-events output (or a list of them): with them, the
    diagnosis names the root cause. Raises UnreadableInput for input that is not such output.
    """
    secret = parse_saved_state(described, versions)
    moment = parse_date(now) if now is not None else datetime.now(timezone.utc)
    assert moment is not None
    log_lines, logs_given = logs_for(secret, logs)
    trail_events, trail_given = events_for(secret, events)
    return _Analysis(secret, moment, log_lines, trail_events, logs_given, trail_given).run()


class _Analysis:
    def __init__(
        self,
        secret: SavedSecret,
        now: datetime,
        logs: Iterable[Any],
        events: Iterable[Any],
        logs_given: bool,
        trail_given: bool,
    ) -> None:
        self.secret = secret
        self.now = now
        self.findings = Findings(notes=list(secret.notes))
        self.sections: list[Section] = []
        self.logs = list(logs)
        self.events = list(events)
        self.logs_given = logs_given
        self.trail_given = trail_given
        # Guesses from the labels alone, when the evidence establishes no cause.
        self.likely: list[str] = []

    # The analysis fills the findings and sections; run() renders them.
    def run(self) -> Diagnosis:
        secret, findings = self.secret, self.findings
        currents = secret.holders(AWSCURRENT)
        current = currents[0] if currents else None
        unfinished = [vid for vid in secret.holders(AWSPENDING) if vid not in currents]
        pending = unfinished[0] if unfinished else None
        context = Context(
            secret,
            self.now,
            current,
            pending,
            logs=self.logs,
            events=self.events,
            logs_given=self.logs_given,
            trail_given=self.trail_given,
        )
        rules = (
            *causes_story.RULES,
            *causes_history.RULES,
            *causes_rotator.RULES,
            *causes_permissions.RULES,
            *causes_access.RULES,
        )
        found = find_causes(context, rules)
        if not found:
            found = find_causes(context, causes_rotator.FALLBACK)
        found = causes_story.with_trigger(context, found)
        checks.check_labels(secret, findings)
        if pending is None:
            state = HEALTHY
            summary = self._healthy_summary(current)
        elif self._may_be_running(pending):
            state = IN_PROGRESS
            summary = self._in_progress(pending, current)
        else:
            state = STUCK
            summary = self._stuck(unfinished, current, found)
        checks.check_configuration(secret, pending, self.now, findings)
        checks.note_fields(secret, findings)
        if state == HEALTHY and findings.problems:
            state = INCONSISTENT
            summary = [
                "The staging labels do not block rotation, but something else is wrong: see "
                "Problems below.",
                *summary[1:],
            ]
        if found or self.likely:
            self.sections.insert(0, _causes_section(found, self.likely))
        commands = [command for cause in found for command in cause.commands]
        text = render(
            secret,
            self.now,
            state=state,
            summary=summary,
            problems=[problem.message for problem in findings.problems],
            sections=self.sections,
            notes=findings.notes,
        )
        return Diagnosis(
            state=state,
            problems=findings.problems,
            commands=list(dict.fromkeys(findings.commands + commands)),
            text=text,
            arn=secret.arn,
            name=secret.name,
            current_version=current,
            pending_version=pending,
            notes=findings.notes,
            causes=found,
            region=secret.region,
            judged_at=self.now,
            attempts=list(context.timeline.invocations),
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
        return created is not None and _age(self.now, created) < RUNNING_WINDOW

    def _in_progress(self, pending: str, current: str | None) -> list[str]:
        created = self._created(pending)
        since = (
            f" (created {relative(created, self.now)})"
            if created is not None
            else f" (the secret last changed {relative(self.secret.last_changed, self.now)})"
            if self.secret.last_changed is not None
            else ""
        )
        lines = [
            f"AWSPENDING is on version {pending}{since}, not on the AWSCURRENT version "
            f"{current or '(none)'}: a rotation started less than an hour ago and may still be "
            "running. Each step can run for up to the function's timeout, and Secrets Manager "
            "retries a failed rotation several times.",
            "While it runs, RotateSecret fails with: " + PREVIOUS_ROTATION_INCOMPLETE + " That "
            "is expected. Do not remove AWSPENDING now. If it is still on this version an hour "
            "after the rotation started, save the state again and rerun this command: it will "
            "then show how to unblock the secret.",
        ]
        if self.secret.has_value(pending) is True:
            check = advice.evidence_hint(
                self.secret,
                created,
                self.now,
                logs_given=self.logs_given,
                trail_given=self.trail_given,
            )
            lines.append(
                f"Careful: version {pending} already holds a value, so createSecret finished "
                "and setSecret may already have changed the password in the database. If a "
                "later step fails, the database has the new password while applications still "
                "read the old one from AWSCURRENT, and they fail to log in now. Check the "
                "applications' login errors, and whether the function logged a setSecret "
                f"success. {check}"
            )
        return lines

    def _stuck(self, unfinished: list[str], current: str | None, found: list[Cause]) -> list[str]:
        secret, pending = self.secret, unfinished[0]
        created = self._created(pending)
        has_value = secret.has_value(pending)
        lines = [
            f"AWSPENDING is on version {pending}"
            + (f" (created {relative(created, self.now)})" if created else "")
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
        if not any(cause.certain for cause in found):
            self.likely = advice.likely_causes(
                secret,
                pending,
                has_value,
                created,
                self.now,
                logs_given=self.logs_given,
                trail_given=self.trail_given,
            )
        commands, section = advice.unblock(secret, unfinished, current, has_value)
        self.findings.commands[:0] = commands  # the unblocking commands come first
        self.sections.append(section)
        return lines


def _age(now: datetime, moment: datetime) -> timedelta:
    try:
        return now - moment
    except OverflowError:
        return timedelta.max


def _causes_section(found: Sequence[Cause], likely: Sequence[str]) -> Section:
    """One section for every cause, established ones first, each marked certain or a guess."""
    items: list[tuple[str, str]] = []
    for cause in found:
        mark = " (certain)" if cause.certain else " (a guess)"
        items.append(("step", f"{cause.title}{mark}. {cause.explanation}"))
        if cause.trigger:
            items.append(("text", f"Set off by: {cause.trigger}."))
        items += [("quote", quoted) for quoted in cause.evidence]
        items.append(("text", cause.fix))
        items += [("command", command) for command in cause.commands]
        if cause.settle:
            items.append(("text", f"To settle it, save and give diagnose {cause.settle}."))
    items += [("step", f"(a guess) {text}") for text in likely]
    return ("Causes", items)
