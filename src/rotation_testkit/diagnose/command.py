"""``rotation-testkit diagnose FILE...``: read the saved files, print each diagnosis, exit with its code."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any

from .analysis import EXIT_UNREADABLE, diagnose
from .reading import read_saved_states
from .saved import UnreadableInput


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
