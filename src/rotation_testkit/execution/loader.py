"""Import a callable named as 'package.module:attr' or 'path/to/file.py:attr'."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any


class TargetError(ValueError):
    """A target that cannot be imported; the message says what to fix."""


class ExitAtImport(BaseException):
    """A module called ``os._exit`` while it was imported (a BaseException: no ``except Exception``
    in the module swallows it)."""

    def __init__(self, code: object) -> None:
        super().__init__(code)
        self.code = code


_exit_guard = threading.Lock()


@contextmanager
def exits_refused() -> Iterator[None]:
    """While a function's module is imported, ``os._exit`` raises :class:`ExitAtImport` instead
    of ending the kit's process with no word said."""
    with _exit_guard:
        original = os._exit

        def refuse(code: int) -> None:
            raise ExitAtImport(code)

        os._exit = refuse  # type: ignore[assignment]
        try:
            yield
        finally:
            os._exit = original


def load_callable(target: str) -> Any:
    """The object a target names; it must be callable."""
    return load_target(target)[2]


def load_target(target: str) -> tuple[ModuleType, str, Any]:
    """The module a target names, the attribute path in it, and the callable found there."""
    module_part, sep, attr = target.rpartition(":")
    # A Windows drive letter ("C:\\x.py:f") leaves a colon in module_part; rpartition handles it.
    if not sep or not module_part or not attr:
        raise TargetError(
            f"expected 'module:function' or 'path/to/file.py:function', got {target!r}."
        )
    module = _load_module(module_part)
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(
                f"{module_part!r} has no attribute {attr!r}: check the name after the colon."
            ) from None
    if not callable(obj):
        raise TargetError(f"{target!r} names a {type(obj).__name__}, not a function.")
    return module, attr, obj


def _load_module(spec: str) -> ModuleType:
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        return _load_file(Path(spec))
    try:
        with exits_refused():
            return importlib.import_module(spec)
    except ImportError as error:
        if error.name is not None and spec.startswith(error.name):
            raise TargetError(
                f"cannot import module {spec!r}: {error}. Is it installed, or on PYTHONPATH?"
            ) from error
        raise TargetError(_import_failed(repr(spec), error)) from error
    except (Exception, SystemExit, ExitAtImport) as error:
        raise TargetError(_import_failed(repr(spec), error)) from error


def _import_failed(what: str, error: BaseException) -> str:
    """An import that ran the module's code and failed there (or called sys.exit)."""
    if isinstance(error, ExitAtImport):
        return (
            f"importing {what} called os._exit({error.code!r}), which would end the process with "
            f"exit status {error.code!r}: a function's module must not exit when it is imported."
        )
    if isinstance(error, SystemExit):
        return (
            f"importing {what} called sys.exit({error.code!r}): a function's module must not "
            "exit when it is imported."
        )
    return f"importing {what} failed: {type(error).__name__}: {error}"


def _load_file(path: Path) -> ModuleType:
    """Import a file as Lambda would: under its own name, with its folder on the path.

    Its folder stays on sys.path (Lambda's task root does too), and the module is registered
    under its plain name, so `--setup other.py:f` and the rotator's own `import other` share
    one module and one state.
    """
    path = path.resolve()
    if not path.is_file():
        raise TargetError(f"no such file: {str(path)!r}.")
    name = path.stem
    loaded = sys.modules.get(name)
    if loaded is not None:
        if Path(getattr(loaded, "__file__", "") or "").resolve() == path:
            return loaded
        name = f"_rotation_testkit_{path.stem}_{abs(hash(str(path)))}"
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise TargetError(f"cannot import {str(path)!r} as a Python module.")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        with exits_refused():
            module_spec.loader.exec_module(module)
    except (Exception, SystemExit, ExitAtImport) as error:
        sys.modules.pop(name, None)
        raise TargetError(_import_failed(repr(str(path)), error)) from error
    return module
