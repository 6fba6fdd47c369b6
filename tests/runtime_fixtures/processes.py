"""Handlers that misbehave with processes and output: a grandchild that leaves the process group
with setsid, and megabytes of output."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

ESCAPER = "import os, time; os.setsid(); print(os.getpid(), flush=True); time.sleep(600)"


def spawn_setsid_grandchild(event: dict[str, Any], context: Any) -> int:
    """Start a child that starts its own session and sleeps; return the child's pid."""
    child = subprocess.Popen([sys.executable, "-c", ESCAPER], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    pid = int(child.stdout.readline())
    print(f"escaper pid={pid}", flush=True)
    return pid


def flood(event: dict[str, Any], context: Any) -> str:
    """Print about 10 MB, with a marker at its start and its end."""
    sys.stdout.write("FIRST-LINE\n")
    line = "x" * 1023 + "\n"
    for _ in range(10 * 1024):
        sys.stdout.write(line)
    sys.stdout.write("LAST-LINE\n")
    sys.stdout.flush()
    return "flooded"
