"""The World API from a script: a client built before ``activate()`` holds the machine's
credentials and endpoint; it is refused while the world is active, and the script is told once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_a_client_built_before_activate_is_refused_and_warned_about_once() -> None:
    result = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "scripts" / "early_client.py")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    refused = [line for line in lines if line.startswith("early client:")]
    assert len(refused) == 2
    for line in refused:
        assert "ClientBuiltBeforeActivate" in line
        assert "built before the world was activated" in line
        assert "secretsmanager.us-east-1.amazonaws.com" in line
    assert lines.count("world client: answered") == 2
    assert "warnings: 1" in lines
