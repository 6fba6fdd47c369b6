"""One run in a world: rebuild the saved state, prepare the protected service, apply production's
outside cause, and reattempt the pending rotation as Secrets Manager would (the same token, from
createSecret, with its retries). Each run starts from the saved state again, so runs are copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from ..diagnose.masking import mask_values
from ..diagnose.replay import StateError, load_state
from ..execution.commands import CommandFunction
from ..execution.faults import FaultPlan
from ..execution.runtime import HarnessFault
from ..foundations import history
from ..foundations.history import Event
from ..world import World
from ..world.world import secretsmanager_operations
from .incident import Incident
from .outside import OutsideFault
from .rotator import Rotator
from .values import ReproduceError

__all__ = ["Outcome", "Run"]


@dataclass(frozen=True)
class Outcome:
    """How a rotation ended in the world: succeeded, or the step and error it failed with last."""

    succeeded: bool
    step: str | None = None
    error_type: str | None = None
    #: The error's message with anything like a credential masked (as production's is).
    message: str | None = None
    attempts: int = 0
    #: Invariant violations met on the way: part of the explanation, not a crash.
    violations: tuple[str, ...] = field(default_factory=tuple)

    @property
    def error(self) -> str | None:
        if self.error_type is None:
            return None
        return f"{self.error_type}: {self.message}" if self.message else self.error_type


class Run:
    """The world a reproduction runs in, reset to the saved state for each run."""

    def __init__(self, world: World, incident: Incident, rotator: Rotator) -> None:
        self.world = world
        self.incident = incident
        self.rotator = rotator
        self.arn = ""
        self.function_arn = ""
        self._faults = FaultPlan(secretsmanager_operations())
        self._start = 0
        self._invocations = 0

    @contextmanager
    def isolated(self) -> Iterator[Run]:
        """The world's own faults, probe and violations are set aside while the runs use it."""
        world = self.world
        saved_faults, saved_probe = world.faults, world.invariants.probe
        saved_violations = list(world.invariants.violations)
        saved_mode = world.config.rotation_mode
        world.configure(rotation_mode="immediate")  # the reattempt runs to its end at once
        world.faults = self._faults
        world.invariants.probe = self.rotator.loaded(self.rotator.probe, world.config)
        try:
            self.function_arn = self.rotator.register(world, self.incident.function_name)
            yield self
        finally:
            self._forget_secret()
            world.faults = saved_faults
            world.invariants.probe = saved_probe
            world.invariants.violations[:] = saved_violations
            world.configure(rotation_mode=saved_mode)

    def rebuild(self, outside: OutsideFault | None) -> None:
        """The saved state again, in a world that holds nothing else of this secret."""
        world = self.world
        self._forget_secret()
        self.remove_outside_cause()
        world.invariants.violations.clear()
        self._cold_start()
        if self.incident.current is not None:
            self.rotator.prepare_service(world, self.incident.values[self.incident.current])
        try:
            self.arn = load_state(
                world, self.incident.described, self.incident.versions, values=self.incident.values
            )
        except StateError as error:
            raise ReproduceError(str(error)) from None
        if outside is not None:
            outside.plan(self._faults)
        self._start = _recorded(world)

    def _cold_start(self) -> None:
        """A new execution environment for each run: nothing the function kept in memory during
        one run reaches the next, as production's function never saw the local runs."""
        if self.rotator.command is None:
            self.rotator.register(self.world, self.incident.function_name)  # drops the warm one
        else:
            function = self.world.lambdas.lookup(self.function_arn)
            if function is not None and isinstance(function.handler, CommandFunction):
                function.handler.discard_environment()

    def remove_outside_cause(self) -> None:
        """The outside cause fixed: its fault no longer fires."""
        self._faults = self.world.faults = FaultPlan(secretsmanager_operations())

    def reattempt(self) -> Outcome:
        """Reattempt the pending rotation; how it ended."""
        self.mark()
        secret = self.world.find_secret(self.arn)
        assert secret is not None
        if not self.world.control_plane.reattempt(secret):
            raise ReproduceError(
                f"the rotation pending on {self.incident.name} could not be reattempted: its "
                f"rotation function ({secret.rotation_lambda_arn or 'none saved'}) is not the one "
                f"registered as {self.incident.function_name}."
            )
        self._refuse_harness_failure()
        return self.outcome()

    def _refuse_harness_failure(self) -> None:
        """A function that could not run at all, or could not be called: no verdict follows."""
        failures = self.world.lambdas.environment_failures()
        invocations = self.world.lambdas.invocations()[self._invocations :]
        faults = [i for i in invocations if isinstance(i.error, HarnessFault)]
        if failures or faults:
            why = failures[0] if failures else f"{faults[0].step}: {faults[0].error}"
            raise ReproduceError(
                f"harness error, no verdict on the function: it could not run ({why}). Fix the "
                "target or the command (or install what it runs) and run again."
            )

    def rotate(self) -> Outcome:
        """Start the next rotation, as the schedule (or rotate-secret) would."""
        self.mark()
        client = self.world.client()
        try:
            client.rotate_secret(SecretId=self.arn, RotationLambdaARN=self.function_arn)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            message = str(error.response.get("Error", {}).get("Message", ""))
            return Outcome(False, None, code, self.world.mask(message), 0, self._violations())
        return self.outcome()

    def mark(self) -> None:
        """What happens from now on is the next outcome."""
        self._start = _recorded(self.world)
        self._invocations = len(self.world.lambdas.invocations())
        self.world.invariants.violations.clear()

    def outcome(self) -> Outcome:
        events = _since(self.world, self._start)
        ends = [
            e for e in events if e.name in (history.ROTATION_SUCCEEDED, history.ROTATION_FAILED)
        ]
        attempts = len([e for e in events if e.name == history.ROTATION_STARTED])
        violations = self._violations()
        if ends and ends[-1].name == history.ROTATION_SUCCEEDED:
            return Outcome(True, attempts=attempts, violations=violations)
        failed = ends[-1] if ends else None
        invocations = self.world.lambdas.invocations()[self._invocations :]
        erred = [i for i in invocations if i.error is not None]
        last = erred[-1] if erred else None
        if last is not None and (failed is None or failed.step == last.step):
            assert last.error is not None
            error_type = _error_type(last.error)
            message = mask_values(self.world.mask(str(last.error)))
            return Outcome(False, last.step, error_type, message, attempts, violations)
        text = failed.error if failed is not None and failed.error else "the rotation never ended"
        head, sep, tail = text.partition(": ")
        # "Type: message" from an error; the service's own words (a finishSecret that did not
        # move AWSCURRENT) have no type.
        error_type, message = (
            (head, tail) if sep and head.isidentifier() else ("RotationFailed", text)
        )
        return Outcome(
            False,
            failed.step if failed else None,
            error_type,
            mask_values(message),
            attempts,
            violations,
        )

    def _violations(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(
                f"{v.invariant}: {self.world.mask(v.message)}"
                for v in self.world.invariants.violations
            )
        )

    def _forget_secret(self) -> None:
        world = self.world
        name = self.incident.saved.name
        secret = world.find_secret(self.arn or name or "") if (self.arn or name) else None
        if secret is not None:
            world.control_plane.in_progress.pop(secret.arn, None)
            world.control_plane.schedules.forget(secret.arn)
            world.backend.secrets.pop(secret.name)


def _error_type(error: BaseException) -> str:
    """The exception's name; for botocore's generic ClientError, the AWS error code."""
    if isinstance(error, ClientError) and type(error).__name__ == "ClientError":
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return type(error).__name__


def _recorded(world: World) -> int:
    return world.history.dropped + len(world.history)


def _since(world: World, start: int) -> list[Event]:
    events = list(world.history)
    return events[max(0, start - world.history.dropped) :]
