"""What a registered Lambda function is, and one invocation of it; loading a handler by name.

A function registered from a ``module:function`` target is imported at registration, as Lambda's
init would import it, so a typo fails there; one registered as an object is looked up among its
module's attributes (:mod:`.handler_location`), which is where a new execution environment finds it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..foundations.config import KitConfig
from .commands import ColdStarts
from .environment_ledger import LEDGER
from .handler_location import ColdStartUnavailable, HandlerLocation, locate, location_of_target
from .runtime import lambda_variables
from .sandbox import patched_environ

Handler = Callable[[dict[str, Any], Any], Any]


class LambdaRegistrationError(ValueError):
    """A function that cannot be registered as given."""


@dataclass(frozen=True)
class LambdaFunction:
    name: str
    arn: str
    handler: Handler | str
    timeout: float
    env: Mapping[str, str]
    memory_limit_in_mb: int = 128
    #: "first": one warm execution environment after the first import; "every": a fresh one (the
    #: function's module imported afresh) for each invocation; None: the world's setting.
    cold_starts: ColdStarts | None = None
    #: More modules of the function's deployment package, imported afresh on a cold start.
    package_modules: tuple[str, ...] = ()
    #: The callable a 'module:function' handler named, imported at registration.
    imported: Handler | None = None
    #: Where a new execution environment finds the handler (its 'module.attr'), or None for a
    #: handler no module holds (then ``location_problem`` says why) and for commands.
    location: HandlerLocation | None = None
    location_problem: str | None = None
    #: Modules that stand for the environment (a protected service's stand-in, the setup's
    #: module): never imported afresh with the package.
    environment_modules: tuple[str, ...] = ()

    def resolve(self) -> Handler:
        """The callable (a 'module:function' handler was imported when it was registered)."""
        if callable(self.handler):
            return self.handler
        if self.imported is not None:
            return self.imported
        return import_handler(self.handler)


@dataclass
class Invocation:
    """One call of a function by the service: what it received and how it ended."""

    arn: str
    function_name: str
    event: dict[str, Any]
    request_id: str
    error: BaseException | None = None
    result: Any = None
    duration: float = 0.0
    fault: str | None = None
    attempt: int | None = None
    #: What the function wrote (print, stderr, logging), as CloudWatch Logs would hold it. Not in
    #: the repr, which pytest prints in assertion messages: it may hold a secret value.
    logs: str = field(default="", repr=False)
    #: True when this invocation ran in a new execution environment (the function's init ran).
    cold_start: bool = False
    #: True when the handler was still running in real time past its timeout and was stopped.
    stopped: bool = False
    #: False when the handler never ran (a fault failed the step first, or it hung before).
    ran: bool = True

    @property
    def step(self) -> str | None:
        step = self.event.get("Step")
        return step if isinstance(step, str) else None

    @property
    def error_text(self) -> str | None:
        """The error as the history shows it, e.g. "TaskTimedOut: Task timed out after ..."."""
        if self.error is None:
            return None
        return f"{type(self.error).__name__}: {self.error}"

    @property
    def succeeded(self) -> bool:
        return self.error is None


def with_imported_handler(function: LambdaFunction, config: KitConfig) -> LambdaFunction:
    """Import a 'module:function' handler now, as Lambda's init would, so a typo fails here."""
    from dataclasses import replace

    from .loader import TargetError, load_target

    loaded = set(sys.modules)
    try:
        with function_environment(function, config):
            module, attr, handler = load_target(str(function.handler))
    except TargetError as error:
        raise LambdaRegistrationError(f"cannot register {function.handler!r}: {error}") from error
    # Modules this import loaded for the first time are as their own code left them: every later
    # rebind (by the test, a setup) is seen as it happens.
    LEDGER.watch([sys.modules[name] for name in set(sys.modules) - loaded], pristine=True)
    try:
        location, problem = location_of_target(module, attr), None
    except ColdStartUnavailable as error:
        location, problem = None, str(error)
    return replace(function, imported=handler, location=location, location_problem=problem)


def with_location(function: LambdaFunction) -> LambdaFunction:
    """Find the module attribute that holds a handler registered as an object."""
    from dataclasses import replace

    try:
        return replace(function, location=locate(function.resolve()))
    except ColdStartUnavailable as error:
        return replace(function, location_problem=str(error))


def import_handler(target: str) -> Handler:
    """Import 'package.module:function' or 'path/to/file.py:function'."""
    from .loader import load_callable

    handler: Handler = load_callable(target)
    return handler


@contextmanager
def function_environment(function: LambdaFunction, config: KitConfig) -> Iterator[None]:
    """The variables Lambda and the AWS rotation templates rely on, for the duration of one call."""
    variables = lambda_variables(config, function.name, function.env, function.memory_limit_in_mb)
    with patched_environ(variables):
        yield
