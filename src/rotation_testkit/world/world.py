"""One in-memory world: the Secrets Manager backend, the rotation control plane, the Lambda functions
and the history they share. The pytest fixtures and the command line are thin shells over this class.

The simulated AWS below sees a world only through the Protocols it defines
(:class:`~rotation_testkit.aws.ports.WorldPort` for every request,
:class:`~rotation_testkit.aws.host.RotationHost` for the control plane); this class implements
both.

Why one module of more than 400 lines: its methods are those two Protocols' hooks (each API call,
each invocation, each rotation's start and end) plus masking, and each hook is short; split across
files they would hide which hook the world answers how.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import botocore.loaders

from ..aws import ports
from ..aws.rotation import RotationService
from ..execution.aws_endpoint import AwsEndpoint, EndpointAccess
from ..execution.aws_stubs import AwsStubs, stubs_active
from ..execution.client_guard import early_clients_refused, warn_about_early_clients
from ..execution.clock import ClockError, RotationClock
from ..execution.faults import FaultPlan
from ..execution.function_thread import abandon
from ..execution.lambdas import Invocation, LambdaFunction, LambdaRegistry
from ..execution.logs import capture_ready
from ..execution.protected_http import ProtectedHttp
from ..execution.sandbox import hermetic_environ, intercepted_aws, patched_environ, shared_session
from ..execution.signatures import EndpointCredentials
from ..execution.urllib_guard import urllib_blocked
from ..foundations import history, labels
from ..foundations.config import KitConfig
from ..foundations.history import Event, History
from ..foundations.masking import NO_MASK, KnownValues, Masker
from ..observation.invariants import InvariantChecker
from .quiet_credentials import resolve_credentials_quietly

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from ..aws.backend import FaithfulSecretsManagerBackend
    from ..aws.secret import FaithfulSecret


class World:
    """Everything one test (or one contract check) sees of AWS."""

    def __init__(self, config: KitConfig | None = None) -> None:
        self.config = config or KitConfig()
        self.history = History(limit=self.config.history_limit)
        self.history.masker = self.masker
        self.lambdas = LambdaRegistry(self.config)
        self.control_plane = RotationService(self)
        self.faults = FaultPlan(secretsmanager_operations())
        self.http = ProtectedHttp()
        self.aws_stubs = AwsStubs()
        self._known = KnownValues()  # the secret values to mask, rebuilt when one changes
        self._attempts: list[int | None] = []
        self._steps: list[str] = []
        self._last_snapshots: dict[str, Mapping[str, tuple[str, ...]]] = {}
        self.invariants = InvariantChecker(disabled=self.config.disabled_invariants)
        self.clock = RotationClock(self.control_plane)
        self.clock.guard_sleep(self.lambdas)
        self._active = False
        self._endpoint: AwsEndpoint | None = None
        self.lambdas.endpoint = self._endpoint_access

    # --- lifecycle --------------------------------------------------------------------------

    @contextmanager
    def activate(self, *, environment: bool = True) -> Iterator[World]:
        """Make this world answer every Secrets Manager call in the process.

        ``environment=False`` leaves the environment to the caller (the pytest plugin sets it
        through monkeypatch); otherwise it is made hermetic here and restored afterwards.
        """
        if self._active:
            raise RuntimeError("this world is already active")
        if ports.has_active_world():
            # moto keeps one backend per process: a second world would share the first one's
            # secrets and HTTP routes instead of starting empty.
            raise RuntimeError(
                "another rotation-testkit world is already active: worlds cannot be nested. "
                "Contract checks run in worlds of their own, so call run_checks() (or use "
                "RotatorContract) in a test that does not request the rotation-testkit fixtures."
            )
        threads_before = set(threading.enumerate())
        if environment:  # a script's world (pytest notes such clients at the end of the run)
            warn_about_early_clients()
        with (
            patched_environ(hermetic_environ(self.config) if environment else {}),
            intercepted_aws(),
            stubs_active(self.aws_stubs),
            urllib_blocked(),
            early_clients_refused(),
            capture_ready(),
        ):
            resolve_credentials_quietly()
            ports.push(self)
            self._active = True
            try:
                yield self
            finally:
                self._stop_serving()
                self.clock.stop()
                self.secret_masker()  # kept for reports written after the world is gone
                self._active = False
                ports.pop(self)
                # A thread a function left running must not call into the next world.
                abandon(set(threading.enumerate()) - threads_before)

    def endpoint_url(self, *, port: int = 0) -> str:
        """This world as an HTTP endpoint on 127.0.0.1 (started on first use, stopped with the world).

        ``port`` applies when it starts (0: a free port). Requests must be signed with
        :meth:`endpoint_credentials`.
        """
        return self._endpoint_access(port=port).url

    def endpoint_credentials(self) -> EndpointCredentials:
        """The keys a client of :meth:`endpoint_url` signs with (the endpoint serves no other)."""
        return self._endpoint_access().credentials

    def _endpoint_access(self, *, port: int = 0) -> EndpointAccess:
        if not self._active:
            raise RuntimeError(
                "the HTTP endpoint serves an active world: use `with world.activate():`."
            )
        if self._endpoint is None:
            endpoint = AwsEndpoint(port=port)
            endpoint.start()
            self._endpoint = endpoint
        return self._endpoint.access

    def _stop_serving(self) -> None:
        # Processes first: they may still be talking to the endpoint.
        self.lambdas.close_environments()
        if self._endpoint is not None:
            self._endpoint.stop()
            self._endpoint = None

    def configure(self, **settings: Any) -> KitConfig:
        """Change settings for the rest of this world's life (e.g. ``max_attempts=5``)."""
        self.config = self.config.updated(**settings)
        self.lambdas.config = self.config
        self.history.limit = self.config.history_limit
        self.invariants.disabled = self.config.disabled_invariants
        return self.config

    # --- access -----------------------------------------------------------------------------

    def client(self, **kwargs: Any) -> SecretsManagerClient:
        """A boto3 Secrets Manager client on this world (the same one any other client reaches)."""
        kwargs.setdefault("region_name", self.config.region)
        return shared_session().client("secretsmanager", **kwargs)

    @property
    def backend(self) -> FaithfulSecretsManagerBackend:
        from ..aws.api import store_of

        return store_of(self.config.account_id, self.config.region)

    def find_secret(self, secret_id: str) -> FaithfulSecret | None:
        return self.backend.find_secret(secret_id)

    def lookup_function(self, arn: str) -> LambdaFunction | None:
        return self.lambdas.lookup(arn)

    def now(self) -> datetime:
        return self.clock.now()

    def start_clock(self) -> RotationClock:
        """Freeze time at the configured start (or inside the user's own freeze_time)."""
        if not self.clock.running:
            self.clock.start(self.config.clock_start)
        return self.clock

    def require_clock(self, why: str) -> None:
        if not self.clock.running:
            raise ClockError(f"{why}: request the `rotation_clock` fixture in this test.")

    # --- what the service and the responses report ----------------------------------------------

    def record(
        self,
        name: str,
        secret: FaithfulSecret | None,
        *,
        version_id: str | None = None,
        step: str | None = None,
        attempt: int | None = None,
        error: str | None = None,
        detail: Mapping[str, Any] | None = None,
        slot: int | None = None,
        error_is_code: bool = False,
    ) -> Event:
        event = Event(
            name=name,
            time=self.now(),
            secret_arn=secret.arn if secret is not None else None,
            version_id=version_id,
            step=step,
            attempt=attempt,
            # Error texts quote what the function raised, which may hold a secret value; an AWS
            # error code (an API call's outcome) holds none.
            error=self.mask(error) if error and not error_is_code else error,
            labels=self._snapshot(secret) if secret is not None else {},
            # Kept by reference: the requests' parameters are not changed after the call, and an
            # event is formatted (and masked) only when it is printed.
            detail=detail if detail is not None else {},
            values=self._values(secret) if self.config.show_values and secret else {},
        )
        return self.history.record(event) if slot is None else self.history.fill(slot, event)

    # --- masking: no secret value in anything the kit prints ------------------------------------

    def secret_masker(self) -> Masker:
        """The values of every version the world holds, whatever show_values says (leak checks).

        Only versions still kept count: a long simulation prunes old ones, and its cost per
        invocation must stay flat. Once the world is inactive (a failure report written at
        teardown), the values it held last.
        """
        if not self._active:
            return self._known.masker
        from ..aws.api import existing_store

        store = existing_store(self.config.account_id, self.config.region)
        secrets = store.secrets.values() if store is not None else ()
        return self._known.update((s.name, s.versions) for s in secrets)

    def masker(self) -> Masker:
        """How to print: values masked, unless the user opted in with show_values=True."""
        return NO_MASK if self.config.show_values else self.secret_masker()

    def mask(self, text: str) -> str:
        return self.masker().mask(text)

    def _snapshot(self, secret: FaithfulSecret) -> Mapping[str, tuple[str, ...]]:
        # Most events leave the labels as they were: share the previous snapshot, so a long
        # history costs one label map per change, not one per event.
        snapshot = labels.snapshot(secret.versions)
        previous = self._last_snapshots.get(secret.arn)
        if previous == snapshot:
            return previous
        self._last_snapshots[secret.arn] = snapshot
        return snapshot

    def _values(self, secret: FaithfulSecret) -> dict[str, str]:
        # Only when the user opted in (show_values=True): the history normally holds no value.
        versions = secret.versions
        return {
            vid: str(versions[vid].get("secret_string", versions[vid].get("secret_binary", "")))
            for vid in labels.labelled(versions)
            if labels.has_value(versions[vid])
        }

    def invoke(
        self, function: LambdaFunction, event: Mapping[str, Any], *, attempt: int | None = None
    ) -> Invocation:
        """Invoke a rotation function for the service and log the invocation."""
        slot = self.history.reserve()
        secret_id = event.get("SecretId")
        secret = self.find_secret(secret_id) if isinstance(secret_id, str) else None
        fault = self.faults.take_step_fault(
            str(event.get("Step")), secret_ids=_names_of(secret, secret_id), attempt=attempt
        )
        self._attempts.append(attempt)
        self._steps.append(str(event.get("Step")))
        try:
            invocation = self.lambdas.invoke(function, event, attempt=attempt, fault=fault)
        finally:
            self._attempts.pop()
            self._steps.pop()
        timed_out = invocation.stopped or (fault is not None and fault.kind == "time_out_step")
        if timed_out and self.clock.running:
            self.clock.pass_time(max(0.0, function.timeout - invocation.duration))
        self.record(
            history.INVOKE,
            secret,
            version_id=event.get("ClientRequestToken"),
            step=invocation.step,
            attempt=attempt,
            error=invocation.error_text,
            detail={
                "function": function.arn,
                "request_id": invocation.request_id,
                **({"fault": invocation.fault} if invocation.fault else {}),
            },
            slot=slot,
        )
        if secret is not None:
            self.invariants.check(
                secret.arn,
                secret.versions,
                step=invocation.step,
                attempt=attempt,
                after=f"the {invocation.step} step",
            )
            self.invariants.check_logs(
                secret.arn,
                secret.versions,
                invocation.logs,
                self.secret_masker,  # looked at only if the function wrote something
                step=invocation.step,
                attempt=attempt,
            )
            token = event.get("ClientRequestToken")
            probed = self.invariants.probe is not None  # values are read only for a probe
            self.invariants.check_probe(
                secret.arn,
                secret.versions,
                self.value_of(secret, labels.holder(secret.versions, labels.AWSCURRENT))
                if probed
                else None,
                self.value_of(secret, token if isinstance(token, str) else None)
                if probed
                else None,
                step=invocation.step,
                attempt=attempt,
            )
        return invocation

    def rotation_started(self, secret: FaithfulSecret, token: str) -> None:
        self.invariants.rotation_started(secret.arn, token, secret.versions)

    def rotation_ended(
        self,
        secret: FaithfulSecret,
        *,
        succeeded: bool,
        after: str,
        step: str | None = None,
        attempt: int | None = None,
    ) -> None:
        self.invariants.rotation_ended(
            secret.arn,
            secret.versions,
            succeeded=succeeded,
            after=after,
            step=step,
            attempt=attempt,
        )

    def check_invariants(self, secret: FaithfulSecret, *, after: str) -> None:
        """Check the invariants now, if a step is in progress, attributing violations to it."""
        if self._steps:
            self._check(secret, after=after)

    def _check(self, secret: FaithfulSecret, *, after: str) -> None:
        self.invariants.check(
            secret.arn,
            secret.versions,
            step=self._current_step(),
            attempt=self._current_attempt(),
            after=after,
        )

    # The step (and attempt) of the invocation running now, if any: API calls made inside it
    # are attributed to it.
    def _current_step(self) -> str | None:
        return self._steps[-1] if self._steps else None

    def _current_attempt(self) -> int | None:
        return self._attempts[-1] if self._attempts else None

    def value_of(self, secret: FaithfulSecret, version_id: str | None) -> Any:
        """A version's value as a probe receives it: a dict for a JSON object, else the string."""
        version = secret.versions.get(version_id) if version_id else None
        if version is None:
            return None
        raw = version.get("secret_string")
        if raw is None:
            return version.get("secret_binary")
        try:
            parsed = json.loads(raw)
        except ValueError:
            return raw
        return parsed if isinstance(parsed, dict) else raw

    def before_api_call(self, operation: str, secret_id: Any) -> int:
        """Called as a request arrives: injects API faults, keeps the call's place in history."""
        slot = self.history.reserve()
        secret = self.find_secret(secret_id) if isinstance(secret_id, str) and secret_id else None
        fault = self.faults.take_api_fault(
            operation,
            secret_ids=_names_of(secret, secret_id),
            step=self._current_step(),
            attempt=self._current_attempt(),
        )
        if fault is not None:
            error = fault.api_error()
            self.record(
                operation,
                secret,
                step=self._current_step(),
                attempt=self._current_attempt(),
                error=fault.code,
                detail={"fault": fault.describe()},
                slot=slot,
                error_is_code=True,
            )
            raise error
        return slot

    def after_api_call(
        self,
        operation: str,
        *,
        secret_id: str | None,
        parameters: Mapping[str, Any],
        error: str | None,
        slot: int,
    ) -> None:
        secret = self.find_secret(secret_id) if secret_id else None
        version = (
            parameters.get("VersionId")
            or parameters.get("ClientRequestToken")
            or parameters.get("MoveToVersionId")
        )
        self.record(
            operation,
            secret,
            step=self._current_step(),
            attempt=self._current_attempt(),
            version_id=version if isinstance(version, str) else None,
            error=error,
            detail={"parameters": parameters},
            slot=slot,
            error_is_code=True,
        )
        if secret is not None:
            self._check(secret, after=operation)


def _names_of(secret: FaithfulSecret | None, secret_id: Any) -> tuple[str, ...]:
    """Every identifier a fault's secret_id filter may use for this secret."""
    names = [secret_id] if isinstance(secret_id, str) else []
    if secret is not None:
        names += [secret.arn, secret.name]
    return tuple(names)


@functools.lru_cache(maxsize=1)
def secretsmanager_operations() -> frozenset[str]:
    """Operation names of the Secrets Manager API, from botocore's service model."""
    # Straight from botocore's data files: a Session would read the user's AWS configuration.
    model = botocore.loaders.create_loader().load_service_model("secretsmanager", "service-2")
    return frozenset(model["operations"])


def active_world() -> World:
    """The world active in this process (the test's, or a contract check's own)."""
    world = ports.active_world()
    if not isinstance(world, World):
        raise ports.NoActiveWorld(f"the active world is a {type(world).__name__}, not a World")
    return world


has_active_world = ports.has_active_world
