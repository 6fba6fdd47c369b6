"""The rotation control plane: what Secrets Manager does after RotateSecret.

It validates the request with AWS's error codes and texts, creates the empty AWSPENDING placeholder,
invokes the rotation function once per step, retries the whole rotation with the same token when a
step fails, removes AWSPENDING after success, and logs every event under CloudTrail's names.

A rotation is a small state machine (attempt, next step). In "immediate" mode RotateSecret drives
it to the end before returning; in "deferred" mode each step is due at an instant and the clock
runs it when time reaches that instant. Scheduled rotations are due work of the same kind.

Why one module of more than 400 lines: it is one state machine (validation, the step loop, retries,
test rotations, cancellation and abandonment, the due work the clock runs); splitting it would
spread one rotation's life across files.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from moto.secretsmanager.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    SecretsManagerClientError,
)

from ..foundations import history, labels
from ..foundations.labels import AWSCURRENT, AWSPENDING, STEPS
from ..foundations.schedule import RotationSchedule, ScheduleError, parse_rotation_rules
from .errors import AccessDeniedException, token_in_use
from .host import RotationHost
from .scheduler import RotationScheduler, without_derived_days

if TYPE_CHECKING:
    from .backend import FaithfulSecretsManagerBackend
    from .secret import FaithfulSecret


PREVIOUS_ROTATION_INCOMPLETE = (
    "A previous rotation isn't complete. That rotation will be reattempted."
)
NO_LAMBDA = "No Lambda rotation function ARN is associated with this secret."
# Not AWS's text: AWS would rotate the secret through its partner; the kit cannot.
MANAGED_EXTERNAL_NOT_SIMULATED = (
    "rotation-testkit does not simulate managed external secret rotation (a partner rotating "
    "the secret with ExternalSecretRotationRoleArn and no Lambda function). Give a "
    "RotationLambdaARN registered in the kit to rotate this secret with a function."
)
CANNOT_INVOKE = (
    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy "
    "grants access to the principal secretsmanager.amazonaws.com."
)
BOTH_FREQUENCY_AND_EXPRESSION = (
    "You cannot specify both rotation frequency and schedule expression together."
)


NO_LAMBDA_TO_CANCEL = (
    "You tried to enable rotation on a secret that doesn't already have a Lambda "
    "function ARN configured and you didn't include such an ARN as a parameter in this call."
)


@dataclass
class Rotation:
    """One rotation in progress: the token stays the same across every attempt."""

    secret_arn: str
    token: str
    function: object  # the host's registered function, passed back to it to invoke
    rotation_token: str
    attempts: int = 0  # attempts started so far
    attempts_left: int = 0  # in this round (a reattempt after giving up starts a new round)
    next_step: int = 0  # index into STEPS within the current attempt
    due: datetime | None = None  # deferred mode: when the next step runs
    cancelled: bool = False


class RotationService:
    """The control plane of one world: rotations in progress, schedules and pending deletions."""

    def __init__(self, host: RotationHost) -> None:
        self.host = host
        self.in_progress: dict[str, Rotation] = {}
        self.schedules = RotationScheduler(lambda: host.config, self.now)
        # Secrets scheduled for deletion: when their recovery window ends.
        self.deletions: dict[str, datetime] = {}

    # --- RotateSecret ---------------------------------------------------------------------

    def rotate(
        self,
        secret: FaithfulSecret,
        *,
        token: str,
        lambda_arn: str | None,
        rules: dict[str, Any] | None,
        rotate_immediately: bool,
        managed_external: bool = False,
    ) -> None:
        schedule = self._schedule_for(secret, rules)
        if lambda_arn is not None and len(lambda_arn) > 2048:
            raise InvalidParameterException("RotationLambdaARN must <= 2048 characters long.")
        arn = lambda_arn or secret.rotation_lambda_arn
        if not arn and (managed_external or secret.external_rotation_role_arn):
            raise InvalidRequestException(MANAGED_EXTERNAL_NOT_SIMULATED)
        if not arn:
            raise InvalidRequestException(NO_LAMBDA)
        function = self.host.lookup_function(arn)
        if function is None:
            raise AccessDeniedException(CANNOT_INVOKE)
        if labels.pending_rotation(secret.versions) is not None:
            raise InvalidRequestException(PREVIOUS_ROTATION_INCOMPLETE)
        if token in secret.versions:
            raise token_in_use(token, secret.arn)
        # The request is valid: AWS stores the configuration even if the rotation then fails.
        if rotate_immediately and self.host.config.rotation_mode == "deferred":
            self.host.require_clock("rotation_mode='deferred' runs the steps as the clock moves")
        # Inference: every accepted RotateSecret turns rotation on (AWS's own rotation functions
        # refuse to run when RotationEnabled is false, and they do run for one-off rotations).
        secret.rotation_requested = True
        secret.rotation_enabled = True
        secret.rotation_lambda_arn = arn
        if schedule is not None:
            secret.rotation_rules = schedule.to_rules()
            secret.auto_rotate_after_days = schedule.described_days()
        rotation = Rotation(secret.arn, token, function, rotation_token=str(uuid.uuid4()))
        backend = self.host.backend
        if rotate_immediately:
            self._create_placeholder(backend, secret, token, copy_current=False)
            self._begin(backend, secret, rotation)
        else:
            self._test_rotation(backend, secret, rotation)
            self.schedules.after_rotation(secret, self.now())

    def _schedule_for(
        self, secret: FaithfulSecret, rules: dict[str, Any] | None
    ) -> RotationSchedule | None:
        if rules and "AutomaticallyAfterDays" in rules and "ScheduleExpression" in rules:
            raise InvalidParameterException(BOTH_FREQUENCY_AND_EXPRESSION)
        given = rules or secret.rotation_rules
        if not given:
            return None
        try:
            return parse_rotation_rules(given if rules else without_derived_days(given))
        except ScheduleError as error:
            raise InvalidParameterException(str(error)) from None

    def _create_placeholder(
        self,
        backend: FaithfulSecretsManagerBackend,
        secret: FaithfulSecret,
        token: str,
        *,
        copy_current: bool,
    ) -> None:
        version: dict[str, Any] = {
            "version_id": token,
            "version_stages": [],
            "createdate": int(time.time()),
        }
        current = labels.holder(secret.versions, AWSCURRENT)
        if copy_current and current is not None:
            for key in ("secret_string", "secret_binary"):
                if key in secret.versions[current]:
                    version[key] = secret.versions[current][key]
        secret.versions[token] = version
        labels.attach(secret.versions, AWSPENDING, token)
        backend._after_change(secret)

    # --- driving a rotation --------------------------------------------------------------------

    def _begin(
        self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret, rotation: Rotation
    ) -> None:
        """Start a round of attempts: to the end now, or step by step as the clock moves."""
        rotation.attempts_left = self.host.config.max_attempts
        rotation.next_step = 0
        self.in_progress[secret.arn] = rotation
        self.host.rotation_started(secret, rotation.token)
        self.schedules.forget(secret.arn)
        if self.host.config.rotation_mode == "deferred":
            rotation.due = self.now() + self.host.config.step_duration
            return
        while self.in_progress.get(secret.arn) is rotation:
            self._run_step(backend, secret, rotation)

    def _run_step(
        self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret, rotation: Rotation
    ) -> None:
        """Run the next step of the rotation and decide what follows it."""
        host = self.host
        if not self._still_pending(secret, rotation):
            self.in_progress.pop(secret.arn, None)
            return
        if rotation.next_step == 0:
            rotation.attempts += 1
            rotation.attempts_left -= 1
            host.record(
                history.ROTATION_STARTED,
                secret,
                version_id=rotation.token,
                attempt=rotation.attempts,
            )
        step = STEPS[rotation.next_step]
        invocation = host.invoke(
            rotation.function, self._event(step, rotation), attempt=rotation.attempts
        )
        failure: str | None = None
        if invocation.error is not None:
            failure = invocation.error_text
        elif rotation.cancelled:
            failure = "the rotation was abandoned or cancelled during this step"
        elif not self._still_pending(secret, rotation) and not (
            step == "finishSecret" and labels.holder(secret.versions, AWSCURRENT) == rotation.token
        ):
            # After a finishSecret that moved AWSCURRENT, the rotation has finished, wherever
            # AWSPENDING went; the invariant checker judges that end state.
            failure = (
                f"AWSPENDING was moved off the rotation's version {rotation.token} during {step}: "
                "only the service removes it, after finishSecret."
            )
        elif (
            step == "finishSecret"
            and host.config.require_finish_moves_current
            and labels.holder(secret.versions, AWSCURRENT) != rotation.token
        ):
            failure = (
                f"finishSecret returned, but AWSCURRENT is not on version {rotation.token}: "
                "the rotation function must move AWSCURRENT to the token's version."
            )
        if failure is not None:
            self._attempt_failed(secret, rotation, step, failure)
        elif step == STEPS[-1]:
            self._complete(backend, secret, rotation)
        else:
            rotation.next_step += 1
            rotation.due = self.now() + host.config.step_duration

    def _attempt_failed(
        self,
        secret: FaithfulSecret,
        rotation: Rotation,
        step: str,
        failure: str,
    ) -> None:
        final = rotation.attempts_left <= 0 or not self._still_pending(secret, rotation)
        self.host.record(
            history.ROTATION_FAILED,
            secret,
            version_id=rotation.token,
            step=step,
            attempt=rotation.attempts,
            error=failure,
            detail={"final": final},
        )
        rotation.next_step = 0
        if not final:
            rotation.due = self.now() + self.host.config.retry_interval
            return
        self.in_progress.pop(secret.arn, None)
        self.host.rotation_ended(
            secret,
            succeeded=False,
            after=step,
            step=step,
            attempt=rotation.attempts,
        )
        if self._still_pending(secret, rotation):
            self.schedules.after_failure(secret)

    def _complete(
        self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret, rotation: Rotation
    ) -> None:
        # The rotator's end state is judged before the service's own clean-up.
        self.host.rotation_ended(
            secret,
            succeeded=True,
            after="the finishSecret step",
            step="finishSecret",
            attempt=rotation.attempts,
        )
        # AWS's backend, not the function, clears AWSPENDING once the rotation has finished.
        if labels.holder(secret.versions, AWSPENDING) == rotation.token and (
            labels.holder(secret.versions, AWSCURRENT) == rotation.token
        ):
            labels.detach(secret.versions, AWSPENDING, rotation.token)
        now = self.now()
        secret.last_rotation_date = int(now.timestamp())
        self.schedules.after_rotation(secret, now)
        backend._after_change(secret)
        self.in_progress.pop(secret.arn, None)
        self.host.record(
            history.ROTATION_SUCCEEDED, secret, version_id=rotation.token, attempt=rotation.attempts
        )

    def _still_pending(self, secret: FaithfulSecret, rotation: Rotation) -> bool:
        version = secret.versions.get(rotation.token)
        return (
            not rotation.cancelled
            and version is not None
            and AWSPENDING in version["version_stages"]
        )

    def _event(self, step: str, rotation: Rotation) -> dict[str, str]:
        return {
            "Step": step,
            "SecretId": rotation.secret_arn,
            "ClientRequestToken": rotation.token,
            "RotationToken": rotation.rotation_token,
        }

    # --- RotateImmediately=false --------------------------------------------------------------

    def _test_rotation(
        self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret, rotation: Rotation
    ) -> None:
        """Run testSecret on a temporary AWSPENDING version, then remove that version."""
        host = self.host
        host.record(history.TEST_ROTATION_STARTED, secret, version_id=rotation.token)
        self._create_placeholder(
            backend, secret, rotation.token, copy_current=host.config.test_rotation_copies_current
        )
        rotation.attempts = 1
        invocation = host.invoke(rotation.function, self._event("testSecret", rotation), attempt=1)
        backend.remove_version(secret, rotation.token)
        if invocation.error is None:
            host.record(history.TEST_ROTATION_SUCCEEDED, secret, version_id=rotation.token)
        else:
            host.record(
                history.TEST_ROTATION_FAILED,
                secret,
                version_id=rotation.token,
                step="testSecret",
                error=invocation.error_text,
            )

    # --- other API calls that touch a rotation --------------------------------------------------

    def cancel(self, secret: FaithfulSecret) -> str | None:
        """CancelRotateSecret: rotation off, the rotation in progress stopped; AWSPENDING stays."""
        if not secret.rotation_lambda_arn:
            raise InvalidRequestException(NO_LAMBDA_TO_CANCEL)
        secret.rotation_enabled = False
        secret.next_rotation_date = None
        self.schedules.forget(secret.arn)
        rotation = self.in_progress.pop(secret.arn, None)
        if rotation is not None:
            rotation.cancelled = True
        self.host.rotation_ended(secret, succeeded=False, after="CancelRotateSecret")
        return labels.pending_rotation(secret.versions)

    def on_new_current_value(self, secret: FaithfulSecret) -> None:
        """A new value became AWSCURRENT outside a rotation: abandon the pending one, if any."""
        pending = labels.pending_rotation(secret.versions)
        if pending is not None:
            labels.detach(secret.versions, AWSPENDING, pending)
            rotation = self.in_progress.pop(secret.arn, None)
            if rotation is not None:
                rotation.cancelled = True
            # Judge the change itself first: inside a step it may be the rotator moving
            # AWSCURRENT early, which the checker must see before the rotation is forgotten.
            self.host.check_invariants(secret, after="PutSecretValue")
            self.host.rotation_ended(secret, succeeded=False, after="a manual change")
            self.host.record(history.ROTATION_ABANDONED, secret, version_id=pending)
        # A manual change counts as a rotation for the schedule.
        if secret.rotation_enabled:
            self.schedules.after_rotation(secret, self.now())

    # --- due work, for the clock --------------------------------------------------------------

    def next_due(self) -> datetime | None:
        moments = [r.due for r in self.in_progress.values() if r.due is not None]
        if self.host.config.rotation_mode == "immediate":
            moments = []
        moments.extend(self.schedules.due_at.values())
        moments.extend(self.deletions.values())
        return min(moments, default=None)

    def run_due(self, now: datetime) -> None:
        """Run the earliest piece of work due at or before ``now``."""
        backend = self.host.backend
        deferred = self.host.config.rotation_mode == "deferred"
        candidates: list[tuple[datetime, int, str]] = []
        if deferred:
            candidates += [(r.due, 0, arn) for arn, r in self.in_progress.items() if r.due]
        candidates += [(when, 1, arn) for arn, when in self.schedules.due_at.items()]
        candidates += [(when, 2, arn) for arn, when in self.deletions.items()]
        due = sorted(c for c in candidates if c[0] <= now)
        if not due:
            return
        _, kind, arn = due[0]
        secret = backend.find_secret(arn)
        if kind == 2:
            self._delete_for_good(backend, arn)
            return
        if secret is None or secret.is_deleted():
            self.in_progress.pop(arn, None)
            self.schedules.forget(arn)
            return
        if kind == 0:
            rotation = self.in_progress[arn]
            rotation.due = None
            self._run_step(backend, secret, rotation)
        else:
            self._run_scheduled(backend, secret)

    # --- deletion at the end of the recovery window (inference: when the events are logged) ---

    def deletion_scheduled(self, secret: FaithfulSecret) -> None:
        if secret.deleted_date is not None:
            self.deletions[secret.arn] = datetime.fromtimestamp(
                secret.deleted_date, tz=timezone.utc
            )

    def deletion_cancelled(self, secret: FaithfulSecret) -> None:
        if self.deletions.pop(secret.arn, None) is not None:
            self.host.record(history.CANCEL_SECRET_VERSION_DELETE, secret)

    def _delete_for_good(self, backend: FaithfulSecretsManagerBackend, arn: str) -> None:
        self.deletions.pop(arn, None)
        secret = backend.find_secret(arn)
        if secret is None:
            return
        self.host.record(history.START_SECRET_VERSION_DELETE, secret)
        backend.secrets.pop(secret.name)
        self.in_progress.pop(arn, None)
        self.schedules.forget(arn)
        self.host.record(history.END_SECRET_VERSION_DELETE, secret)

    def _run_scheduled(
        self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret
    ) -> None:
        """The schedule fired: reattempt the stuck rotation, or start a new one."""
        self.schedules.forget(secret.arn)
        if secret.arn in self.in_progress:
            return  # a rotation is already running; it reschedules when it ends
        if self.reattempt(secret):
            return
        try:
            self.rotate(
                secret,
                token=str(uuid.uuid4()),
                lambda_arn=None,
                rules=None,
                rotate_immediately=True,
            )
        except SecretsManagerClientError as error:
            self.host.record(
                history.ROTATION_FAILED,
                secret,
                error=f"{error.error_type}: {error.message}",
                detail={"scheduled": True, "final": True},
            )
            self.schedules.after_failure(secret)

    def reattempt(self, secret: FaithfulSecret) -> bool:
        """Reattempt the rotation left pending, as the service does: the same token, from
        createSecret, with a new round of attempts. False when no rotation is pending, or its
        function is not registered."""
        if secret.arn in self.in_progress:
            return False
        pending = labels.pending_rotation(secret.versions)
        function = self.host.lookup_function(secret.rotation_lambda_arn or "")
        if pending is None or function is None:
            return False
        rotation = Rotation(secret.arn, pending, function, rotation_token=str(uuid.uuid4()))
        self._begin(self.host.backend, secret, rotation)
        return True

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), tz=timezone.utc)
