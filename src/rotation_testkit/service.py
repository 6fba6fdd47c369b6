"""The rotation control plane: what Secrets Manager does after RotateSecret.

It validates the request with AWS's error codes and texts, creates the empty AWSPENDING placeholder,
invokes the rotation function once per step, retries the whole rotation with the same token when a
step fails, removes AWSPENDING after success, and logs every event under CloudTrail's names.
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
    ResourceExistsException,
)

from . import history, labels
from .backend import AccessDeniedException
from .labels import AWSCURRENT, AWSPENDING
from .schedule import RotationSchedule, ScheduleError, parse_rotation_rules

if TYPE_CHECKING:
    from .backend import FaithfulSecret, FaithfulSecretsManagerBackend
    from .lambdas import LambdaFunction
    from .world import World

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")

PREVIOUS_ROTATION_INCOMPLETE = (
    "A previous rotation isn't complete. That rotation will be reattempted."
)
NO_LAMBDA = "No Lambda rotation function ARN is associated with this secret."
CANNOT_INVOKE = (
    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy "
    "grants access to the principal secretsmanager.amazonaws.com."
)
BOTH_FREQUENCY_AND_EXPRESSION = (
    "You cannot specify both rotation frequency and schedule expression together."
)


@dataclass
class Rotation:
    """One rotation in progress: the token stays the same across every attempt."""

    secret_arn: str
    token: str
    function: LambdaFunction
    rotation_token: str
    attempts: int = 0
    cancelled: bool = False


class RotationService:
    def __init__(self, world: World) -> None:
        self.world = world
        self.in_progress: dict[str, Rotation] = {}

    # --- RotateSecret ---------------------------------------------------------------------

    def rotate(
        self,
        backend: FaithfulSecretsManagerBackend,
        secret: FaithfulSecret,
        *,
        token: str,
        lambda_arn: str | None,
        rules: dict[str, Any] | None,
        rotate_immediately: bool,
    ) -> None:
        schedule = self._schedule_for(secret, rules)
        if lambda_arn is not None and len(lambda_arn) > 2048:
            raise InvalidParameterException("RotationLambdaARN must <= 2048 characters long.")
        arn = lambda_arn or secret.rotation_lambda_arn
        if not arn:
            raise InvalidRequestException(NO_LAMBDA)
        function = self.world.lambdas.lookup(arn)
        if function is None:
            raise AccessDeniedException(CANNOT_INVOKE)
        if labels.pending_rotation(secret.versions) is not None:
            raise InvalidRequestException(PREVIOUS_ROTATION_INCOMPLETE)
        if token in secret.versions:
            raise ResourceExistsException(
                f"You can't use ClientRequestToken {token} because that value is already in use "
                f"for a version of secret {secret.arn}."
            )
        # The request is valid: AWS stores the configuration even if the rotation then fails.
        secret.rotation_requested = True
        secret.rotation_lambda_arn = arn
        if schedule is not None:
            secret.rotation_rules = schedule.to_rules()
            secret.auto_rotate_after_days = schedule.described_days()
            secret.rotation_enabled = True
        rotation = Rotation(secret.arn, token, function, rotation_token=str(uuid.uuid4()))
        if rotate_immediately:
            self._create_placeholder(backend, secret, token, copy_current=False)
            self.in_progress[secret.arn] = rotation
            self.run_attempts(backend, secret, rotation)
        else:
            self._test_rotation(backend, secret, rotation)
            self._schedule_next(secret, self._now())

    def _schedule_for(
        self, secret: FaithfulSecret, rules: dict[str, Any] | None
    ) -> RotationSchedule | None:
        if rules and "AutomaticallyAfterDays" in rules and "ScheduleExpression" in rules:
            raise InvalidParameterException(BOTH_FREQUENCY_AND_EXPRESSION)
        given = rules or secret.rotation_rules
        if not given:
            return None
        try:
            return parse_rotation_rules(_without_derived_days(given) if not rules else given)
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

    # --- attempts ----------------------------------------------------------------------------

    def run_attempts(
        self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret, rotation: Rotation
    ) -> bool:
        """Attempt the rotation until it succeeds or the attempts run out. True on success."""
        while rotation.attempts < self.world.config.max_attempts:
            if not self._still_pending(secret, rotation):
                return False
            rotation.attempts += 1
            if self.attempt(backend, secret, rotation):
                return True
        return False

    def attempt(
        self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret, rotation: Rotation
    ) -> bool:
        """One attempt: every step in order, from createSecret. True when the rotation succeeded."""
        world = self.world
        world.record(
            history.ROTATION_STARTED, secret, version_id=rotation.token, attempt=rotation.attempts
        )
        failure: str | None = None
        failed_step: str | None = None
        for step in STEPS:
            invocation = world.invoke(
                rotation.function, self._event(step, rotation), attempt=rotation.attempts
            )
            if invocation.error is not None:
                failure = f"{type(invocation.error).__name__}: {invocation.error}"
                failed_step = step
                break
            if not self._still_pending(secret, rotation):
                failure, failed_step = "the rotation was abandoned or cancelled", step
                break
        if failure is None and world.config.require_finish_moves_current:
            if labels.holder(secret.versions, AWSCURRENT) != rotation.token:
                failed_step = "finishSecret"
                failure = (
                    f"finishSecret returned, but AWSCURRENT is not on version {rotation.token}: "
                    "the rotation function must move AWSCURRENT to the token's version."
                )
        if failure is not None:
            world.record(
                history.ROTATION_FAILED,
                secret,
                version_id=rotation.token,
                step=failed_step,
                attempt=rotation.attempts,
                error=failure,
                detail={"final": rotation.attempts >= world.config.max_attempts},
            )
            if rotation.attempts >= world.config.max_attempts:
                self.in_progress.pop(secret.arn, None)
            return False
        self._complete(backend, secret, rotation)
        return True

    def _complete(
        self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret, rotation: Rotation
    ) -> None:
        # AWS's backend, not the function, clears AWSPENDING once the rotation has finished.
        if labels.holder(secret.versions, AWSPENDING) == rotation.token and (
            labels.holder(secret.versions, AWSCURRENT) == rotation.token
        ):
            labels.detach(secret.versions, AWSPENDING, rotation.token)
        now = self._now()
        secret.last_rotation_date = int(now.timestamp())
        self._schedule_next(secret, now)
        backend._after_change(secret)
        self.in_progress.pop(secret.arn, None)
        self.world.record(
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
        world = self.world
        world.record(history.TEST_ROTATION_STARTED, secret, version_id=rotation.token)
        self._create_placeholder(
            backend, secret, rotation.token, copy_current=world.config.test_rotation_copies_current
        )
        rotation.attempts = 1
        invocation = world.invoke(rotation.function, self._event("testSecret", rotation), attempt=1)
        backend.remove_version(secret, rotation.token)
        if invocation.error is None:
            world.record(history.TEST_ROTATION_SUCCEEDED, secret, version_id=rotation.token)
        else:
            world.record(
                history.TEST_ROTATION_FAILED,
                secret,
                version_id=rotation.token,
                step="testSecret",
                error=f"{type(invocation.error).__name__}: {invocation.error}",
            )

    # --- other API calls that touch a rotation --------------------------------------------------

    def cancel(self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret) -> str | None:
        """CancelRotateSecret: rotation off, the rotation in progress stopped; AWSPENDING stays."""
        secret.rotation_enabled = False
        secret.next_rotation_date = None
        rotation = self.in_progress.pop(secret.arn, None)
        if rotation is not None:
            rotation.cancelled = True
        return labels.pending_rotation(secret.versions)

    def on_new_current_value(
        self, backend: FaithfulSecretsManagerBackend, secret: FaithfulSecret, version_id: str
    ) -> None:
        """A new value became AWSCURRENT outside a rotation: abandon the pending one, if any."""
        pending = labels.pending_rotation(secret.versions)
        if pending is not None:
            labels.detach(secret.versions, AWSPENDING, pending)
            rotation = self.in_progress.pop(secret.arn, None)
            if rotation is not None:
                rotation.cancelled = True
            self.world.record(history.ROTATION_ABANDONED, secret, version_id=pending)
        # A manual change counts as a rotation for the schedule.
        if secret.rotation_enabled:
            self._schedule_next(secret, self._now())

    # --- dates ------------------------------------------------------------------------------------

    def _schedule_next(self, secret: FaithfulSecret, last: datetime) -> None:
        rules = secret.rotation_rules
        if not secret.rotation_enabled or not rules:
            secret.next_rotation_date = None
            return
        schedule = parse_rotation_rules(_without_derived_days(rules))
        secret.next_rotation_date = int(schedule.next_window(last).end.timestamp())

    def _now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), tz=timezone.utc)


def _without_derived_days(rules: dict[str, Any]) -> dict[str, Any]:
    """Stored rules carry the AutomaticallyAfterDays DescribeSecret derives from an expression."""
    if "ScheduleExpression" in rules:
        return {k: v for k, v in rules.items() if k != "AutomaticallyAfterDays"}
    return dict(rules)
