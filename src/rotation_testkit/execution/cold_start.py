"""Cold starts: the deployment package imported afresh, as in a new Lambda execution environment.

In Lambda, module globals survive between invocations that land in the same (warm) execution
environment, and a new environment imports the deployment package again and looks the handler up
by its ``module.attr`` name (:mod:`.handler_location`). Here a cold start removes the package's
modules from ``sys.modules``, imports the handler's module again (its sibling modules are imported
afresh as it imports them), puts back the bindings that stand for the environment
(:mod:`.environment_ledger`), and restores ``sys.modules``, so the test still sees the modules it
imported. Modules outside the package (the kit, libraries, test code) are left alone.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

from .environment_ledger import LEDGER, EnvironmentLedger
from .handler_location import (
    ColdStartUnavailable,
    HandlerLocation,
    deployment_package,
    locate,
)
from .loader import ExitAtImport, exits_refused
from .runtime import HarnessFault, RuntimeExited

__all__ = [
    "ColdStartImportError",
    "ColdStartUnavailable",
    "cold_start_problem",
    "fresh_handler",
    "fresh_package",
]


class ColdStartImportError(HarnessFault, ImportError):
    """A module of the package imported once but not again: the harness's problem, not the
    function's (its first import worked)."""


def cold_start_problem(handler: Callable[..., Any]) -> str | None:
    """Why this handler cannot have cold starts, or None when it can."""
    try:
        locate(handler)
    except ColdStartUnavailable as error:
        return str(error)
    return None


class _Carrying(importlib.abc.Loader):
    """Runs a module's own loader, then puts back the bindings that stand for the environment,
    before any module importing it copies them (``from service import client``)."""

    def __init__(self, loader: Any, carry: Callable[[ModuleType], None]) -> None:
        self._loader = loader
        self._carry = carry

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._carry(module)


class _PackageFinder(importlib.abc.MetaPathFinder):
    """Finds the package's modules as usual, with a loader that carries bindings over."""

    def __init__(self, names: set[str], carry: Callable[[ModuleType], None]) -> None:
        self._names = names
        self._carry = carry

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Carrying(spec.loader, self._carry)
                return spec
        return None


def fresh_package(
    location: HandlerLocation,
    package: Sequence[str],
    ledger: EnvironmentLedger = LEDGER,
) -> ModuleType:
    """Import the handler's module afresh, with the rest of its package; ``sys.modules`` is left
    as it was. Bindings that stand for the environment are put back in each fresh module."""
    originals: dict[str, ModuleType] = {
        name: module for name in package if (module := sys.modules.get(name)) is not None
    }
    handler_module = originals.get(location.module)
    if handler_module is None:
        raise ColdStartUnavailable(
            f"the module {location.module!r} of the handler is no longer loaded"
        )

    def carry(fresh: ModuleType) -> None:
        original = originals.get(fresh.__name__)
        if original is not None:
            for name, value in ledger.carried_over(original, fresh).items():
                setattr(fresh, name, value)

    saved = dict(sys.modules)
    for name in originals:
        del sys.modules[name]
    finder = _PackageFinder(set(originals), carry)
    sys.meta_path.insert(0, finder)
    try:
        with exits_refused():
            if "." in location.module:
                fresh = importlib.import_module(location.module)
            else:
                fresh = _exec_from_spec(handler_module, carry)
    except ExitAtImport as exit_:
        raise RuntimeExited(exit_.code) from None  # as Lambda reports a runtime that exits
    except ImportError as error:
        raise ColdStartImportError(
            f"a cold start could not import {location.module!r} again: "
            f"{type(error).__name__}: {error}"
        ) from error
    finally:
        sys.meta_path.remove(finder)
        _restore(saved, originals)
    return fresh


def _exec_from_spec(module: ModuleType, carry: Callable[[ModuleType], None]) -> ModuleType:
    # A file target may be registered under a name of the kit's making: import it from its spec.
    spec = module.__spec__
    if spec is None or spec.loader is None:
        raise ColdStartUnavailable(f"the module {module.__name__!r} has no import spec")
    new = importlib.util.module_from_spec(spec)
    # Registered while it runs: dataclasses, pickling and relative imports look it up there.
    sys.modules[module.__name__] = new
    spec.loader.exec_module(new)
    carry(new)
    return new


def _restore(saved: Mapping[str, ModuleType], package: Mapping[str, ModuleType]) -> None:
    """Back to the modules the test imported; libraries imported for the first time stay."""
    for name in list(sys.modules):
        if name not in saved and (name in package or _inside(name, package)):
            del sys.modules[name]
    sys.modules.update({name: saved[name] for name in package})
    # Importing a submodule binds it on its parent package: where that parent is one the test
    # still holds, bind the test's copy back (``import pkg.mod as m`` reads that attribute).
    for name in package:
        parent_name, _, child = name.rpartition(".")
        parent = saved.get(parent_name) if parent_name else None
        if parent is not None and getattr(parent, child, None) is not saved[name]:
            setattr(parent, child, saved[name])


def _inside(name: str, package: Mapping[str, ModuleType]) -> bool:
    top = name.split(".")[0]
    return top in package


def fresh_handler(
    handler: Callable[..., Any] | HandlerLocation,
    package_modules: Sequence[str] = (),
    *,
    package: Sequence[str] | None = None,
    ledger: EnvironmentLedger = LEDGER,
) -> Callable[..., Any]:
    """The handler as a new execution environment finds it (a fresh import of its package)."""
    location = handler if isinstance(handler, HandlerLocation) else locate(handler)
    if package is None:
        package = deployment_package(location, package_modules)
    fresh = fresh_package(location, package, ledger)
    try:
        found: Callable[..., Any] = location.lookup(fresh)
    except AttributeError:
        raise ColdStartImportError(
            f"a fresh import of {location.module!r} has no attribute {location.attr!r}"
        ) from None
    return found
