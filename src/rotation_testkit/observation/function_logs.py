"""The functions' output for a report: each invocation's log under the step that wrote it, masked.

The pytest failure report, the command line's failing checks and the JUnit ``<system-out>`` all show
it this way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..execution.lambdas import Invocation
from ..foundations.masking import Masker


def heading(invocation: Invocation) -> str:
    """e.g. "createSecret, attempt 1, rotator (cold start), request 1a2b3c4d"."""
    parts = [invocation.step or "invocation"]
    if invocation.attempt:
        parts.append(f"attempt {invocation.attempt}")
    parts.append(invocation.function_name + (" (cold start)" if invocation.cold_start else ""))
    parts.append(f"request {invocation.request_id[:8]}")
    if invocation.error is not None:
        parts.append("FAILED")
    return ", ".join(parts)


def render(invocations: Iterable[Invocation], masker: Masker) -> str:
    """Every invocation's log under its heading; "" when no function ran."""
    blocks = []
    for invocation in invocations:
        body = masker.mask(invocation.logs.rstrip("\n")) or "(no output)"
        indented = "\n".join("    " + line for line in body.splitlines())
        blocks.append(f"{heading(invocation)}\n{indented}")
    return "\n\n".join(blocks)


def failing_attempt(invocations: Sequence[Invocation]) -> list[Invocation]:
    """The invocations of the last attempt that failed (all of them when none failed).

    A report shows these: the same error on three attempts is one story, and the earlier attempts'
    output only repeats it.
    """
    failed = [i for i, invocation in enumerate(invocations) if invocation.error is not None]
    # An invocation whose handler never ran (a fault before it, a function that hung earlier)
    # has nothing of the function's to show: prefer the last failure where it ran.
    failed = [i for i in failed if invocations[i].ran] or failed
    if not failed:
        return list(invocations)
    end = failed[-1]
    last = invocations[end]
    if last.attempt is None:  # a direct invocation, outside any attempt
        return [last]
    token = last.event.get("ClientRequestToken")
    start = end
    while start > 0:
        previous = invocations[start - 1]
        if (previous.attempt, previous.arn, previous.event.get("ClientRequestToken")) != (
            last.attempt,
            last.arn,
            token,
        ):
            break
        start -= 1
    return list(invocations[start : end + 1])
