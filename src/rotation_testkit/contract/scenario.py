"""One contract check's world: the secret, the registered rotator, and what a check asks of them.

A check drives the rotator through a Scenario and calls ``require_*`` methods; each raises
:class:`ContractFailure` with an explanation in the rotator's terms.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..execution.lambdas import Handler
from ..foundations import labels
from ..foundations.history import INVOKE, ROTATION_FAILED, ROTATION_STARTED, ROTATION_SUCCEEDED
from ..foundations.labels import short_id
from ..observation.invariants import ask_probe
from ..world import World

if TYPE_CHECKING:
    from ..aws.secret import FaithfulSecret

SECRET_NAME = "contract/secret"


class ContractFailure(AssertionError):
    """A rotator broke the contract; the message explains the bug."""


def default_secret() -> dict[str, str]:
    return {"username": "app", "password": secrets.token_urlsafe(24)}


@dataclass
class RotatorUnderTest:
    """What the checks need to know about a rotator."""

    handler: Handler | str
    initial_secret: Mapping[str, Any] | str = field(default_factory=default_secret)
    setup: Callable[[Any], Any] | None = None
    probe: Callable[[Any], Any] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0

    def secret_string(self) -> str:
        if isinstance(self.initial_secret, str):
            return self.initial_secret
        return json.dumps(dict(self.initial_secret))

    def secret_value(self) -> Any:
        """The initial secret as setup and probe receive it."""
        return (
            self.initial_secret
            if isinstance(self.initial_secret, str)
            else dict(self.initial_secret)
        )


class Scenario:
    def __init__(self, world: World, rotator: RotatorUnderTest) -> None:
        self.world = world
        self.rotator = rotator
        self.client = world.client()
        self.arn = ""
        self.function_arn = ""

    # --- set-up -------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Reset the protected service, create the secret and register the rotator."""
        if self.rotator.setup is not None:
            self.rotator.setup(self.rotator.secret_value())
        self.arn = self.client.create_secret(
            Name=SECRET_NAME, SecretString=self.rotator.secret_string()
        )["ARN"]
        self.function_arn = self.world.lambdas.register(
            self.rotator.handler, name="rotator", timeout=self.rotator.timeout, env=self.rotator.env
        )
        self.world.invariants.probe = self.rotator.probe

    # --- driving ------------------------------------------------------------------------------

    def rotate(self, **kwargs: Any) -> str:
        kwargs.setdefault("RotationLambdaARN", self.function_arn)
        kwargs.setdefault("RotationRules", {"AutomaticallyAfterDays": 30})
        return str(self.client.rotate_secret(SecretId=self.arn, **kwargs)["VersionId"])

    def invoke_step(self, step: str, token: str) -> BaseException | None:
        """Invoke one step directly, as the service may on a retry; returns the error, if any."""
        function = self.world.lambdas.lookup(self.function_arn)
        assert function is not None
        event = {
            "Step": step,
            "SecretId": self.arn,
            "ClientRequestToken": token,
            "RotationToken": "contract-check",
        }
        return self.world.invoke(function, event).error

    # --- reading ------------------------------------------------------------------------------

    def _secret(self) -> FaithfulSecret:
        secret = self.world.find_secret(self.arn)
        assert secret is not None
        return secret

    def versions(self) -> dict[str, dict[str, Any]]:
        return self._secret().versions

    def labels(self) -> dict[str, tuple[str, ...]]:
        return labels.snapshot(self.versions())

    def current(self) -> str | None:
        return labels.holder(self.versions(), labels.AWSCURRENT)

    def value(self, version_id: str | None) -> Any:
        return self.world.value_of(self._secret(), version_id)

    def service_state(self) -> Any:
        """What the probe says about the current credentials (None without a probe)."""
        if self.rotator.probe is None:
            return None
        return self._probe(self.value(self.current()))

    # --- requirements -------------------------------------------------------------------------

    def require_rotated(self, old_current: str, what: str) -> None:
        """The rotation succeeded: a new AWSCURRENT with a new value, old one AWSPREVIOUS, not stuck."""
        versions = self.versions()
        current = self.current()
        if current is None or current == old_current:
            self.fail(f"{what}: AWSCURRENT did not move to a new version.")
        assert current is not None
        pending = labels.pending_rotation(versions)
        if pending is not None:
            self.fail(
                f"{what}: AWSPENDING was left on {short_id(pending)}, so the next rotation would fail."
            )
        if labels.AWSPREVIOUS not in versions[old_current]["version_stages"]:
            self.fail(
                f"{what}: the old version {short_id(old_current)} did not become AWSPREVIOUS."
            )
        if self.value(current) == self.value(old_current):
            self.fail(
                f"{what}: the new AWSCURRENT value is identical to the old one (values not shown)."
            )
        if self.rotator.probe is not None and not self._probe(self.value(current)):
            self.fail(
                f"{what}: the protected service refuses the new AWSCURRENT credentials: setSecret did "
                "not apply them, or applied something else than what createSecret stored."
            )
        # Last, so the more specific findings above speak first.
        outcomes = [
            e.name
            for e in self.world.history.events(secret_arn=self.arn)
            if e.name in (ROTATION_SUCCEEDED, ROTATION_FAILED, ROTATION_STARTED)
        ]
        if outcomes and outcomes[-1] != ROTATION_SUCCEEDED:
            self.fail(f"{what}: the rotation never succeeded; its last attempt failed.")

    def require_no_violations(self) -> None:
        violations = self.world.invariants.violations
        if violations:
            self.fail(self.world.invariants.report())

    def fail(self, message: str) -> None:
        hints = self.explain()
        text = message + ("\n" + "\n".join(f"  hint: {h}" for h in hints) if hints else "")
        raise ContractFailure(text)

    def _probe(self, value: Any) -> bool:
        assert self.rotator.probe is not None
        return ask_probe(self.rotator.probe, value)[0]

    # --- explanations -------------------------------------------------------------------------

    def explain(self) -> list[str]:
        """Known causes first, read from the history in the rotator's terms; then what failed."""
        causes: list[str] = []
        failures: list[str] = []
        for event in self.world.history:
            error = event.error or ""
            if event.name == "PutSecretValue" and "ResourceExistsException" in error:
                causes.append(
                    "createSecret wrote a new value into a version that already had one: on a retry "
                    "(same token) it must first try get_secret_value(VersionId=token, "
                    "VersionStage='AWSPENDING') and generate only on ResourceNotFoundException."
                )
            elif event.name == "UpdateSecretVersionStage" and "InvalidParameterException" in error:
                causes.append(
                    "finishSecret called update_secret_version_stage without the right "
                    "RemoveFromVersionId: AWS requires the version that currently holds the label."
                )
            elif event.name == ROTATION_FAILED and error and event.step:
                failures.append(f"attempt {event.attempt} failed at {event.step}: {error}")
            elif event.name == INVOKE and error and event.attempt is None:
                failures.append(f"a direct {event.step} invocation raised {error}")
        causes.extend(
            f"invariant {v.invariant!r}: {v.message}" for v in self.world.invariants.violations
        )
        return list(dict.fromkeys(causes + failures))[:8]
