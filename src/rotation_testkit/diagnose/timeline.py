"""The evidence as one timeline: the rotation function's invocations, in order, and the API events.

Whatever shape the logs were saved in (:mod:`.logs`, :mod:`.log_text`) and wherever the CloudTrail
events came from (:mod:`.trail`), they become the same :class:`Timeline` before any cause is
judged: each :class:`Invocation` with its request id, the step it ran when that is known, how it
ended, its error type and message, and its duration. The causes read the attempts from here, in
order, rather than searching the lines for the first symptom.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from .logs import STEPS, LogLine
from .masking import mask_values
from .trail import TrailEvent

SUCCEEDED = "succeeded"
FAILED = "failed"
TIMED_OUT = "timed out"
#: The saved lines stop before the invocation's end (no END, REPORT or error).
UNKNOWN = "unknown"
#: The error type of a timeout, as the kit's own invocations name it.
TIMEOUT_ERROR = "TaskTimedOut"

_LIFECYCLE = ("START ", "END ", "REPORT ", "INIT_START", "INIT_REPORT", "EXTENSION", "TELEMETRY")
_TIMED_OUT = re.compile(r"Task timed out after ([\d.]+) seconds")
_DURATION = re.compile(r"^REPORT .*?\bDuration: ([\d.]+) ms")
_REPORT_STATUS = re.compile(r"Status: (?P<status>\w+)(?:\s+Error Type: (?P<type>[\w.]+))?")
# A Python exception as the runtime prints it: "KeyError: 'x'", "Runtime.ImportModuleError: ...",
# "botocore.errorfactory.ResourceExistsException: An error occurred ...".
_EXCEPTION = re.compile(
    r"^(?P<type>(?:Runtime|Sandbox)\.\w+|[A-Za-z_][\w.]*?"
    r"(?:Error|Exception|Exit|Timeout|Interrupt|Denied|Fault|Failure))(?::\s*(?P<message>.*))?$"
)
# botocore's ClientError text names the AWS error code and the operation.
_CLIENT_ERROR = re.compile(r"An error occurred \((?P<code>[\w.]+)\) when calling the (?P<op>\w+)")
_UNKNOWN_APPLICATION_ERROR = re.compile(r"Unknown application error occurred\s*(?P<type>[\w.]+)?")
# What a rotation function logs only after Secrets Manager answered it.
_SECRETS_MANAGER_ANSWERED = re.compile(
    r"Successfully (?:put|retrieved|set|stored|got|moved|created)|already (?:set|marked|current)|"
    r"(?:create|set|test|finish)Secret: \S+ (?:secret|version) (?:found|exists)",
    re.IGNORECASE,
)
# The Secrets Manager operation each step of a rotation function calls to store its work.
_STEP_OF_OPERATION = {
    "PutSecretValue": "createSecret",
    "GetRandomPassword": "createSecret",
    "UpdateSecretVersionStage": "finishSecret",
}
# Calls whose success shows that Secrets Manager answered the function.
_ANSWERED_CALLS = ("PutSecretValue", "UpdateSecretVersionStage", "GetSecretValue", "DescribeSecret")


@dataclass(frozen=True)
class Invocation:
    """One invocation of the rotation function, as its log lines show it."""

    request_id: str | None
    lines: tuple[LogLine, ...]
    step: str | None
    outcome: str
    error_type: str | None = None
    error_message: str | None = None
    #: Seconds, from the REPORT line.
    duration: float | None = None
    #: The line that shows the error (the ``[ERROR]`` line, the traceback, the timeout).
    error_line: LogLine | None = None
    #: The function logged something it logs only after Secrets Manager answered it.
    reached_secretsmanager: bool = False

    @property
    def started(self) -> datetime | None:
        return next((line.time for line in self.lines if line.time is not None), None)

    @property
    def failed(self) -> bool:
        return self.outcome in (FAILED, TIMED_OUT)

    @property
    def logged_progress(self) -> bool:
        """Whether the function logged anything of its own before it ended."""
        return any(
            not line.text.startswith(_LIFECYCLE)
            and line is not self.error_line
            and not _TIMED_OUT.search(line.text)
            for line in self.lines
        )

    def describe(self) -> str:
        """How it ended, in a few words: "setSecret timed out", "createSecret failed with X"."""
        step = self.step or "an invocation"
        if self.outcome == TIMED_OUT:
            return f"{step} timed out"
        if self.outcome == FAILED:
            return f"{step} failed" + (f" with {self.error_type}" if self.error_type else "")
        return f"{step} {self.outcome}"

    def as_dict(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "started": self.started.isoformat() if self.started else None,
            "step": self.step,
            "outcome": self.outcome,
            "error_type": self.error_type,
            # The function's message, with anything that looks like a credential masked.
            "error_message": mask_values(self.error_message) if self.error_message else None,
            "duration_seconds": self.duration,
        }


@dataclass(frozen=True)
class Timeline:
    """The invocations in the order they ran, and the CloudTrail events in time order."""

    invocations: tuple[Invocation, ...] = ()
    events: tuple[TrailEvent, ...] = ()
    _by_request: dict[str, Invocation] = field(
        init=False, default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for invocation in self.invocations:
            if invocation.request_id is not None:
                self._by_request.setdefault(invocation.request_id, invocation)

    @property
    def failures(self) -> list[Invocation]:
        return [invocation for invocation in self.invocations if invocation.failed]

    def last_failure(self) -> Invocation | None:
        failures = self.failures
        return failures[-1] if failures else None

    def invocation_of(self, line: LogLine) -> Invocation | None:
        if line.request_id is not None:
            return self._by_request.get(line.request_id)
        return next((inv for inv in self.invocations if line in inv.lines), None)

    def reached_secretsmanager(self, function_name: str | None = None) -> bool:
        """Whether some invocation got an answer from Secrets Manager: it logged a success, or
        CloudTrail shows the function's own successful call."""
        if any(invocation.reached_secretsmanager for invocation in self.invocations):
            return True
        return self.function_called(_ANSWERED_CALLS, function_name)

    def function_called(self, names: Iterable[str], function_name: str | None = None) -> bool:
        """Whether CloudTrail shows a successful call of one of these operations by the
        rotation function (its user agent, or a role session named after it)."""
        wanted = set(names)
        return any(
            event.name in wanted and event.error_code is None and _by_function(event, function_name)
            for event in self.events
        )


