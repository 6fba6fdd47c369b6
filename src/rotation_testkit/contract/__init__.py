"""Contract checks for rotation functions: the runner the CLI uses and the pytest base class.

:mod:`.checks` defines each check, :mod:`.scenario` drives one in a world of its own,
:mod:`.runner` runs them, :mod:`.command` is ``rotation-testkit check`` (with :mod:`.junit` for its
XML report, :mod:`.secrets` for the secrets a scenario starts from), and :mod:`.base`
holds :class:`RotatorContract`, the only part that needs pytest; it is imported on first use, so
the command line never loads pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .checks import CHECK_NAMES, CHECKS, Check
from .runner import CheckResult, Status, run_check, run_checks
from .scenario import (
    STRATEGIES,
    ContractFailure,
    HarnessError,
    NotApplicable,
    RotatorUnderTest,
    Strategy,
)

if TYPE_CHECKING:
    from .base import RotatorContract


def __getattr__(name: str) -> Any:
    if name == "RotatorContract":
        from .base import RotatorContract

        return RotatorContract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "STRATEGIES",
    "Check",
    "CheckResult",
    "ContractFailure",
    "HarnessError",
    "NotApplicable",
    "RotatorContract",
    "RotatorUnderTest",
    "Status",
    "Strategy",
    "run_check",
    "run_checks",
]
