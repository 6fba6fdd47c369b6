"""What the rotation control plane needs from the world it runs in.

The world (a higher layer) implements :class:`RotationHost`; the control plane never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..foundations.config import KitConfig
    from .backend import FaithfulSecretsManagerBackend
    from .secret import FaithfulSecret


class StepOutcome(Protocol):
    """How one invocation of the rotation function ended."""

    @property
    def error(self) -> BaseException | None: ...

    @property
    def error_text(self) -> str | None: ...


class RotationHost(Protocol):
    """What the control plane needs from the world it runs in (the world implements this)."""

    @property
    def config(self) -> KitConfig: ...

    @property
    def backend(self) -> FaithfulSecretsManagerBackend: ...

    def lookup_function(self, arn: str) -> object | None:
        """The registered rotation function an ARN designates, if any."""

    def invoke(
        self, function: Any, event: Mapping[str, Any], *, attempt: int | None = None
    ) -> StepOutcome:
        """Invoke the rotation function with one step's event."""

    def require_clock(self, why: str) -> None:
        """Refuse (with ``why``) when the fake clock is not running."""

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
    ) -> object:
        """Log one event in the history, under CloudTrail's name."""

    def check_invariants(self, secret: FaithfulSecret, *, after: str) -> None:
        """Judge the labels now, if a step is running."""

    def rotation_started(self, secret: FaithfulSecret, token: str) -> None:
        """A rotation begins: the invariants start watching it."""

    def rotation_ended(
        self,
        secret: FaithfulSecret,
        *,
        succeeded: bool,
        after: str,
        step: str | None = None,
        attempt: int | None = None,
    ) -> None:
        """A rotation ended (succeeded, failed, abandoned or cancelled): judge its end state."""
