"""Import a callable named as 'package.module:attr' or 'path/to/file.py:attr'."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any


class TargetError(ValueError):
    """A target that cannot be imported; the message says what to fix."""


def load_callable(target: str) -> Any:
    """The object a target names; it must be callable."""
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
    return obj


def _load_module(spec: str) -> Any:
    if spec.endswith(".py") or "/" in spec or "\\" in spec:
        path = Path(spec).resolve()
        if not path.is_file():
            raise TargetError(f"no such file: {spec!r}.")
        name = f"_rotation_testkit_target_{path.stem}_{abs(hash(str(path)))}"
        if name in sys.modules:
            return sys.modules[name]
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise TargetError(f"cannot import {spec!r} as a Python module.")
        module = importlib.util.module_from_spec(module_spec)
        # Let the file import its siblings, as Lambda's task root allows.
        sys.path.insert(0, str(path.parent))
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as error:
            sys.modules.pop(name, None)
            raise TargetError(
                f"importing {spec!r} failed: {type(error).__name__}: {error}"
            ) from error
        finally:
            sys.path.remove(str(path.parent))
        return module
    try:
        return importlib.import_module(spec)
    except ImportError as error:
        raise TargetError(
            f"cannot import module {spec!r}: {error}. Is it installed, or on PYTHONPATH?"
        ) from error
