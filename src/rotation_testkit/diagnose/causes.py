"""Root causes: what the evidence (logs, CloudTrail, the secret's own fields) shows went wrong.

A :class:`Cause` names one reason a rotation failed, quotes the evidence that shows it (secret
values masked), says what to do, and whether it is established by the evidence or only a guess
(then which saved file would settle it). :func:`find_causes` asks each family of rules, in
:mod:`.causes_story` (the sequence of attempts: createSecret not idempotent, a missing module),
:mod:`.causes_history` (no value yet, abandonment, changes during a rotation),
:mod:`.causes_rotator` (the secret's JSON, the database, timing between steps),
:mod:`.causes_permissions` (IAM, invoking the function, a missing function) and
:mod:`.causes_access` (network, KMS), and returns what they found, strongest first. The rules read
the evidence through :attr:`Context.timeline`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .checks import no_current_value
from .logs import STEPS, LogLine
from .masking import MASKED_NOTE, mask_quote
from .saved import SavedSecret
from .timeline import Timeline, build_timeline
from .trail import TrailEvent

#: Longest quoted line; a longer one is cut, since the decisive part comes first.
_QUOTE_WIDTH = 400


@dataclass(frozen=True)
class Cause:
    """One reason the rotation failed, with the evidence that shows it and what to do.

    ``code`` is stable, for programs. ``certain`` is False when the cause is a guess from
    circumstantial evidence; ``settle`` then says which saved output would confirm or rule it out.
    ``evidence`` holds the decisive log lines and CloudTrail events, quoted with any value of the
    secret masked. ``trigger`` names what set the failure off when the evidence shows that it
    differs from the cause. ``commands`` are AWS CLI commands that run as printed.
    """

    code: str
    title: str
    explanation: str
    fix: str
    evidence: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    certain: bool = True
    settle: str | None = None
    #: What set the failure off, when it differs from the cause that keeps the rotation failing
    #: ("setSecret timed out once at ...").
    trigger: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "title": self.title,
            "certain": self.certain,
            "explanation": self.explanation,
            "fix": self.fix,
            "evidence": list(self.evidence),
            "commands": list(self.commands),
            "settle": self.settle,
            "trigger": self.trigger,
        }


@dataclass
class Context:
    """What the rules read: the secret, its label state, and the evidence about it."""

    secret: SavedSecret
    now: datetime
    current: str | None
    pending: str | None
    logs: list[LogLine] = field(default_factory=list)
    events: list[TrailEvent] = field(default_factory=list)
    logs_given: bool = False
    trail_given: bool = False
    timeline: Timeline = field(init=False)

    def __post_init__(self) -> None:
        self.timeline = build_timeline(self.logs, self.events)

    # --- reading the evidence -----------------------------------------------------------------

    def log_matches(self, pattern: re.Pattern[str]) -> list[LogLine]:
        return [line for line in self.logs if pattern.search(line.text)]

    def event_matches(self, pattern: re.Pattern[str]) -> list[TrailEvent]:
        return [
            event
            for event in self.events
            if pattern.search(f"{event.error_code or ''} {event.error_message or ''}")
        ]

    def events_named(self, *names: str) -> list[TrailEvent]:
        return [event for event in self.events if event.name in names]

    def step_of(self, line: LogLine) -> str | None:
        """The step a line was logged in: its own, or the one its invocation's lines name."""
        if line.step:
            return line.step
        invocation = self.timeline.invocation_of(line) if line.request_id else None
        if invocation is not None and invocation.step:
            return invocation.step
        moment = line.time
        if moment is not None:
            after = [
                (event.time, index, event.step)
                for index, event in enumerate(self.events_named("RotationFailed"))
                if event.step and event.time is not None and event.time >= moment
            ]
            if after:
                return min(after)[2]
        return None

    # --- quoting ------------------------------------------------------------------------------

    def quote(self, line: LogLine, *, whole: bool = False) -> str:
        """A log line as evidence: when, and the line with any secret value masked."""
        text = line.message if whole else _decisive(line.message)
        return f"log{_at(line.time)}: {_cut(mask_quote(text))}"

    def quote_event(self, event: TrailEvent) -> str:
        return f"CloudTrail{_at(event.time)}: {_cut(mask_quote(event.line()))}"

    @property
    def region(self) -> str | None:
        return self.secret.region

    @property
    def since(self) -> datetime | None:
        """When the stuck rotation started, as far as the saved outputs tell."""
        if self.pending is not None:
            version = self.secret.versions.get(self.pending)
            if version is not None and version.created is not None:
                return version.created
        return self.secret.last_changed

    def no_current_value(self) -> bool:
        """No AWSCURRENT anywhere, and every version is an AWSPENDING placeholder (or none)."""
        return no_current_value(self.secret)


Rule = Callable[[Context], list[Cause]]


def find_causes(context: Context, rules: Sequence[Rule]) -> list[Cause]:
    """Every cause the rules find, established ones first, each code once."""
    found: dict[str, Cause] = {}
    for rule in rules:
        for cause in rule(context):
            found.setdefault(cause.code, cause)
    return sorted(found.values(), key=lambda cause: not cause.certain)


def failing_lines(context: Context) -> list[LogLine]:
    """Log lines that report an error: ``[ERROR]``, tracebacks, timeouts, exceptions."""
    return context.log_matches(_FAILURE)


_FAILURE = re.compile(
    r"\[ERROR\]|Traceback|Task timed out|Error:|Exception:|\berror\b|\bfailed\b|Unable to",
    re.IGNORECASE,
)


def step_text(step: str | None) -> str:
    return step if step in STEPS else "a step"


def _decisive(text: str) -> str:
    """The decisive line of a log event: its first line, or for a traceback the exception."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    first = lines[0].strip()
    if len(lines) > 1 and lines[-1][:1].strip() and not first.startswith("[ERROR]"):
        return lines[-1].strip()
    return first


def _cut(text: str) -> str:
    """At most _QUOTE_WIDTH characters on one line; a closing "(masked)" stays."""
    text = " ".join(text.split())
    note = f" {MASKED_NOTE}" if text.endswith(f" {MASKED_NOTE}") else ""
    if len(text) <= _QUOTE_WIDTH:
        return text
    return text[: _QUOTE_WIDTH - 1 - len(note)] + "…" + note


def _at(moment: datetime | None) -> str:
    if moment is None:
        return ""
    try:
        return f" {moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
    except (OverflowError, ValueError):
        return ""
