"""A handler that outlives any timeout, with a child process; no heavy imports, so it starts fast."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any


def sleep(event: dict[str, Any], context: Any) -> None:
    print(f"sleeping pid={os.getpid()}", flush=True)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    print(f"child pid={child.pid}", flush=True)
    time.sleep(float(event.get("seconds", 60)))
