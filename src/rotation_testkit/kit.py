"""RotationKit: the one object a test holds to reach every part of its in-memory world."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .diagnose.replay import Saved, Values, load_state
from .execution.aws_stubs import Answer
from .execution.clock import RotationClock
from .execution.faults import FaultPlan
from .execution.lambdas import Invocation, LambdaRegistry
from .execution.protected_http import ProtectedHttp
from .foundations.config import KitConfig
from .foundations.history import Event, History
from .observation import function_logs
from .observation import timeline as timeline_tables
from .observation.invariants import Violation
from .reproduce.api import State, reproduce
from .reproduce.reproduction import Reproduction
from .world import World

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class RotationKit:
    """The `rotation_kit` fixture: the client, the Lambda functions, the history and the settings."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._client: SecretsManagerClient | None = None

    @property
    def secretsmanager(self) -> SecretsManagerClient:
        """A boto3 client on the in-memory backend (built once per test)."""
        if self._client is None:
            self._client = self.world.client()
        return self._client

    client = secretsmanager

    @property
    def lambdas(self) -> LambdaRegistry:
        return self.world.lambdas

    @property
    def clock(self) -> RotationClock:
        """The fake clock (the same as the `rotation_clock` fixture); it starts on first use."""
        return self.world.start_clock()

    @property
    def faults(self) -> FaultPlan:
        """The fault plan (the same as the `rotation_faults` fixture)."""
        return self.world.faults

    @property
    def protected_http(self) -> ProtectedHttp:
        """Scripted HTTP routes (the same as the `protected_http` fixture)."""
        return self.world.http

    # The fixtures' own names work too: rotation_kit.rotation_lambdas is rotation_lambdas.
    rotation_lambdas = lambdas
    rotation_clock = clock
    rotation_faults = faults

    def invocations(self, arn: str | None = None) -> list[Invocation]:
        """Every invocation of a rotation function, in order (see rotation_lambdas)."""
        return self.world.lambdas.invocations(arn)

    @property
    def history(self) -> History:
        return self.world.history

    @property
    def config(self) -> KitConfig:
        return self.world.config

    def configure(self, **settings: Any) -> KitConfig:
        """Change settings for this test, e.g. ``rotation_kit.configure(max_attempts=5)``."""
        return self.world.configure(**settings)

    def events(self, name: str | None = None, *, secret_id: str | None = None) -> list[Event]:
        """History events in order, optionally filtered by name and by secret (name or ARN)."""
        arn = None
        if secret_id is not None:
            secret = self.world.find_secret(secret_id)
            arn = secret.arn if secret is not None else secret_id
        return self.history.events(name, secret_arn=arn)

    # --- invariants and the timeline ---------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        """Invariant violations seen so far (the test fails at teardown if any remain)."""
        return list(self.world.invariants.violations)

    def take_violations(self) -> list[Violation]:
        """The violations seen so far, cleared: for a test that expects one and checks it."""
        taken = list(self.world.invariants.violations)
        self.world.invariants.violations.clear()
        return taken

    def set_probe(self, probe: Callable[[Any], Any] | None) -> None:
        """Check at every step boundary that the protected service accepts AWSCURRENT.

        ``probe`` gets the AWSCURRENT value (a dict for a JSON object, else the string) and
        returns a truthy value when the service accepts those credentials.
        """
        self.world.invariants.probe = probe

    def timeline(self, secret_id: str | None = None) -> str:
        """Each rotation as a table: step, attempt, outcome, labels per version after it."""
        text = timeline_tables.render(self._tables(secret_id), names=self._names())
        return self.world.mask(text)

    def timeline_json(self, secret_id: str | None = None) -> str:
        """The timeline as JSON, for tools (known secret values masked, as everywhere)."""
        return self.world.mask(timeline_tables.to_json(self._tables(secret_id)))

    def function_logs(self, arn: str | None = None) -> str:
        """Every invocation's log under the step that wrote it, secret values masked."""
        return function_logs.render(self.lambdas.invocations(arn), self.world.masker())

    def mask(self, text: str) -> str:
        """``text`` with every known secret value replaced by ``***`` (unless show_values=True)."""
        return self.world.mask(text)

    # --- other AWS services -------------------------------------------------------------------

    def stub_aws(self, service: str, operation: str, answer: Answer) -> None:
        """From now on in this world, ``operation`` of any ``service`` client returns ``answer``.

        ``answer`` is a dict shaped like the operation's output, or a function called with the
        request's parameters (a dict) that returns one; an :class:`~rotation_testkit.AwsError`
        (returned or raised) makes the client raise that AWS error instead. ``operation`` is the
        API name ("ModifyUser") or the client method ("modify_user").
        """
        self.world.aws_stubs.stub(service, operation, answer)

    def _tables(self, secret_id: str | None) -> list[timeline_tables.RotationTable]:
        tables = timeline_tables.build(self.history)
        if secret_id is None:
            return tables
        secret = self.world.find_secret(secret_id)
        arn = secret.arn if secret is not None else secret_id
        return [table for table in tables if table.secret_arn == arn]

    def _names(self) -> dict[str, str]:
        return {s.arn: s.name for s in self.world.backend.secrets.values()}

    def load_state(
        self, described: Saved, versions: Saved | None = None, *, values: Values | None = None
    ) -> str:
        """Rebuild a secret from saved describe-secret output; see rotation_testkit.state."""
        return load_state(self.world, described, versions, values=values)

    def labels(self, secret_id: str) -> dict[str, list[str]]:
        """Staging labels per version, deprecated versions included, read without an API call."""
        secret = self.world.find_secret(secret_id)
        if secret is None:
            raise KeyError(f"no secret {secret_id!r} in this world")
        return {vid: list(v["version_stages"]) for vid, v in secret.versions.items()}

    def reattempt(self, secret_id: str) -> bool:
        """Reattempt the rotation left pending on a secret, as Secrets Manager does: the same
        token, from createSecret, with its retries. False when no rotation is pending or its
        function is not registered (see ``load_state``)."""
        secret = self.world.find_secret(secret_id)
        if secret is None:
            raise KeyError(f"no secret {secret_id!r} in this world")
        return self.world.control_plane.reattempt(secret)

    def reproduce(
        self, state: State, *evidence: str | os.PathLike[str], **options: Any
    ) -> Reproduction:
        """Reproduce a stuck rotation from saved AWS output in this test's world; see
        :func:`rotation_testkit.reproduce.reproduce` for the options (``handler=`` or
        ``command=``, ``values=``, ``setup=``, ``probe=``, ``env=``, ``write_test=``).

        The test's own faults, probe and invariant violations are left as they were.
        """
        return reproduce(state, *evidence, world=self.world, **options)
