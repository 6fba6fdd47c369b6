"""How Lambda finds a handler: a module and an attribute name, and the deployment package around it.

Lambda's handler setting is ``module.attr``: a new execution environment imports the module (and so
the deployment package it belongs to) and looks the attribute up by that name. Whatever object the
attribute holds is the handler: a function, a bound method (``lambda_handler = Rotator().handle``), a
callable object, a ``functools.partial``, a decorated function with or without ``functools.wraps``.

A handler registered as a string is located by its own name. A handler registered as an object is
found by identity among the attributes of the module it came from, as if the user had written that
name in the handler setting.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import sysconfig
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import MethodType, ModuleType
from typing import Any


class ColdStartUnavailable(ValueError):
    """A handler that a new execution environment could not import again; the message says why
    and what to do."""


@dataclass(frozen=True)
class HandlerLocation:
    """Where a new execution environment finds the handler: ``module`` then ``attr`` in it."""

    module: str
    attr: str

    def __str__(self) -> str:
        return f"{self.module}:{self.attr}"

    def lookup(self, module: ModuleType) -> Any:
        found: Any = module
        for part in self.attr.split("."):
            found = getattr(found, part)
        return found


def location_of_target(module: ModuleType, attr: str) -> HandlerLocation:
    """The location of a handler named by a 'module:attr' or 'file.py:attr' target."""
    _require_importable(module, attr)
    return HandlerLocation(module.__name__, attr)


def locate(handler: Callable[..., Any]) -> HandlerLocation:
    """The module attribute that holds ``handler``, as a handler setting would name it.

    Raises :class:`ColdStartUnavailable` when no importable module holds it (a closure, a lambda,
    an object built inside a test function, a function defined in ``__main__``).
    """
    for module in _candidate_modules(handler):
        name = _attribute_holding(module, handler)
        if name is not None:
            _require_importable(module, name)
            return HandlerLocation(module.__name__, name)
    qualified = _by_qualified_name(handler)
    if qualified is not None:
        return qualified
    raise ColdStartUnavailable(_not_found_reason(handler))


def _same_handler(value: Any, handler: Any) -> bool:
    if value is handler:
        return True
    # Each attribute access makes a new bound method; two are the same when their instance and
    # function are (Python compares __self__ by identity).
    return isinstance(handler, MethodType) and isinstance(value, MethodType) and value == handler


def _attribute_holding(module: ModuleType, handler: Any) -> str | None:
    found: list[str] = []
    for name, value in list(vars(module).items()):
        if _same_handler(value, handler):
            found.append(name)
    if not found:
        return None
    # A public name is what a handler setting would use; 'lambda_handler' over a private alias.
    found.sort(key=lambda name: (name.startswith("_"), name))
    return found[0]


def _origins(handler: Any, depth: int = 0) -> Iterator[str]:
    """Names of modules the handler's code comes from, the most direct first."""
    if depth > 4:
        return
    module = handler.__dict__.get("__module__") if hasattr(handler, "__dict__") else None
    if not isinstance(module, str):
        module = getattr(handler, "__module__", None)
    if isinstance(module, str):
        yield module
    if isinstance(handler, MethodType):
        yield from _origins(handler.__func__, depth + 1)
        yield type(handler.__self__).__module__
    if isinstance(handler, functools.partial):
        yield from _origins(handler.func, depth + 1)
    wrapped = getattr(handler, "__wrapped__", None)
    if wrapped is not None and wrapped is not handler:
        yield from _origins(wrapped, depth + 1)
    # A decorator without functools.wraps: the function it wraps is in the wrapper's closure.
    for cell in getattr(handler, "__closure__", None) or ():
        try:
            content = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(content) and not isinstance(content, type):
            yield from _origins(content, depth + 1)
    if not inspect.isroutine(handler) and not isinstance(handler, functools.partial):
        yield type(handler).__module__  # a callable object: its class's module


def _candidate_modules(handler: Any) -> Iterator[ModuleType]:
    seen: set[str] = set()
    for name in _origins(handler):
        if name in seen or name in ("builtins", "functools"):
            continue
        seen.add(name)
        module = sys.modules.get(name)
        if module is not None:
            yield module


def _by_qualified_name(handler: Any) -> HandlerLocation | None:
    """A function reached through a class (``Rotator.handle`` as a static method): found by its
    qualified name in its own module."""
    module = sys.modules.get(getattr(handler, "__module__", None) or "")
    qualname = getattr(handler, "__qualname__", None)
    if module is None or not isinstance(qualname, str) or "<" in qualname or "." not in qualname:
        return None
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not handler:
        return None
    _require_importable(module, qualname)
    return HandlerLocation(module.__name__, qualname)


def _not_found_reason(handler: Any) -> str:
    qualname = getattr(handler, "__qualname__", None)
    what = qualname if isinstance(qualname, str) else type(handler).__name__
    if isinstance(qualname, str) and ("<locals>" in qualname or "<lambda>" in qualname):
        return (
            f"the handler {what!r} is defined inside a function (a closure or a lambda), so a "
            "new execution environment cannot import it again; define it at module level (or bind "
            "it to a module attribute, as Lambda's handler setting 'module.attr' names it) and "
            "register it as 'module:attr'"
        )
    return (
        f"the handler {what!r} is not held by any attribute of an importable module, so a new "
        "execution environment could not find it again; bind it to a module attribute "
        "(lambda_handler = ...) and register it as 'module:attr'"
    )


