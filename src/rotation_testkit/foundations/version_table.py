"""One secret's versions, as moto keeps them, with an index of the versions that carry labels.

A secret keeps a hundred old versions or more, and only a handful carry a label. The service
looks labels up several times per API call (who holds AWSCURRENT, the labels to record, the
labels after a change), so it asks this table for the labelled versions instead of scanning all.

The index holds every version whose ``version_stages`` list is not empty. Adding or removing a
version keeps it right by itself; a change to the labels of a version already in the table must
be announced with :meth:`VersionTable.restaged`, which the helpers of :mod:`.labels` (the only code
that edits ``version_stages`` lists) do. (A list emptied in place without that is still noticed.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Version = dict[str, Any]

_MISSING: Any = object()


class VersionTable(dict[str, Version]):
    """Version id -> version record, oldest first (moto's layout), indexed by label."""

    __slots__ = ("_earliest", "_earliest_exact", "_labelled", "_next_position", "_position")

    def __init__(
        self, versions: Mapping[str, Version] | Iterable[tuple[str, Version]] = ()
    ) -> None:
        super().__init__()
        self._labelled: tuple[str, ...] = ()  # ids of the labelled versions, oldest first
        self._position: dict[str, int] = {}  # id -> rank in insertion order, to sort the index
        self._next_position = 0
        # A lower bound of the versions' creation dates, exact until the version it came from goes.
        self._earliest = float("inf")
        self._earliest_exact = True
        self.update(versions)

    # --- what the index answers -------------------------------------------------------------

    def labelled(self) -> tuple[str, ...]:
        """The ids of the versions that carry at least one label, oldest first."""
        labelled = self._labelled
        for version_id in labelled:
            if not self[version_id]["version_stages"]:
                # A list emptied in place, not through the label helpers: still seen.
                labelled = tuple(vid for vid in labelled if self[vid]["version_stages"])
                self._labelled = labelled
                break
        return labelled

    def restaged(self, version_id: str) -> None:
        """Note that the labels of a version in the table changed."""
        indexed = version_id in self._labelled
        if self[version_id]["version_stages"]:
            if not indexed:
                ids = (*self._labelled, version_id)
                self._labelled = tuple(sorted(ids, key=self._position.__getitem__))
        elif indexed:
            self._unindex(version_id)

    def _unindex(self, version_id: str) -> None:
        self._labelled = tuple(vid for vid in self._labelled if vid != version_id)

    def may_hold_created_by(self, moment: float) -> bool:
        """Whether a version may have been created at or before ``moment`` (``False``: none was)."""
        return self._earliest <= moment

    def earliest_created(self) -> float:
        """The earliest creation date of a version (``inf`` for an empty table); a scan of every
        version when the earliest one has gone since the last time."""
        if not self._earliest_exact:
            self._earliest = min([_created(v) for v in self.values()], default=float("inf"))
            self._earliest_exact = True
        return self._earliest

    # --- every way a dict gains or loses entries keeps the index -----------------------------

    def __setitem__(self, version_id: str, version: Version) -> None:
        replaced = self.get(version_id)
        if replaced is None:
            self._position[version_id] = self._next_position
            self._next_position += 1
        else:
            self._date_gone(replaced)
        super().__setitem__(version_id, version)
        self._earliest = min(self._earliest, _created(version))
        self.restaged(version_id)

    def __delitem__(self, version_id: str) -> None:
        version = self[version_id]
        super().__delitem__(version_id)
        if version_id in self._labelled:
            self._unindex(version_id)
        del self._position[version_id]
        self._date_gone(version)

    def _date_gone(self, version: Version) -> None:
        if _created(version) <= self._earliest:
            self._earliest_exact = False  # the earliest one may have gone: the bound may be low

    def pop(self, version_id: str, default: Any = _MISSING) -> Any:
        if version_id not in self:
            if default is _MISSING:
                raise KeyError(version_id)
            return default
        version = self[version_id]
        del self[version_id]
        return version

    def popitem(self) -> tuple[str, Version]:
        if not self:
            raise KeyError("popitem(): the version table is empty")
        version_id = next(reversed(self))
        return version_id, self.pop(version_id)

    def clear(self) -> None:
        super().clear()
        self._labelled = ()
        self._position.clear()
        self._earliest, self._earliest_exact = float("inf"), True

    def update(self, *args: Any, **kwargs: Any) -> None:
        for version_id, version in dict(*args, **kwargs).items():
            self[version_id] = version

    def setdefault(self, version_id: str, default: Any = None) -> Any:
        if version_id not in self:
            self[version_id] = default
        return self[version_id]

    def __ior__(self, other: Any) -> VersionTable:  # type: ignore[override,misc]
        self.update(other)
        return self

    def copy(self) -> VersionTable:
        return VersionTable(self)

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # copy, deepcopy and pickle rebuild the index from the entries, never share it.
        return (VersionTable, (dict(self),))


def _created(version: Mapping[str, Any]) -> float:
    created = version.get("createdate")
    # A record without a usable date counts as the oldest: pruning then looks at every version.
    return created if isinstance(created, int | float) else float("-inf")