def _by_function(event: TrailEvent, function_name: str | None) -> bool:
    """Whether a CloudTrail event records a call the rotation function made."""
    if "exec-env/AWS_Lambda" in (event.user_agent or ""):
        return True
    return bool(function_name and (event.caller or "").endswith("/" + function_name))


def build_timeline(lines: Sequence[LogLine], events: Iterable[TrailEvent] = ()) -> Timeline:
    """The timeline of the log lines (already in invocations, see :func:`.logs.in_invocations`)
    and the CloudTrail events."""
    ordered_events = tuple(sorted(events, key=_event_order))
    failed_steps: list[tuple[datetime, str]] = [
        (event.time, event.step)
        for event in ordered_events
        if event.name == "RotationFailed" and event.step and event.time is not None
    ]
    invocations = _next_steps(
        [_invocation(request_id, group, failed_steps) for request_id, group in _groups(lines)]
    )
    return Timeline(tuple(invocations), ordered_events)


def _next_steps(invocations: list[Invocation]) -> list[Invocation]:
    """An invocation whose step is unknown, right after one that succeeded at a step, ran the
    next step: Secrets Manager invokes the steps in order, each after the last one returned."""
    placed: list[Invocation] = []
    for invocation in invocations:
        before = placed[-1] if placed else None
        if (
            invocation.step is None
            and before is not None
            and before.outcome == SUCCEEDED
            and before.step in STEPS[:-1]
        ):
            invocation = replace(invocation, step=STEPS[STEPS.index(before.step) + 1])
        placed.append(invocation)
    return placed


def _event_order(event: TrailEvent) -> tuple[int, float]:
    if event.time is None:
        return (1, 0.0)
    try:
        return (0, event.time.timestamp())
    except (OverflowError, ValueError, OSError):
        return (1, 0.0)


def _groups(lines: Sequence[LogLine]) -> list[tuple[str | None, list[LogLine]]]:
    """The lines of each invocation, in the order the invocations started. Lines logged outside
    any request (the init phase, whose import errors come before START) join the invocation
    that follows them; those after the last one form an invocation of their own."""
    groups: dict[str, list[LogLine]] = {}
    order: list[tuple[str | None, list[LogLine]]] = []
    loose: list[LogLine] = []
    for line in lines:
        if line.request_id is None:
            loose.append(line)
            continue
        group = groups.get(line.request_id)
        if group is None:
            group = groups[line.request_id] = []
            order.append((line.request_id, group))
        if loose:
            group += loose
            loose = []
        group.append(line)
    if loose:
        order.append((None, loose))
    return order


