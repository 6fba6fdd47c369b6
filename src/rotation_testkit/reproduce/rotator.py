"""The rotation function under reproduction, and the harness around it (setup, probe), registered
in a world under the saved function's name so that the saved RotationLambdaARN reaches it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..execution.commands import check_command
from ..execution.lambdas import Handler, LambdaRegistrationError
from ..execution.loader import TargetError, load_callable
from ..execution.runtime import lambda_variables
from ..execution.sandbox import hermetic_environ, patched_environ
from ..foundations.config import KitConfig
from ..world import World
from .values import ReproduceError

__all__ = ["Rotator", "target_of"]

Target = Callable[..., Any] | str


@dataclass(frozen=True)
class Rotator:
    """A Python ``handler`` (a callable or 'module:function'), or a ``command`` that starts a
    Lambda runtime interface client (any language) in ``cwd``."""

    handler: Handler | str | None = None
    command: str | None = None
    cwd: str | None = None
    #: Called with the AWSCURRENT value before each run: resets the protected service.
    setup: Target | None = None
    #: Called with a value: truthy when the protected service accepts those credentials.
    probe: Target | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.command is None):
            raise ReproduceError(
                "give the rotation function either as TARGET (module:function or "
                'path/to/file.py:function) or as --command "CMD", not both and not neither.'
            )
        if not 1 <= self.timeout <= 900:
            raise ReproduceError(f"the timeout must be within 1..900 seconds, got {self.timeout}.")
        if self.command is not None:
            try:
                check_command(self.command, self.cwd)
            except ValueError as error:
                raise ReproduceError(str(error)) from None

    def register(self, world: World, name: str) -> str:
        """Register the function under ``name`` in the world; returns its ARN."""
        try:
            if self.command is not None:
                return world.lambdas.register_command(
                    self.command, name=name, timeout=self.timeout, env=self.env, cwd=self.cwd
                )
            assert self.handler is not None
            return world.lambdas.register(
                self.handler,
                name=name,
                timeout=self.timeout,
                env=self.env,
                environment_modules=self._environment_modules(),
            )
        except (LambdaRegistrationError, TargetError) as error:
            raise ReproduceError(str(error)) from None

    def loaded(self, target: Target | None, config: KitConfig) -> Callable[..., Any] | None:
        """A setup or probe, imported as Lambda imports the function (its variables set, inside
        the hermetic environment: a client built at import gets fake credentials)."""
        if target is None or callable(target):
            return target
        variables = lambda_variables(config, "rotator", self.env)
        try:
            with patched_environ({**hermetic_environ(config), **variables}):
                found: Callable[..., Any] = load_callable(target)
        except TargetError as error:
            raise ReproduceError(str(error)) from None
        return found

    def prepare_service(self, world: World, text: str) -> None:
        """Call setup with a value (a dict for a JSON object), as `check` calls it."""
        setup = self.loaded(self.setup, world.config)
        if setup is None:
            return
        try:
            setup(_as_value(text))
        except Exception as error:
            raise ReproduceError(
                f"the setup function {target_of(self.setup)} raised {type(error).__name__}: "
                f"{world.mask(str(error))}; it must prepare the protected service for the "
                "AWSCURRENT value it is given."
            ) from None

    def _environment_modules(self) -> tuple[str, ...]:
        names = {
            target.rpartition(":")[0] if isinstance(target, str) else target.__module__
            for target in (self.setup, self.probe)
            if target is not None
        }
        return tuple(sorted(n for n in names if n and not n.endswith(".py")))


def _as_value(text: str) -> Any:
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return parsed if isinstance(parsed, dict) else text


def target_of(target: Target | None) -> str | None:
    """'module:attr' for a target, as a written test imports it (None when no module holds it)."""
    if target is None:
        return None
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", None)
    name = getattr(target, "__qualname__", None)
    if not module or not name or "<" in name or module == "__main__":
        return None
    return f"{module}:{name}"
