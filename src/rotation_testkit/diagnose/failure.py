"""What failed in production, as a command that replays the incident needs it: the step that
failed last, its error, and whether the cause lies outside the function's code (so that a replay
applies it as a fault rather than expecting the code to reproduce it).

The answer comes from the same :class:`.Timeline` the diagnosis reads, whatever shape the logs
and CloudTrail events were saved in.
"""

from __future__ import annotations

from typing import NamedTuple

from .causes_access import KMS
from .causes_permissions import ACCESS_DENIED, CANNOT_INVOKE, FUNCTION_MISSING, NOT_AUTHORIZED
from .masking import mask_values
from .reading import SavedEvidence
from .timeline import TIMED_OUT, Timeline, build_timeline
from .trail import TrailEvent

#: The function timed out without logging anything: it never got an answer (a network path).
TIMEOUT_WITHOUT_PROGRESS = "timeout-without-progress"
#: The function's role may not use the secret's KMS key.
KMS_DENIED = "kms-denied"
#: The function's role may not call an API it needs.
IAM_DENIED = "iam-denied"
#: The secret's rotation function does not exist (deleted, or another region or account).
FUNCTION_MISSING_CAUSE = "function-missing"
#: Secrets Manager may not invoke the function (its resource policy).
INVOKE_DENIED = "invoke-denied"
#: Every cause outside the function's code that :func:`production_failure` names.
OUTSIDE_CAUSES = (
    TIMEOUT_WITHOUT_PROGRESS,
    KMS_DENIED,
    IAM_DENIED,
    FUNCTION_MISSING_CAUSE,
    INVOKE_DENIED,
)
# Secrets Manager invokes createSecret first: a function it cannot invoke fails there.
_FIRST_STEP = "createSecret"
_IMPORT_ERRORS = ("Runtime.ImportModuleError", "ModuleNotFoundError", "ImportError")


class ProductionFailure(NamedTuple):
    """The last failure the evidence shows.

    ``step`` is the rotation step that failed (None when the evidence does not tell), ``error_type``
    the exception or AWS error code (``TaskTimedOut`` for a timeout), ``message`` its message with
    anything that looks like a credential masked (as :func:`.masking.mask_values` masks it), and
    ``outside_cause`` one of :data:`OUTSIDE_CAUSES` when the cause is not the function's code, else
    None.
    """

    step: str | None
    error_type: str | None
    message: str | None
    outside_cause: str | None


def production_failure(evidence: SavedEvidence | Timeline) -> ProductionFailure | None:
    """The step that failed last in production, its error, and any cause outside the code.

    ``evidence`` is what :func:`.read_evidence` read from the saved files, or a timeline already
    built. Returns None when the evidence shows no failure.
    """
    timeline = (
        evidence
        if isinstance(evidence, Timeline)
        else build_timeline(evidence.logs, evidence.events)
    )
    last = timeline.last_failure()
    not_invoked = _not_invoked(timeline.events)
    if not_invoked is not None and not _ran_after(timeline, not_invoked[0]):
        return not_invoked[1]
    if last is None:
        failed = [event for event in timeline.events if event.name == "RotationFailed"]
        if not failed:
            return None
        event = failed[-1]
        return ProductionFailure(event.step, event.error_code, _masked(event.error_message), None)
    text = f"{last.error_type or ''}: {last.error_message or ''}"
    if last.error_line is not None:
        text += "\n" + last.error_line.text
    outside: str | None = None
    if last.outcome == TIMED_OUT and not last.logged_progress:
        outside = TIMEOUT_WITHOUT_PROGRESS
    elif KMS.search(text):
        outside = KMS_DENIED
    elif NOT_AUTHORIZED.search(text) or ACCESS_DENIED.search(text):
        outside = IAM_DENIED
    step = last.step
    if step is None and last.error_type in _IMPORT_ERRORS:
        step = _FIRST_STEP  # the function fails as it loads, so in the first step invoked
    return ProductionFailure(step, last.error_type, _masked(last.error_message), outside)


def _ran_after(timeline: Timeline, event: TrailEvent) -> bool:
    """Whether the function ran after the event (it was deployed, or allowed, since)."""
    if event.time is None:
        return bool(timeline.invocations)
    for invocation in timeline.invocations:
        started = invocation.started
        try:
            if started is not None and started > event.time:
                return True
        except TypeError:  # a naive time given through the Python API
            continue
    return False


def _not_invoked(
    events: tuple[TrailEvent, ...],
) -> tuple[TrailEvent, ProductionFailure] | None:
    """The last CloudTrail event that shows Secrets Manager could not invoke the function."""
    for event in reversed(events):
        text = f"{event.error_code or ''} {event.error_message or ''}"
        if FUNCTION_MISSING.search(text):
            cause = FUNCTION_MISSING_CAUSE
        elif CANNOT_INVOKE.search(text):
            cause = INVOKE_DENIED
        else:
            continue
        return event, ProductionFailure(
            event.step or _FIRST_STEP, event.error_code, _masked(event.error_message), cause
        )
    return None


def _masked(message: str | None) -> str | None:
    return mask_values(message) if message is not None else None
