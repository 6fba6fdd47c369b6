"""Cold starts: a function's own code imported afresh, as in a new Lambda execution environment.

In Lambda, module globals survive between invocations that land in the same (warm) execution
environment, and a new environment imports the function's module again. Here a cold start executes
the function's module, and the modules the user names as part of its deployment package, into new
module objects, and looks the handler up again by name. Every other module (the test's fakes of the
protected service, the test module itself) is left alone and keeps its state; ``sys.modules`` is
restored afterwards, so the test still sees the module it imported.

These are plain functions so other tools (contract checks) can ask the same questions.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from .loader import ExitAtImport, exits_refused
from .runtime import RuntimeExited


class ColdStartUnavailable(ValueError):
    """A handler that cannot be imported afresh, so it cannot have cold starts."""


def handler_location(handler: Callable[..., Any]) -> tuple[ModuleType, str]:
    """The module that defines a handler and the attribute path to find it there again.

    Raises :class:`ColdStartUnavailable`, saying why, for a handler that cannot be found again by
    name: a closure, a lambda, a bound method of an instance, a callable object.
    """
    module_name = getattr(handler, "__module__", None)
    qualname = getattr(handler, "__qualname__", None)
    what = getattr(handler, "__name__", type(handler).__name__)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        raise ColdStartUnavailable(
            f"the handler {what!r} is a {type(handler).__name__} object, not a module-level "
            "function, so it cannot be imported afresh"
        )
    if "<locals>" in qualname or "<lambda>" in qualname:
        raise ColdStartUnavailable(
            f"the handler {qualname!r} is defined inside a function (a closure or a lambda), so a "
            "new execution environment cannot import it again; move it to module level, or "
            "register it as 'module:function'"
        )
    module = sys.modules.get(module_name)
    if module is None or module_name == "__main__" or _spec_of(module) is None:
        raise ColdStartUnavailable(
            f"the module {module_name!r} of the handler {qualname!r} cannot be imported again "
            "(it has no import spec)"
        )
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if not callable(found):
        raise ColdStartUnavailable(
            f"{module_name}.{qualname} is not found again by name in its module, so a new "
            "execution environment could not import it"
        )
    return module, qualname


def cold_start_problem(handler: Callable[..., Any]) -> str | None:
    """Why this handler cannot have cold starts, or None when it can."""
    try:
        handler_location(handler)
    except ColdStartUnavailable as error:
        return str(error)
    return None


def _spec_of(module: ModuleType) -> Any:
    spec = getattr(module, "__spec__", None)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return None
    return spec


def _belongs(name: str, package: Sequence[str]) -> bool:
    return any(name == part or name.startswith(part + ".") for part in package)


def fresh_handler(
    handler: Callable[..., Any], package_modules: Sequence[str] = ()
) -> Callable[..., Any]:
    """The handler from a fresh import of its module (and of ``package_modules``)."""
    module, qualname = handler_location(handler)
    fresh = fresh_import(module, package_modules)
    found: Any = fresh
    for part in qualname.split("."):
        found = getattr(found, part)
    result: Callable[..., Any] = found
    return result


def fresh_import(module: ModuleType, package_modules: Sequence[str] = ()) -> ModuleType:
    """Execute ``module`` anew into a new module object; ``package_modules`` are re-imported too
    when it imports them. ``sys.modules`` is left as it was."""
    spec = _spec_of(module)
    if spec is None:
        raise ColdStartUnavailable(f"the module {module.__name__!r} has no import spec")
    own = [module.__name__, *package_modules]
    saved = {name: mod for name, mod in sys.modules.items() if _belongs(name, own)}
    for name in saved:
        del sys.modules[name]
    try:
        new = importlib.util.module_from_spec(spec)
        # Registered while it runs: dataclasses, pickling and relative imports look it up there.
        sys.modules[module.__name__] = new
        try:
            with exits_refused():
                spec.loader.exec_module(new)
        except ExitAtImport as exit_:
            raise RuntimeExited(exit_.code) from None  # as Lambda reports a runtime that exits
        return new
    finally:
        for name in [name for name in sys.modules if _belongs(name, own)]:
            del sys.modules[name]
        sys.modules.update(saved)
