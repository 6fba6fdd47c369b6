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
from .scenario import RotatorUnderTest, default_secret


class RotatorContract:
    """Subclass with ``handler`` (a function or a ``"module:function"`` string) and, optionally,
    ``initial_secret``, ``env``, ``timeout``, and ``setup``/``probe`` methods::

        class TestMyRotator(RotatorContract):
            handler = "my_rotator:lambda_handler"
            initial_secret = {"username": "app", "password": "first"}

            def setup(self, secret): DATABASE.reset({secret["username"]: secret["password"]})
            def probe(self, secret): return DATABASE.login(secret["username"], secret["password"])

    ``setup`` and ``probe`` may instead be fixtures named ``contract_setup`` and ``contract_probe``
    that return the callable. ``skip_checks`` names checks that do not apply to this rotator.
    """

    handler: ClassVar[Handler | str | None] = None
    initial_secret: ClassVar[Mapping[str, Any] | str | None] = None
    env: ClassVar[Mapping[str, str]] = {}
    timeout: ClassVar[float] = 30.0
    skip_checks: ClassVar[tuple[str, ...]] = ()

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
        if handler is None:
            pytest.fail(
                f"{type(self).__name__} must set `handler` to the rotation function or a "
                "'module:function' string.",
                pytrace=False,
            )
        return RotatorUnderTest(
            handler=handler,
            initial_secret=self.initial_secret
            if self.initial_secret is not None
            else default_secret(),
            setup=self._hook(request, "setup"),
            probe=self._hook(request, "probe"),
            env=dict(self.env),
            timeout=self.timeout,
        )

    def _hook(self, request: pytest.FixtureRequest, name: str) -> Any:
        method = getattr(self, name, None)
        if callable(method):
            return method
        try:
            return request.getfixturevalue(f"contract_{name}")
        except pytest.FixtureLookupError:
            return None
