"""The buggy rotators change the same toy database as examples/password_rotator, and their tests
compare them with that example's correct rotator: make both importable."""

from __future__ import annotations

import sys
from pathlib import Path

PASSWORD_ROTATOR = Path(__file__).resolve().parent.parent / "password_rotator"
if str(PASSWORD_ROTATOR) not in sys.path:
    sys.path.insert(0, str(PASSWORD_ROTATOR))
