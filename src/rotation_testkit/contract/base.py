"""RotatorContract: subclass it in a test module to get one pytest test per contract check."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from ..execution.lambdas import Handler
from ..foundations.config import KitConfig
from .checks import CHECK_NAMES, CHECKS
from .runner import run_check
from .scenario import SECRET_NAME, RotatorUnderTest, Strategy, default_secret


class RotatorContract:
    """Subclass with ``handler`` (a function or a ``"module:function"`` string) and, optionally,
    ``initial_secret``, ``env``, ``timeout``, and ``setup``/``probe`` methods::

        class TestMyRotator(RotatorContract):
            handler = "my_rotator:lambda_handler"
            initial_secret = {"username": "app", "password": "first"}

            def setup(self, secret): DATABASE.reset({secret["username"]: secret["password"]})
            def probe(self, secret): return DATABASE.login(secret["username"], secret["password"])

    ``setup`` and ``probe`` may instead be fixtures named ``contract_setup`` and ``contract_probe``
    that return the callable; ``setup`` may return the initial secret to use instead (a dict or a
    str), e.g. with an id the protected service generated. ``skip_checks`` names checks that do
    not apply to this rotator.

    Multi-user rotators: ``strategy = "alternating-users"``, ``extra_secrets`` (more secrets by
    name, e.g. the master secret; ``{arn:NAME}`` in any secret's JSON becomes that secret's ARN)
    and ``secret_name``. Each may also be a property or a method computing it.
    """

    handler: ClassVar[Handler | str | None] = None
    #: Instead of ``handler``: the command that starts a Lambda runtime interface client (any
    #: language), run in ``cwd``, e.g. ``"npx aws-lambda-ric index.handler"``.
    command: ClassVar[str | None] = None
    cwd: ClassVar[str | None] = None
    initial_secret: ClassVar[Mapping[str, Any] | str | None] = None
    env: ClassVar[Mapping[str, str]] = {}
    timeout: ClassVar[float] = 30.0
    skip_checks: ClassVar[tuple[str, ...]] = ()
    secret_name: ClassVar[str] = SECRET_NAME
    extra_secrets: ClassVar[Mapping[str, Mapping[str, Any] | str]] = {}
    strategy: ClassVar[Strategy] = "single-user"

    @pytest.mark.parametrize("check_name", CHECK_NAMES)
    def test_contract(
        self,
        check_name: str,
        request: pytest.FixtureRequest,
        rotation_testkit_config: KitConfig,
    ) -> None:
        if check_name in self.skip_checks:
            pytest.skip(f"{check_name} is listed in {type(self).__name__}.skip_checks")
        check = next(c for c in CHECKS if c.name == check_name)
        result = run_check(check, self._rotator(request), rotation_testkit_config)
        if result.status == "not applicable":
            pytest.skip(f"{check.name} does not apply: {result.message}")
        if result.status == "harness error":
            pytest.fail(
                f"contract check {check.name!r} could not judge the rotator: the harness failed "
                f"(setup or probe), not the rotator.\n\n{result.message}",
                pytrace=False,
            )
        if not result.passed:
            pytest.fail(
                f"contract check {check.name!r} failed: {check.summary}\n\n{result.message}"
                + (f"\n\n{result.timeline}" if result.timeline else ""),
                pytrace=False,
            )

    def _rotator(self, request: pytest.FixtureRequest) -> RotatorUnderTest:
        handler = inspect.getattr_static(type(self), "handler")
        if isinstance(handler, staticmethod):
            handler = handler.__func__
        if handler is None and self.command is None:
            pytest.fail(
                f"{type(self).__name__} must set `handler` to the rotation function or a "
                "'module:function' string, or `command` to a runtime interface client's command.",
                pytrace=False,
            )
        return RotatorUnderTest(
            handler=handler or "",
            command=self.command,
            cwd=self.cwd,
            initial_secret=self.initial_secret
            if self.initial_secret is not None
            else default_secret(),
            setup=self._hook(request, "setup"),
            probe=self._hook(request, "probe"),
            env=dict(self.env),
            timeout=self.timeout,
            secret_name=self._setting("secret_name"),
            extra_secrets=dict(self._setting("extra_secrets")),
            strategy=self._setting("strategy"),
        )

    def _setting(self, name: str) -> Any:
        value = getattr(self, name)
        return value() if callable(value) else value

    def _hook(self, request: pytest.FixtureRequest, name: str) -> Any:
        method = getattr(self, name, None)
        if callable(method):
            return method
        try:
            return request.getfixturevalue(f"contract_{name}")
        except pytest.FixtureLookupError:
            return None
