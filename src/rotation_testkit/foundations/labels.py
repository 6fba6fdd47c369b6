"""Staging-label operations on one secret's versions, with AWS's rules.

Every label is on at most one version; when AWSCURRENT moves, AWSPREVIOUS follows to the version
AWSCURRENT left. moto keeps versions as dicts with a ``version_stages`` list; these helpers are the
only code that edits those lists, so the rules hold everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The steps the service invokes, in order: AWS's rotation protocol, as its labels are.
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")

AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"
AWSPREVIOUS = "AWSPREVIOUS"

Versions = Mapping[str, dict[str, Any]]


def holder(versions: Versions, label: str) -> str | None:
    """The version that carries a label, if any."""
    # Newest first: labels sit on recent versions, and a secret keeps up to 100 old ones.
    ordered = reversed(versions) if isinstance(versions, dict) else reversed(list(versions))
    for version_id in ordered:
        if label in versions[version_id]["version_stages"]:
            return version_id
    return None


def attach(versions: Versions, label: str, version_id: str) -> None:
    """Put a label on one version, taking it off any other."""
    for other_id, version in versions.items():
        if other_id != version_id and label in version["version_stages"]:
            version["version_stages"][:] = [s for s in version["version_stages"] if s != label]
    stages = versions[version_id]["version_stages"]
    if label not in stages:
        stages.append(label)


def detach(versions: Versions, label: str, version_id: str) -> None:
    stages = versions[version_id]["version_stages"]
    stages[:] = [s for s in stages if s != label]


def move_current(versions: Versions, version_id: str) -> str | None:
    """Move AWSCURRENT to a version; AWSPREVIOUS goes to the version it left. Returns that version."""
    previous = holder(versions, AWSCURRENT)
    attach(versions, AWSCURRENT, version_id)
    if previous is not None and previous != version_id:
        attach(versions, AWSPREVIOUS, previous)
        return previous
    return None


def has_value(version: Mapping[str, Any]) -> bool:
    return "secret_string" in version or "secret_binary" in version


def same_value(
    version: Mapping[str, Any], secret_string: str | None, secret_binary: str | None
) -> bool:
    return (
        version.get("secret_string") == secret_string
        and version.get("secret_binary") == secret_binary
    )


def snapshot(versions: Versions) -> dict[str, tuple[str, ...]]:
    """Labels per labelled version, as an immutable copy (deprecated versions are left out)."""
    return {
        version_id: tuple(v["version_stages"])
        for version_id, v in versions.items()
        if v["version_stages"]
    }


def pending_rotation(versions: Versions) -> str | None:
    """The version AWSPENDING marks as an unfinished rotation: on a version other than AWSCURRENT's."""
    pending = holder(versions, AWSPENDING)
    if pending is not None and AWSCURRENT not in versions[pending]["version_stages"]:
        return pending
    return None


def short_id(version_id: str) -> str:
    """The first eight characters of a version id, as reports show it."""
    return version_id[:8]
