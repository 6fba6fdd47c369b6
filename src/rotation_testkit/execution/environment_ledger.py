"""What a new execution environment finds in place: rebinds from outside carry over, the
function's own memory does not.

In a test, a module attribute the test (a fixture, ``monkeypatch``, a contract's ``--setup``) replaced
stands for the environment: the database or the service the function talks to, which a new Lambda
environment also finds. What the function stored during an invocation (a module global it rebound
in createSecret and reads in setSecret) is exactly what a cold start must lose.

The ledger tells the two apart by watching each module of a deployment package: bindings that change
between invocations were changed from outside; bindings that change while a function runs on the
module (a warm environment) were changed by the function. Bindings already replaced when the ledger
first sees a module are recognised by comparison with a fresh import (:func:`looks_replaced`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

_SIMPLE = (str, bytes, int, float, complex, bool, type(None), tuple, frozenset)

Origin = Literal["outside", "function"]


@dataclass
class _ModuleRecord:
    snapshot: dict[str, Any]
    #: Seen right after its own import: every later rebind is on record, nothing to guess.
    pristine: bool = False
    changed_by: dict[str, Origin] = field(default_factory=dict)


def _kind(value: Any) -> tuple[str, str]:
    kind = type(value)
    return (getattr(kind, "__module__", ""), getattr(kind, "__qualname__", kind.__name__))


def _own_definition(value: Any, module_name: str) -> bool:
    """A function or class the module's code defines itself (a fresh import makes a new one)."""
    return getattr(value, "__module__", None) == module_name and isinstance(
        getattr(value, "__qualname__", None), str
    )


def _equal(left: Any, right: Any) -> bool:
    try:
        return bool(left == right)
    except Exception:  # an object whose comparison fails is not the same value
        return False


def looks_replaced(original: Any, fresh: Any, module_name: str) -> bool:
    """Whether the binding the test sees differs from what the module's own code binds in a way
    that only a replacement explains (a fake client, another constant), not a fresh import's new
    objects (a new client, a new instance of the module's class)."""
    if original is fresh or _own_definition(original, module_name):
        return False
    if isinstance(original, ModuleType) and isinstance(fresh, ModuleType):
        return original.__name__ != fresh.__name__
    if _kind(original) != _kind(fresh):
        return True
    return isinstance(original, _SIMPLE) and not _equal(original, fresh)


class EnvironmentLedger:
    """Who last rebound each attribute of the watched modules: the outside, or a function."""

    def __init__(self) -> None:
        self._records: weakref.WeakKeyDictionary[ModuleType, _ModuleRecord] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def watch(self, modules: Iterable[ModuleType], *, pristine: bool = False) -> None:
        """Start watching modules (a registered function's package); known ones are kept.

        ``pristine``: the modules were just imported, so nothing in them was replaced yet.
        """
        with self._lock:
            for module in modules:
                if module not in self._records:
                    self._records[module] = _ModuleRecord(dict(vars(module)), pristine)

    def _note(self, module: ModuleType, origin: Origin) -> None:
        record = self._records.get(module)
        if record is None:
            return
        now = vars(module)
        before = record.snapshot
        if len(now) != len(before) or any(
            before.get(name, _MISSING) is not value for name, value in now.items()
        ):
            for name, value in now.items():
                if before.get(name, _MISSING) is not value:
                    record.changed_by[name] = origin
            record.snapshot = dict(now)

    def outside_changes(self, modules: Iterable[ModuleType]) -> None:
        """Before a function runs: what changed since it last ran was changed from outside."""
        with self._lock:
            for module in modules:
                self._note(module, "outside")

    def function_changes(self, modules: Iterable[ModuleType]) -> None:
        """After a function ran on these modules (a warm environment): what changed is its own."""
        with self._lock:
            for module in modules:
                self._note(module, "function")

    def carried_over(self, original: ModuleType, fresh: ModuleType) -> dict[str, Any]:
        """The bindings of ``original`` a fresh import of it must find in place."""
        with self._lock:
            record = self._records.get(original)
            changed_by = dict(record.changed_by) if record is not None else {}
            pristine = record is not None and record.pristine
        carried: dict[str, Any] = {}
        fresh_values = vars(fresh)
        for name, value in list(vars(original).items()):
            if name.startswith("__") or name not in fresh_values:
                continue
            origin = changed_by.get(name)
            if origin == "function":
                continue  # the function's own memory: lost with its environment
            if origin == "outside":
                keep = not _own_definition(value, original.__name__) and not _equal(
                    value, fresh_values[name]
                )
            elif pristine:
                keep = False  # unchanged since its own import
            else:
                keep = looks_replaced(value, fresh_values[name], original.__name__)
            if keep:
                carried[name] = value
        return carried


_MISSING = object()

#: One ledger for the process: modules are shared by every world that runs them.
LEDGER = EnvironmentLedger()
