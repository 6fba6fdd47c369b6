"""``rotation-testkit diagnose FILE...``: read the saved files, print each diagnosis, exit with its code."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any

from .analysis import EXIT_UNREADABLE, Diagnosis, diagnose
from .dates import parse_date
from .reading import read_evidence
from .saved import UnreadableInput

FORMATS = ("text", "json")
_SURROGATE = re.compile("[\ud800-\udfff]")


def run_diagnose_command(
    files: Sequence[str],
    *,
    stdin: IO[Any] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    now: datetime | str | None = None,
    secret: str | None = None,
    output_format: str = "text",
) -> int:
    """``rotation-testkit diagnose FILE...``: print the diagnosis of each saved secret.

    ``now`` judges the dates at that moment (when the files were saved) instead of the current
    time; ``secret`` picks one secret when the files describe several; ``output_format`` is
    ``"text"`` or ``"json"``. Exit 0 when every secret is healthy (or a rotation may still be
    running), 1 when any is stuck or inconsistent, 2 when the input cannot be read.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        diagnoses = _diagnoses(files, stdin=stdin, now=now, secret=secret)
        if output_format not in FORMATS:
            raise UnreadableInput(f"--format must be text or json, not {output_format!r}.")
    except UnreadableInput as error:
        print(f"rotation-testkit diagnose: {_printable(str(error))}", file=err)
        return EXIT_UNREADABLE
    exit_code = max(diagnosis.exit_code for diagnosis in diagnoses)
    if output_format == "json":
        document = {
            "exit_code": exit_code,
            "secrets": [diagnosis.as_dict() for diagnosis in diagnoses],
        }
        out.write(json.dumps(document, indent=2) + "\n")
        return exit_code
    for index, diagnosis in enumerate(diagnoses):
        if index:
            out.write("\n" + "-" * 40 + "\n\n")
        out.write(_printable(diagnosis.text))
    return exit_code


def _diagnoses(
    files: Sequence[str],
    *,
    stdin: IO[Any] | None,
    now: datetime | str | None,
    secret: str | None,
) -> list[Diagnosis]:
    moment = _moment(now)
    evidence = read_evidence(files, stdin=stdin, secret=secret)
    logs = evidence.logs if evidence.logs_given else None
    events = evidence.events if evidence.trail_given else None
    found = []
    for described, versions in evidence.secrets:
        try:
            found.append(diagnose(described, versions, now=moment, logs=logs, events=events))
        except RecursionError:
            raise UnreadableInput("the input nests too deeply to be AWS CLI output.") from None
    return found


def _moment(now: datetime | str | None) -> datetime | None:
    if now is None or isinstance(now, datetime):
        return now
    try:
        return parse_date(now)
    except (ValueError, OverflowError, OSError):
        raise UnreadableInput(
            f"--now {_printable(now)!r} is not a date: give it as ISO 8601 (2025-06-02T09:30:00Z) "
            "or epoch seconds."
        ) from None


def _printable(text: str) -> str:
    """The text without lone surrogates (from JSON escapes), which no terminal can print."""
    return _SURROGATE.sub("\ufffd", text)
