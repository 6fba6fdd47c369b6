"""Causes outside the function's code, applied as the matching fault.

When the evidence shows that production failed for a reason no code change reproduces (a timeout
with no progress, KMS or IAM denied, the function missing or not invocable), the reattempt meets
the same failure through ``rotation_faults``, and the report says which fault stood in for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..diagnose import (
    FUNCTION_MISSING_CAUSE,
    INVOKE_DENIED,
    TIMEOUT_WITHOUT_PROGRESS,
    ProductionFailure,
)
from ..execution.faults import FaultPlan
from ..world.world import secretsmanager_operations

__all__ = ["OutsideFault", "fault_for", "named_error"]

_OPERATION = re.compile(r"when calling the (\w+) operation")
_FIRST_STEP = "createSecret"
_STANDS_FOR = {
    TIMEOUT_WITHOUT_PROGRESS: "the function timed out without logging anything (a network path "
    "that never answers)",
    FUNCTION_MISSING_CAUSE: "Secrets Manager could not find the function",
    INVOKE_DENIED: "Secrets Manager was not allowed to invoke the function",
}


def named_error(type_name: str, message: str) -> Exception:
    """An exception whose class has the name production's error had (e.g. AccessDeniedException)."""
    name = type_name if type_name.isidentifier() else "ProductionError"
    error_class: type[Exception] = type(
        name, (Exception,), {"__module__": "rotation_testkit.reproduce"}
    )
    return error_class(message)


@dataclass(frozen=True)
class OutsideFault:
    """The fault that stands for an outside cause, and how to say so."""

    cause: str
    step: str
    error_type: str
    message: str
    #: A Secrets Manager operation that fails, or None: the step fails before the handler runs.
    operation: str | None = None

    def plan(self, faults: FaultPlan) -> None:
        """Add the fault, on every matching call, as the cause stays until someone fixes it."""
        if self.operation is not None:
            faults.fail_api(
                self.operation,
                code=self.error_type,
                message=self.message,
                times=None,
                step=self.step,
            )
        else:
            faults.fail_step(
                self.step, times=None, error=named_error(self.error_type, self.message)
            )

    def code(self, faults: str = "rotation_faults") -> str:
        """How a test writes this fault."""
        if self.operation is not None:
            return (
                f"{faults}.fail_api({self.operation!r}, code={self.error_type!r}, "
                f"message={self.message!r}, times=None, step={self.step!r})"
            )
        return f"{faults}.fail_step({self.step!r}, times=None, error=named_error({self.error_type!r}, {self.message!r}))"

    def describe(self) -> str:
        what = _STANDS_FOR.get(self.cause, f"the cause outside the function's code ({self.cause})")
        how = (
            f"every {self.operation} call during {self.step} fails with {self.error_type}"
            if self.operation is not None
            else f"every {self.step} invocation fails with {self.error_type} before the "
            "function runs"
        )
        return f"production shows {what}: applied as a fault ({how})."


def fault_for(failure: ProductionFailure | None) -> OutsideFault | None:
    """The fault that stands for production's outside cause, if the evidence names one."""
    if failure is None or failure.outside_cause is None:
        return None
    step = failure.step or _FIRST_STEP
    error_type = failure.error_type or "ProductionError"
    message = failure.message or ""
    if failure.outside_cause in (FUNCTION_MISSING_CAUSE, INVOKE_DENIED, TIMEOUT_WITHOUT_PROGRESS):
        return OutsideFault(failure.outside_cause, step, error_type, message)
    # KMS or IAM denied: the AWS call that was refused fails again, when it is Secrets Manager's.
    match = _OPERATION.search(message)
    operation = match.group(1) if match else None
    if operation not in secretsmanager_operations():
        operation = None
    return OutsideFault(failure.outside_cause, step, error_type, message, operation)
