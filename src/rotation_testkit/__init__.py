"""rotation-testkit: test AWS Secrets Manager rotation functions without AWS.

The package is arranged in layers, each importing only from those below it (see "How it is built"
in the docs): :mod:`.foundations`, :mod:`.aws` (the simulated Secrets Manager), :mod:`.execution`
(running functions as Lambda does), :mod:`.observation` (invariants, timeline), :mod:`.world` (one
test's parts wired together), and the faces users touch: :mod:`.plugin` (pytest), :mod:`.kit`,
:mod:`.assertions`, :mod:`.contract`, :mod:`.diagnose` and :mod:`.cli`.

The names below are the public ones; they are imported on first use, so that importing the package
(as pytest does when it loads the plugin) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _old_paths
from .execution import interception

_old_paths.install()
# Clients built from now on (by the plugin's users, a contract check's target, a script using
# World) answer from the in-memory world while one is active; inert otherwise. Cheap: neither
# botocore nor moto is imported here.
interception.install()

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .aws.ports import NoActiveWorld
    from .diagnose.replay import StateError, load_state
    from .execution.aws_stubs import AwsError, SimulatorLacksOperation
    from .execution.clock import ClockError
    from .execution.faults import FaultError, InjectedCrash, InjectedStepFailure
    from .execution.lambdas import Invocation, LambdaRegistrationError, TaskTimedOut
    from .execution.protected_http import RouteError
    from .foundations.config import ConfigError, KitConfig
    from .foundations.history import Event
    from .kit import RotationKit
    from .observation.invariants import Violation
    from .world import World

# public name: the module that defines it
_PUBLIC = {
    "AwsError": "execution.aws_stubs",
    "SimulatorLacksOperation": "execution.aws_stubs",
    "ClockError": "execution.clock",
    "ConfigError": "foundations.config",
    "Event": "foundations.history",
    "FaultError": "execution.faults",
    "InjectedCrash": "execution.faults",
    "InjectedStepFailure": "execution.faults",
    "Invocation": "execution.lambdas",
    "KitConfig": "foundations.config",
    "LambdaRegistrationError": "execution.lambdas",
    "NoActiveWorld": "aws.ports",
    "RotationKit": "kit",
    "RouteError": "execution.protected_http",
    "StateError": "diagnose.replay",
    "TaskTimedOut": "execution.lambdas",
    "Violation": "observation.invariants",
    "World": "world",
    "load_state": "diagnose.replay",
}


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'rotation_testkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def active_kit() -> RotationKit:
    """The kit of the world active right now: the test's, or a contract check's own.

    A contract check runs in a fresh world of its own; a ``setup`` function that has to arrange the
    protected service there (e.g. ``active_kit().protected_http.respond_with(...)``) reaches it here.
    """
    from .kit import RotationKit
    from .world import active_world

    return RotationKit(active_world())


__all__ = [
    "AwsError",
    "ClockError",
    "ConfigError",
    "Event",
    "FaultError",
    "InjectedCrash",
    "InjectedStepFailure",
    "Invocation",
    "KitConfig",
    "LambdaRegistrationError",
    "NoActiveWorld",
    "RotationKit",
    "RouteError",
    "SimulatorLacksOperation",
    "StateError",
    "TaskTimedOut",
    "Violation",
    "World",
    "__version__",
    "active_kit",
    "load_state",
]
