"""The rotation invariants by name: what users can turn off, and what each one promises.

The catalogue is plain data so that settings can check invariant names without importing the
checker (:mod:`rotation_testkit.observation.invariants`), which sits in a higher layer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Invariant:
    name: str
    description: str


INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "one-current-with-value", "Exactly one version carries AWSCURRENT, and it has a value."
    ),
    Invariant(
        "current-moves-only-in-finish",
        "During a rotation AWSCURRENT moves only in finishSecret, and only to the rotation's token.",
    ),
    Invariant(
        "pending-value-stable",
        "Once the pending value is written, it does not change for the rest of the rotation.",
    ),
    Invariant(
        "valid-end-state",
        "A finished rotation leaves AWSPENDING on AWSCURRENT's version or on no version.",
    ),
    Invariant("new-value-differs", "A rotation's new AWSCURRENT value differs from the old one."),
    Invariant(
        "pending-keeps-json-keys",
        "The pending secret keeps every key of the current JSON secret.",
    ),
    Invariant(
        "current-accepted-by-service",
        "With a probe, the protected service accepts the AWSCURRENT credentials at every step boundary.",
    ),
    Invariant(
        "no-secret-in-logs",
        "The function never writes a secret value (a plain secret, or a credential field of a JSON "
        "secret) to its logs: CloudWatch Logs are readable by far more people than the secret.",
    ),
)
INVARIANT_NAMES = frozenset(invariant.name for invariant in INVARIANTS)
_BY_NAME = {invariant.name: invariant for invariant in INVARIANTS}


def description_of(name: str) -> str:
    return _BY_NAME[name].description


class UnknownInvariant(ValueError):
    pass


def check_names(names: object) -> frozenset[str]:
    """Validate a collection of invariant names given by a user (marker, ini, configure)."""
    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n]
    if not isinstance(names, (list, tuple, set, frozenset)):
        raise UnknownInvariant(f"expected a list of invariant names, got {names!r}.")
    unknown = sorted(set(map(str, names)) - INVARIANT_NAMES)
    if unknown:
        raise UnknownInvariant(
            f"unknown invariant(s) {', '.join(unknown)}; known: {', '.join(sorted(INVARIANT_NAMES))}."
        )
    return frozenset(map(str, names))
