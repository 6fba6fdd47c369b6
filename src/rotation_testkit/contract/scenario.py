"""One contract check's world: the secret, the registered rotator, and what a check asks of them.

A check drives the rotator through a Scenario and calls ``require_*`` methods; each raises
:class:`ContractFailure` with an explanation in the rotator's terms.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from ..execution.lambdas import ColdStarts, Handler, Invocation
from ..execution.runtime import HarnessFault
from ..foundations import labels
from ..foundations.history import INVOKE, ROTATION_FAILED, ROTATION_STARTED, ROTATION_SUCCEEDED
from ..foundations.labels import short_id
from ..observation.invariants import ask_probe
from ..observation.log_leaks import leak_message, secret_in_logs
from ..world import World
from .secrets import SecretValue, as_text, as_value, creation_order, substitute

if TYPE_CHECKING:
    from ..aws.secret import FaithfulSecret

SECRET_NAME = "contract/secret"

#: How a rotator changes credentials: the same user's password ("single-user"), or, like AWS's
#: multi-user templates, the other of two users, so AWSCURRENT keeps working throughout.
Strategy = Literal["single-user", "alternating-users"]
STRATEGIES: tuple[Strategy, ...] = ("single-user", "alternating-users")


class ContractFailure(AssertionError):
    """A rotator broke the contract; the message explains the bug."""


class NotApplicable(Exception):
    """The check cannot apply to this rotator or set-up; the message says why."""


class HarnessError(Exception):
    """The check's set-up (the user's setup or probe) failed: a mistake in the harness, not a
    bug of the rotator. The message names the function and its error."""


def _name_of(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}:{name}" if module else name


def default_secret() -> dict[str, str]:
    return {"username": "app", "password": secrets.token_urlsafe(24)}


@dataclass
class RotatorUnderTest:
    """What the checks need to know about a rotator: a Python ``handler``, or a ``command`` that
    starts a runtime interface client (any language) in ``cwd``."""

    handler: Handler | str = ""
    initial_secret: SecretValue = field(default_factory=default_secret)
    setup: Callable[[Any], Any] | None = None
    probe: Callable[[Any], Any] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    #: The rotated secret's name (rotators may derive settings from it).
    secret_name: str = SECRET_NAME
    #: More secrets created before each scenario, by name (e.g. a multi-user rotator's master
    #: secret). Values may contain ``{arn:NAME}``, replaced by the ARN of secret NAME.
    extra_secrets: Mapping[str, SecretValue] = field(default_factory=dict)
    strategy: Strategy = "single-user"
    #: Instead of ``handler``: the command that starts a Lambda runtime interface client.
    command: str | None = None
    cwd: str | None = None
    #: More modules of the deployment package, imported afresh at each cold start.
    package_modules: tuple[str, ...] = ()

    def environment_modules(self) -> tuple[str, ...]:
        """The modules of the setup and probe: they stand for the protected service, which a new
        execution environment finds as it was, so a cold start never imports them afresh."""
        names = {getattr(f, "__module__", None) for f in (self.setup, self.probe) if f}
        return tuple(sorted(name for name in names if isinstance(name, str)))

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}."
            )
        if self.secret_name in self.extra_secrets:
            raise ValueError(
                f"the extra secret {self.secret_name!r} has the rotated secret's name: "
                "give it another name."
            )

    def secret_string(self) -> str:
        return as_text(self.initial_secret)

    def secret_value(self) -> Any:
        """The initial secret as setup and probe receive it."""
        return as_value(self.secret_string(), self.initial_secret)


class Scenario:
    def __init__(self, world: World, rotator: RotatorUnderTest) -> None:
        self.world = world
        self.rotator = rotator
        self.client = world.client()
        self.arn = ""
        self.function_arn = ""
        self.secret_arns: dict[str, str] = {}
        #: Lines the report shows under the check, pass or fail (e.g. a login-downtime window).
        self.info: list[str] = []
        #: The invocations whose logs a failure report shows (default: the failing attempt's).
        self.shown_invocations: list[Invocation] | None = None
        self._probe_errors: list[BaseException] = []

    # --- set-up -------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the secrets, reset the protected service, register the rotator.

        A setup or probe that fails here is a :class:`HarnessError`: no rotator ran yet.
        """
        rotator = self.rotator
        texts = {name: as_text(value) for name, value in rotator.extra_secrets.items()}
        texts[rotator.secret_name] = rotator.secret_string()
        for name in creation_order(texts):
            text = substitute(texts[name], self.secret_arns)
            if name == rotator.secret_name:
                text = self._set_up_protected_service(text)
            self.secret_arns[name] = self.client.create_secret(Name=name, SecretString=text)["ARN"]
        self.arn = self.secret_arns[rotator.secret_name]
        if rotator.command is not None:
            self.function_arn = self.world.lambdas.register_command(
                rotator.command,
                name="rotator",
                timeout=rotator.timeout,
                env=rotator.env,
                cwd=rotator.cwd,
            )
        else:
            self.function_arn = self.world.lambdas.register(
                rotator.handler,
                name="rotator",
                timeout=rotator.timeout,
                env=rotator.env,
                package_modules=rotator.package_modules,
                environment_modules=rotator.environment_modules(),
            )
        self.world.invariants.probe = self._guarded_probe if rotator.probe else None
        self.world.invariants.pending_may_stand_in = rotator.strategy == "single-user"

    def register_again(self, name: str, *, cold_starts: ColdStarts = "first") -> str:
        """Register the rotator once more, under another name and settings; returns its ARN."""
        rotator = self.rotator
        if rotator.command is not None:
            return self.world.lambdas.register_command(
                rotator.command,
                name=name,
                timeout=rotator.timeout,
                env=rotator.env,
                cwd=rotator.cwd,
                cold_starts=cold_starts,
            )
        return self.world.lambdas.register(
            rotator.handler,
            name=name,
            timeout=rotator.timeout,
            env=rotator.env,
            cold_starts=cold_starts,
            package_modules=rotator.package_modules,
            environment_modules=rotator.environment_modules(),
        )

    def log_leak(self) -> str | None:
        """The first known secret value an invocation wrote to its logs: where, never what."""
        known = self.world.secret_masker()
        for invocation in self.world.lambdas.invocations():
            leaked = secret_in_logs(invocation.logs, known)
            if leaked is not None:
                self.shown_invocations = [invocation]
                attempt = f" (attempt {invocation.attempt})" if invocation.attempt else ""
                return f"during {invocation.step}{attempt}: " + leak_message(
                    leaked, invocation.logs
                )
        return None

    def cold_start_problem(self) -> str | None:
        """Why the rotator cannot be imported afresh for each invocation, if it cannot."""
        if self.rotator.command is not None:
            return None  # a new process is always a cold start
        return self.world.lambdas.cold_start_problem(self.function_arn)

    def _set_up_protected_service(self, text: str) -> str:
        """Call setup with the initial secret; a value it returns replaces that secret."""
        rotator = self.rotator
        value = as_value(text, rotator.initial_secret)
        if rotator.setup is not None:
            try:
                returned = rotator.setup(value)
            except Exception as error:
                raise HarnessError(
                    f"the setup function {_name_of(rotator.setup)} raised "
                    f"{type(error).__name__}: {error}"
                ) from error
            if returned is not None:
                if not isinstance(returned, (str, Mapping)):
                    raise HarnessError(
                        f"the setup function {_name_of(rotator.setup)} returned a "
                        f"{type(returned).__name__}: it may return the initial secret to use "
                        "instead (a dict or a str), or None to keep the one given."
                    )
                value = returned if isinstance(returned, str) else dict(returned)
                text = as_text(value)
        if rotator.probe is not None:
            try:
                accepted = rotator.probe(value)
            except Exception as error:
                raise HarnessError(
                    f"the probe function {_name_of(rotator.probe)} raised "
                    f"{type(error).__name__}: {error} (asked about the initial secret, right "
                    "after setup)"
                ) from error
            if not accepted:
                raise HarnessError(
                    f"the probe function {_name_of(rotator.probe)} rejects the initial secret "
                    "right after setup: setup must create the user the secret names with its "
                    "password (or the probe checks something else than a login)."
                )
        return text

    def _guarded_probe(self, value: Any) -> Any:
        # A probe that raises during a check is a harness problem too; remember it.
        assert self.rotator.probe is not None
        try:
            return self.rotator.probe(value)
        except Exception as error:
            self._probe_errors.append(error)
            raise

    def harness_problem(self) -> str | None:
        """Why this check's verdict cannot be trusted: the probe raised along the way, or an
        invocation failed because of the harness (the handler could not be called, a cold start
        could not import the package again)."""
        for invocation in self.world.lambdas.invocations():
            if isinstance(invocation.error, HarnessFault):
                return (
                    f"{invocation.step} of {invocation.function_name}: {invocation.error} "
                    "This is a failure of the harness, not a verdict on the rotator."
                )
        if not self._probe_errors or self.rotator.probe is None:
            return None
        error = self._probe_errors[0]
        return (
            f"the probe function {_name_of(self.rotator.probe)} raised "
            f"{type(error).__name__}: {error}; a probe must return True or False for any "
            "credentials, including ones the protected service refuses."
        )

    # --- driving ------------------------------------------------------------------------------

    def rotate(self, **kwargs: Any) -> str:
        kwargs.setdefault("RotationLambdaARN", self.function_arn)
        kwargs.setdefault("RotationRules", {"AutomaticallyAfterDays": 30})
        return str(self.client.rotate_secret(SecretId=self.arn, **kwargs)["VersionId"])

    def try_rotate(self) -> str | None:
        """Rotate, where a refused RotateSecret is no failure (another check judges it)."""
        try:
            return self.rotate()
        except ClientError:
            return None

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

    def fail(self, message: str, *, explain: bool = True) -> None:
        hints = self.explain() if explain else []
        text = message + ("\n" + "\n".join(f"  hint: {h}" for h in hints) if hints else "")
        raise ContractFailure(text)

    def _probe(self, value: Any) -> bool:
        assert self.rotator.probe is not None
        return ask_probe(self._guarded_probe, value)[0]

    def accepted(self, value: Any) -> bool:
        """Does the protected service accept these credentials? (Requires a probe.)"""
        return self._probe(value)

    def not_applicable(self, reason: str) -> None:
        raise NotApplicable(reason)

    # --- explanations -------------------------------------------------------------------------

    def explain(self) -> list[str]:
        """Known causes first, read from the history in the rotator's terms; then what failed."""
        causes: list[str] = []
        # The same error at the same step on every attempt is one finding, not three.
        attempts_failed: dict[tuple[str, str], list[int]] = {}
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
                attempts_failed.setdefault((event.step, error), []).append(event.attempt or 0)
            elif event.name == INVOKE and error and event.attempt is None:
                failures.append(f"a direct {event.step} invocation raised {error}")
        for (step, error), attempts in attempts_failed.items():
            if len(attempts) == 1:
                failures.append(f"attempt {attempts[0]} failed at {step}: {error}")
            else:
                failures.append(f"failed at {step} ({_attempts(attempts)}): {error}")
        violations = self.world.invariants.violations
        causes.extend(f"invariant {v.invariant!r}: {v.message}" for v in violations)
        if self.rotator.strategy == "alternating-users" and any(
            v.invariant == "current-accepted-by-service" for v in violations
        ):
            causes.append(
                "an alternating-users rotator must set the new password on the other user (the "
                "one AWSCURRENT does not name) and leave the user in use alone: changing the "
                "password of the user in use breaks every application still reading AWSCURRENT."
            )
        return list(dict.fromkeys(causes + failures))[:8]


def _attempts(numbers: list[int]) -> str:
    """ "attempts 1-3" for a run of consecutive attempts, else "attempts 1, 3"."""
    ordered = sorted(set(numbers))
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"attempts {ordered[0]}-{ordered[-1]}"
    return "attempts " + ", ".join(map(str, ordered))
