"""rotation-testkit: test AWS Secrets Manager rotation functions without AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .kit import RotationKit

__version__ = "0.1.0"


def active_kit() -> RotationKit:
    """The kit of the world active right now: the test's, or a contract check's own.

    A contract check runs in a fresh world of its own; a ``setup`` function that has to arrange the
    protected service there (e.g. ``active_kit().protected_http.respond_with(...)``) reaches it here.
    """
    from .kit import RotationKit
    from .runtime import active_world

    return RotationKit(active_world())


__all__ = ["__version__", "active_kit"]
