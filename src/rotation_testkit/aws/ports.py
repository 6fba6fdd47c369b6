"""What the simulated AWS needs from the world above it, and how it finds the active one.

moto builds backends and response objects itself, from classes, with no way to hand them our
objects. The simulated AWS therefore looks the active world up at run time, here, and sees it only
through the Protocols below: the world (a higher layer) implements them, and nothing in this layer
imports it. Under pytest-xdist each worker is a process of its own, so the stack of active worlds is
never shared between tests running in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..foundations.config import KitConfig
    from .secret import FaithfulSecret


class NoActiveWorld(RuntimeError):
    """The in-memory Secrets Manager was reached with no rotation-testkit world active."""


class StoreEvents(Protocol):
    """Changes of the data store that the rotation control plane must react to."""

    def on_new_current_value(self, secret: FaithfulSecret) -> None:
        """A new value became AWSCURRENT outside a rotation (a rotation in progress is abandoned)."""

    def deletion_scheduled(self, secret: FaithfulSecret) -> None:
        """DeleteSecret started a recovery window."""

    def deletion_cancelled(self, secret: FaithfulSecret) -> None:
        """RestoreSecret ended a recovery window early."""


class RotationControl(StoreEvents, Protocol):
    """The rotation control plane, as the request layer reaches it for RotateSecret and Cancel."""

    def rotate(
        self,
        secret: FaithfulSecret,
        *,
        token: str,
        lambda_arn: str | None,
        rules: dict[str, Any] | None,
        rotate_immediately: bool,
        managed_external: bool = False,
    ) -> None: ...

    def cancel(self, secret: FaithfulSecret) -> str | None: ...


class WorldPort(Protocol):
    """One active world, as every request and the data store see it."""

    @property
    def config(self) -> KitConfig: ...

    @property
    def control_plane(self) -> RotationControl: ...

    def before_api_call(self, operation: str, secret_id: Any) -> int:
        """A request arrived: inject a planned fault (by raising it) or reserve its history slot."""

    def after_api_call(
        self,
        operation: str,
        *,
        secret_id: str | None,
        parameters: Mapping[str, Any],
        error: str | None,
        slot: int,
    ) -> None:
        """The request was answered: record it and check the invariants."""


_active: list[WorldPort] = []


def push(world: WorldPort) -> None:
    _active.append(world)


def pop(world: WorldPort) -> None:
    if not _active or _active[-1] is not world:
        raise RuntimeError(
            "rotation-testkit worlds must be deactivated in the reverse order of activation"
        )
    _active.pop()


def active_world() -> WorldPort:
    if not _active:
        raise NoActiveWorld(
            "no rotation-testkit world is active: use the `secretsmanager` or `rotation_kit` "
            "fixture, or `with World().activate():` outside pytest. (In a contract check's setup, "
            "`rotation_testkit.active_kit()` is the check's own world.)"
        )
    return _active[-1]


def has_active_world() -> bool:
    return bool(_active)