def _invocation(
    request_id: str | None,
    lines: list[LogLine],
    failed_steps: Sequence[tuple[datetime, str]],
) -> Invocation:
    error_type: str | None = None
    error_message: str | None = None
    error_line: LogLine | None = None
    outcome = UNKNOWN
    duration: float | None = None
    reached = False
    for line in lines:
        report = _DURATION.search(line.text)
        if report:
            duration = round(float(report.group(1)) / 1000, 3)
        if line.text.startswith(("END RequestId", "REPORT RequestId")) and outcome == UNKNOWN:
            outcome = SUCCEEDED
        status = _REPORT_STATUS.search(line.text) if line.text.startswith("REPORT") else None
        if status and status.group("status") == "timeout":
            outcome, error_type = TIMED_OUT, TIMEOUT_ERROR
        elif status and status.group("status") == "error" and outcome != TIMED_OUT:
            outcome = FAILED
            error_type = error_type or status.group("type")
        timed_out = _TIMED_OUT.search(line.text)
        if timed_out:
            outcome, error_type, error_line = TIMED_OUT, TIMEOUT_ERROR, line
            error_message = f"Task timed out after {timed_out.group(1)} seconds"
            continue
        found = error_of(line)
        if found is None:
            if _SECRETS_MANAGER_ANSWERED.search(line.message):
                reached = True
            continue
        if outcome == TIMED_OUT:
            continue
        kind, message = found
        # The typed error wins over a logged message, and the last typed one over earlier ones.
        if kind is not None or error_type is None:
            error_type, error_message, error_line = kind or error_type, message, line
        outcome = FAILED
    step = _step(lines, error_line, error_message, failed_steps)
    return Invocation(
        request_id=request_id,
        lines=tuple(lines),
        step=step,
        outcome=outcome,
        error_type=error_type,
        error_message=error_message,
        duration=duration,
        error_line=error_line,
        reached_secretsmanager=reached,
    )


def error_of(line: LogLine) -> tuple[str | None, str] | None:
    """(error type or None, message) when the line reports an error, else None."""
    message = line.message.strip()
    if not message or message.startswith(("START ", "END ", "INIT_START")):
        return None
    unknown = _UNKNOWN_APPLICATION_ERROR.search(message)
    if unknown:
        return unknown.group("type"), "Unknown application error occurred"
    rows = [row.strip() for row in message.splitlines() if row.strip()]
    head = rows[0]
    if head.startswith("[ERROR]"):
        head = head[len("[ERROR]") :].strip()
    elif "Traceback (most recent call last)" in message:
        head = next((row for row in reversed(rows) if _EXCEPTION.match(row)), rows[-1])
    elif not _EXCEPTION.match(head):
        return None
    match = _EXCEPTION.match(head)
    if match is None:
        return None, head
    kind = match.group("type")
    text = match.group("message") or ""
    client = _CLIENT_ERROR.search(text)
    if client:
        kind = client.group("code")
    elif not kind.startswith(("Runtime.", "Sandbox.")):
        kind = kind.rsplit(".", 1)[-1]
    return kind, text


def _step(
    lines: list[LogLine],
    error_line: LogLine | None,
    error_message: str | None,
    failed_steps: Sequence[tuple[datetime, str]],
) -> str | None:
    """The step an invocation ran: the one its error or its lines name; else the operation its
    error names; else the step of the first RotationFailed event after it."""
    if error_line is not None and error_line.step:
        return error_line.step
    named = [line.step for line in lines if line.step in STEPS]
    if named:
        return named[0]
    client = _CLIENT_ERROR.search(error_message or "")
    if client and client.group("op") in _STEP_OF_OPERATION:
        return _STEP_OF_OPERATION[client.group("op")]
    moment = next((line.time for line in reversed(lines) if line.time is not None), None)
    if moment is None:
        return None
    try:
        after = [step for when, step in failed_steps if when >= moment]
    except TypeError:  # a naive time given through the Python API
        return None
    return after[0] if after else None
