"""Which in-memory world is active in this process.

moto builds backends itself, from a class, with no way to hand them our objects; the active world is
therefore found through this one module-level stack. Under pytest-xdist each worker is a process of
its own, so the stack is never shared between tests running in parallel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .world import World

_active: list[World] = []


class NoActiveWorld(RuntimeError):
    """The in-memory Secrets Manager was reached with no rotation-testkit world active."""


def push(world: World) -> None:
    _active.append(world)


def pop(world: World) -> None:
    if not _active or _active[-1] is not world:
        raise RuntimeError(
            "rotation-testkit worlds must be deactivated in the reverse order of activation"
        )
    _active.pop()


def active_world() -> World:
    if not _active:
        raise NoActiveWorld(
            "no rotation-testkit world is active: use the `secretsmanager` or `rotation_kit` "
            "fixture, or `with World().activate():` outside pytest. (In a contract check's setup, "
            "`rotation_testkit.active_kit()` is the check's own world.)"
        )
    return _active[-1]


def has_active_world() -> bool:
    return bool(_active)
