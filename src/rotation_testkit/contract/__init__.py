"""Contract checks for rotation functions: the pytest base class and the runner the CLI uses."""

from .base import RotatorContract
from .checks import CHECK_NAMES, CHECKS, Check
from .runner import CheckResult, run_check, run_checks
from .scenario import ContractFailure, RotatorUnderTest

__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "Check",
    "CheckResult",
    "ContractFailure",
    "RotatorContract",
    "RotatorUnderTest",
    "run_check",
    "run_checks",
]