def _require_importable(module: ModuleType, attr: str) -> None:
    if module.__name__ == "__main__" or _spec_of(module) is None:
        raise ColdStartUnavailable(
            f"the module {module.__name__!r} of the handler {attr!r} cannot be imported again "
            "(it is the main script, or was not loaded from a file); move the handler to a "
            "module of its own and register it as 'module:attr'"
        )


def _spec_of(module: ModuleType) -> Any:
    spec = getattr(module, "__spec__", None)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return None
    return spec


# --- the deployment package ------------------------------------------------------------------


@functools.cache
def _installed_roots() -> tuple[str, ...]:
    # Read on first use: sysconfig takes tens of milliseconds, which every pytest run would pay.
    paths = sysconfig.get_paths()
    roots = {paths.get(key, "") for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    return tuple(os.path.normcase(os.path.abspath(root)) + os.sep for root in roots if root)


_KIT = __name__.split(".")[0]


def is_test_code(name: str) -> bool:
    """Test modules and conftest files: the test's side, never part of a deployment package."""
    last = name.rpartition(".")[2]
    return last == "conftest" or last.startswith("test_") or last.endswith("_test")


def _file_of(module: ModuleType) -> str | None:
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    return os.path.normcase(os.path.abspath(file))


def _belongs(name: str, roots: Iterable[str]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


#: Where test code lives besides ``sys.modules``: the pytest plugin adds its conftest modules
#: (several conftest files share the name ``conftest``, so ``sys.modules`` holds only the last).
TEST_CODE_SOURCES: list[Callable[[], Iterable[ModuleType]]] = []


def _test_modules() -> list[ModuleType]:
    found = {id(module): module for module in list(sys.modules.values()) if module is not None}
    for source in TEST_CODE_SOURCES:
        found.update({id(module): module for module in source()})
    return [module for module in found.values() if is_test_code(module.__name__)]


_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), tuple, frozenset, ModuleType)


def _objects_of(names: Iterable[str]) -> dict[int, str]:
    """The objects the modules hold themselves (a table, a fake, a client), by identity."""
    owners: dict[int, str] = {}
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            continue
        for key, value in list(vars(module).items()):
            # Dunder names hold what every module has (the builtins' namespace among them).
            if key.startswith("__") or not _made_by(value, name):
                continue
            owners.setdefault(id(value), name)
    return owners


_CONTAINERS = (dict, list, set, bytearray)


def _made_by(value: Any, name: str) -> bool:
    """Whether a module's value is its own state: a table it fills (``USERS = {}``), an instance
    of its own class (``DIRECTORY = FakeDirectory()``), a function or class it defines. Not what
    every module may hold alike (``typing.Any``, ``from __future__ import annotations``)."""
    if isinstance(value, _IMMUTABLE):
        return False
    if _is_definition(value):
        return getattr(value, "__module__", None) == name  # not json.loads imported here
    return type(value) in _CONTAINERS or getattr(type(value), "__module__", None) == name


def shared_with_tests(modules: Iterable[str]) -> set[str]:
    """Modules the test side uses itself (test modules, conftest files import them or objects of
    theirs, ``from fake_db import USERS``): they stand for the environment the function finds (a
    fake database the test also reads), not for its code."""
    wanted = set(modules)
    owners = _objects_of(wanted)
    shared: set[str] = set()
    for module in _test_modules():
        for key, value in list(vars(module).items()):
            if key.startswith("__"):
                continue
            if isinstance(value, ModuleType):
                origin: Any = value.__name__
            elif _is_definition(value):
                origin = getattr(value, "__module__", None)
            else:
                origin = owners.get(id(value))
            if isinstance(origin, str) and origin in wanted:
                shared.add(origin)
    return shared


def _is_definition(value: Any) -> bool:
    return inspect.isfunction(value) or inspect.isclass(value)


def deployment_package(
    location: HandlerLocation,
    package_modules: Sequence[str] = (),
    environment_modules: Sequence[str] = (),
) -> list[str]:
    """The loaded modules a new execution environment imports afresh for this handler.

    The handler's top-level package when it is in one; for a module on its own (a file target),
    the modules loaded from its folder. Never the kit, installed libraries, test code, modules the
    test side imports itself, or ``environment_modules``; always ``package_modules``.
    """
    handler_module = sys.modules.get(location.module)
    names = {location.module}
    if handler_module is not None and not is_test_code(location.module):
        if "." in location.module:
            top = location.module.split(".")[0]
            names |= {name for name in list(sys.modules) if _belongs(name, [top])}
        else:
            file = _file_of(handler_module)
            if file is not None:
                folder = os.path.dirname(file) + os.sep
                for name, module in list(sys.modules.items()):
                    found = _file_of(module) if module is not None else None
                    if (
                        found is not None
                        and found.startswith(folder)
                        and not found.startswith(_installed_roots())
                    ):
                        names.add(name)
    names = {
        name
        for name in names
        if not _belongs(name, [_KIT]) and not is_test_code(name) and sys.modules.get(name)
    }
    names -= {name for name in names if _belongs(name, environment_modules)}
    names -= shared_with_tests(names - {location.module})
    names.add(location.module)
    extra = {name for name in list(sys.modules) if _belongs(name, package_modules)}
    return sorted(names | extra)
