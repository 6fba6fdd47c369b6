"""The fault plan: failures a test scripts in one line, consumed as the rotation runs.

Step faults act on the service's invocations of the rotation function; API faults answer the next
matching Secrets Manager calls with an AWS error, before the backend sees them, so the SDK's own
retries (and the rotator's error handling) meet them exactly as in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from moto.secretsmanager.exceptions import SecretsManagerClientError

from ..foundations.labels import STEPS

FaultKind = Literal["fail_step", "crash_after_step", "time_out_step", "fail_api"]

# AWS answers server-side and throttling errors with these HTTP statuses; botocore's retry logic
# looks at both the status and the code.
_STATUS_BY_CODE = {
    "InternalServiceError": 500,
    "InternalFailure": 500,
    "ServiceUnavailable": 503,
    "ThrottlingException": 400,
    "Throttling": 400,
    "RequestLimitExceeded": 400,
    "LimitExceededException": 400,
    "AccessDeniedException": 400,
}


class FaultError(ValueError):
    """A fault that cannot be planned as written; the message says what is accepted."""


class InjectedStepFailure(Exception):
    """The default error of ``fail_step``: the invocation failed before the handler ran."""


class InjectedCrash(Exception):
    """The error of ``crash_after_step``: the handler finished its work, then the invocation failed."""


@dataclass
class Fault:
    kind: FaultKind
    target: str  # a step name or an API operation name
    times: int | None  # None: a permanent fault, on every matching call
    error: BaseException | None = None
    code: str = ""
    message: str | None = None
    secret_id: str | None = None
    attempt: int | None = None
    during_step: str | None = None  # fail_api only: calls made during this step
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    @property
    def unfired(self) -> bool:
        """It fired fewer times than planned; a permanent fault asks only for once."""
        return self.fired < (1 if self.times is None else self.times)

    def describe(self) -> str:
        """How the test wrote it, e.g. ``fail_step('setSecret', times=2)``."""
        options = [repr(self.target)]
        if self.kind == "fail_api" and self.code != "InternalServiceError":
            options.append(f"code={self.code!r}")
        if self.times != 1:
            options.append(f"times={self.times}")  # times=None for a permanent fault
        if self.secret_id is not None:
            options.append(f"secret_id={self.secret_id!r}")
        if self.during_step is not None:
            options.append(f"step={self.during_step!r}")
        if self.attempt is not None:
            options.append(f"attempt={self.attempt}")
        return f"{self.kind}({', '.join(options)})"

    def api_error(self) -> SecretsManagerClientError:
        message = self.message or f"Injected by rotation_faults.{self.describe()}."
        error = SecretsManagerClientError(self.code, message)
        error.code = _STATUS_BY_CODE.get(self.code, 400)
        return error

    def step_error(self) -> BaseException:
        if self.error is not None:
            return self.error
        if self.kind == "crash_after_step":
            return InjectedCrash(
                f"{self.target} did its work, then the invocation failed "
                f"(injected by rotation_faults.{self.describe()})"
            )
        return InjectedStepFailure(
            f"{self.target} failed before the handler ran (injected by rotation_faults.{self.describe()})"
        )


class FaultPlan:
    """The `rotation_faults` fixture."""

    def __init__(self, operations: frozenset[str] = frozenset()) -> None:
        self._faults: list[Fault] = []
        self._operations = operations

    # --- planning ---------------------------------------------------------------------------

    def fail_step(
        self,
        step: str,
        *,
        times: int | None = 1,
        error: BaseException | None = None,
        secret_id: str | None = None,
        attempt: int | None = None,
    ) -> Fault:
        """The next ``times`` invocations of ``step`` fail before the handler runs.

        ``times=None`` fails every invocation of the step: a rotation that can never succeed.
        """
        return self._step_fault("fail_step", step, times, secret_id, attempt, error)

    def crash_after_step(
        self,
        step: str,
        *,
        times: int | None = 1,
        secret_id: str | None = None,
        attempt: int | None = None,
    ) -> Fault:
        """The handler runs to the end, then the invocation fails (Lambda died before answering)."""
        return self._step_fault("crash_after_step", step, times, secret_id, attempt)

    def time_out_step(
        self,
        step: str,
        *,
        times: int | None = 1,
        secret_id: str | None = None,
        attempt: int | None = None,
    ) -> Fault:
        """The handler runs, but the invocation ends as a Lambda timeout ("Task timed out...").

        The handler's work is done, as when a function is stopped after its last side effect;
        with the clock running, time moves to the function's deadline.
        """
        return self._step_fault("time_out_step", step, times, secret_id, attempt)

    def _step_fault(
        self,
        kind: FaultKind,
        step: str,
        times: int | None,
        secret_id: str | None,
        attempt: int | None,
        error: BaseException | None = None,
    ) -> Fault:
        fault = Fault(
            kind,
            _check_step(step),
            _check_times(times),
            error,
            secret_id=secret_id,
            attempt=attempt,
        )
        return self._add(fault)

    def fail_api(
        self,
        operation: str,
        *,
        code: str = "InternalServiceError",
        message: str | None = None,
        times: int | None = 1,
        secret_id: str | None = None,
        step: str | None = None,
        attempt: int | None = None,
    ) -> Fault:
        """The next ``times`` calls of ``operation`` fail with the AWS error ``code``.

        ``step`` and ``attempt`` limit the fault to calls the rotation function makes during that
        step or rotation attempt; ``times=None`` fails every matching call.
        """
        name = self._check_operation(operation)
        if not code or not re.fullmatch(r"[A-Za-z][A-Za-z0-9.]*", code):
            raise FaultError(
                f"code must be an AWS error code such as 'ThrottlingException', got {code!r}."
            )
        return self._add(
            Fault(
                "fail_api",
                name,
                _check_times(times),
                code=code,
                message=message,
                secret_id=secret_id,
                attempt=attempt,
                during_step=_check_step(step) if step is not None else None,
            )
        )

    def _add(self, fault: Fault) -> Fault:
        self._faults.append(fault)
        return fault

    def _check_operation(self, operation: str) -> str:
        name = (
            operation if "_" not in operation else "".join(p.title() for p in operation.split("_"))
        )
        if self._operations and name not in self._operations:
            raise FaultError(
                f"{operation!r} is not a Secrets Manager operation; expected one of "
                f"{', '.join(sorted(self._operations))} (or their snake_case names)."
            )
        return name

    # --- consuming --------------------------------------------------------------------------

    def take_step_fault(
        self, step: str, *, secret_ids: tuple[str, ...], attempt: int | None
    ) -> Fault | None:
        """The first live fault for this invocation, marked fired."""
        for fault in self._faults:
            if (
                fault.kind != "fail_api"
                and fault.target == step
                and not fault.exhausted
                and (fault.secret_id is None or fault.secret_id in secret_ids)
                and (fault.attempt is None or fault.attempt == attempt)
            ):
                fault.fired += 1
                return fault
        return None

    def take_api_fault(
        self,
        operation: str,
        *,
        secret_ids: tuple[str, ...],
        step: str | None = None,
        attempt: int | None = None,
    ) -> Fault | None:
        for fault in self._faults:
            if (
                fault.kind == "fail_api"
                and fault.target == operation
                and not fault.exhausted
                and (fault.secret_id is None or fault.secret_id in secret_ids)
                and (fault.during_step is None or fault.during_step == step)
                and (fault.attempt is None or fault.attempt == attempt)
            ):
                fault.fired += 1
                return fault
        return None

    # --- reporting --------------------------------------------------------------------------

    @property
    def faults(self) -> list[Fault]:
        return list(self._faults)

    def unfired(self) -> list[Fault]:
        """Faults that fired fewer times than planned."""
        return [fault for fault in self._faults if fault.unfired]

    def unfired_report(self) -> str:
        lines = [
            f"  - {fault.describe()}: "
            + (
                "never fired (a permanent fault must fire at least once)"
                if fault.times is None
                else f"fired {fault.fired} of {fault.times} time(s)"
            )
            for fault in self.unfired()
        ]
        return (
            "rotation_faults planned failures that never happened, so this test did not exercise "
            "what it meant to:\n" + "\n".join(lines) + "\nCheck the step or operation name and the "
            "secret_id/attempt filters, or opt out with "
            "@pytest.mark.rotation_testkit(assert_faults_fired=False)."
        )


def _check_step(step: str) -> str:
    if step not in STEPS:
        raise FaultError(f"step must be one of {', '.join(STEPS)}; got {step!r}.")
    return step


def _check_times(times: int | None) -> int | None:
    if times is None:
        return None
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise FaultError(
            f"times must be a positive integer, or None for a fault on every matching call; "
            f"got {times!r}."
        )
    return times
