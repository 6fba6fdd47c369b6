"""The "no-secret-in-logs" invariant: a function that writes a known secret value to its logs.

CloudWatch Logs are read by far more people than the secret (everyone who debugs the function), so
a rotator that logs a password leaks it. The finding names the field and the version, never the
value. A plain function, so contract checks can ask the same question of any log text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..foundations.masking import KnownValue, Masker

# The runtime's own START, END and REPORT lines: ids and durations, nothing the function wrote.
_RUNTIME_LINE = re.compile(r"(?:START|END|REPORT) RequestId: [0-9a-f-]{36}(?:\s|$)")


def written_by_the_function(logs: str) -> str:
    """The log without the runtime's own lines and the source lines of its tracebacks: those
    quote the function's code (literals included), not data it wrote."""
    kept, in_traceback = [], False
    for line in logs.splitlines():
        if _RUNTIME_LINE.match(line):
            continue
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
            continue
        if in_traceback and line.startswith("  "):
            continue
        in_traceback = False
        kept.append(line)
    return "\n".join(kept)


def secret_in_logs(logs: str, known: Masker | Callable[[], Masker]) -> KnownValue | None:
    """The most specific known secret value the function wrote to ``logs``, if any.

    ``known`` may be a function that returns the masker: it is called only when the function
    wrote something, so an invocation that wrote nothing costs no look at the secrets.
    """
    written = written_by_the_function(logs)
    if not written:
        return None
    masker = known if isinstance(known, Masker) else known()
    found = masker.leaks_in(written)
    return found[0] if found else None


def leak_message(leaked: KnownValue, logs: str) -> str:
    """What to tell the user: which value (by field and version) on which line, and what to do."""
    line = next(
        (
            n
            for n, text in enumerate(logs.splitlines(), 1)
            if Masker.of([leaked]).mask(text) != text
        ),
        None,
    )
    where = f" (log line {line})" if line else ""
    return (
        f"the function wrote {leaked.describe()} to its logs{where}: anyone who can read the "
        "function's CloudWatch Logs can read the secret. Log the version id or the user name "
        "instead of the value."
    )
