"""Staging-label operations on one secret's versions, with AWS's rules.

Every label is on at most one version; when AWSCURRENT moves, AWSPREVIOUS follows to the version
AWSCURRENT left. moto keeps versions as dicts with a ``version_stages`` list; these helpers are the
only code that edits those lists, so the rules hold everywhere, and so a secret's
:class:`~.version_table.VersionTable` always knows which versions carry labels: with one, every
helper here costs the handful of labelled versions, not the hundred a secret keeps. Any other
mapping of versions is scanned whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .version_table import VersionTable

# The steps the service invokes, in order: AWS's rotation protocol, as its labels are.
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")

AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"
AWSPREVIOUS = "AWSPREVIOUS"

Versions = Mapping[str, dict[str, Any]]


def labelled(versions: Versions) -> Sequence[str]:
    """The ids of the versions that carry at least one label, oldest first."""
    if isinstance(versions, VersionTable):
        return versions.labelled()
    return [version_id for version_id, v in versions.items() if v["version_stages"]]


def holder(versions: Versions, label: str) -> str | None:
    """The version that carries a label, if any (the newest, should two carry it)."""
    for version_id in reversed(labelled(versions)):
        if label in versions[version_id]["version_stages"]:
            return version_id
    return None


def labels_in_use(versions: Versions) -> set[str]:
    """Every label some version carries."""
    return {stage for vid in labelled(versions) for stage in versions[vid]["version_stages"]}


def attach(versions: Versions, label: str, version_id: str) -> None:
    """Put a label on one version, taking it off any other."""
    for other_id in labelled(versions):
        if other_id != version_id and label in versions[other_id]["version_stages"]:
            detach(versions, label, other_id)
    stages = versions[version_id]["version_stages"]
    if label not in stages:
        stages.append(label)
    _restaged(versions, version_id)


def detach(versions: Versions, label: str, version_id: str) -> None:
    stages = versions[version_id]["version_stages"]
    stages[:] = [s for s in stages if s != label]
    _restaged(versions, version_id)


def take_off(versions: Versions, label: str) -> None:
    """Take a label off every version that carries it."""
    for version_id in labelled(versions):
        if label in versions[version_id]["version_stages"]:
            detach(versions, label, version_id)


def replace_labels(versions: Versions, version_id: str, stages: Sequence[str]) -> None:
    """Give a version exactly these labels (leaving other versions as they are)."""
    versions[version_id]["version_stages"] = list(stages)
    _restaged(versions, version_id)


def _restaged(versions: Versions, version_id: str) -> None:
    if isinstance(versions, VersionTable):
        versions.restaged(version_id)


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
        version_id: tuple(versions[version_id]["version_stages"])
        for version_id in labelled(versions)
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
