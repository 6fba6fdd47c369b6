"""Module paths of rotation-testkit 0.1, before the package was arranged in layers.

``import rotation_testkit.world`` style imports written against 0.1 keep working: each old path is
an alias of the module that now holds the code (the same module object, so patching either name
patches both). New code should import from :mod:`rotation_testkit` or the layer packages.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

MOVED: dict[str, str] = {
    "rotation_testkit.labels": "rotation_testkit.foundations.labels",
    "rotation_testkit.schedule": "rotation_testkit.foundations.schedule",
    "rotation_testkit.cron": "rotation_testkit.foundations.cron",
    "rotation_testkit.history": "rotation_testkit.foundations.history",
    "rotation_testkit.config": "rotation_testkit.foundations.config",
    "rotation_testkit.backend": "rotation_testkit.aws.backend",
    "rotation_testkit.responses": "rotation_testkit.aws.api",
    "rotation_testkit.service": "rotation_testkit.aws.rotation",
    "rotation_testkit.scheduler": "rotation_testkit.aws.scheduler",
    "rotation_testkit.runtime": "rotation_testkit.aws.ports",
    "rotation_testkit.lambdas": "rotation_testkit.execution.lambdas",
    "rotation_testkit.loader": "rotation_testkit.execution.loader",
    "rotation_testkit.sandbox": "rotation_testkit.execution.sandbox",
    "rotation_testkit.clock": "rotation_testkit.execution.clock",
    "rotation_testkit.faults": "rotation_testkit.execution.faults",
    "rotation_testkit.protected_http": "rotation_testkit.execution.protected_http",
    "rotation_testkit.invariants": "rotation_testkit.observation.invariants",
    "rotation_testkit.timeline": "rotation_testkit.observation.timeline",
    "rotation_testkit.state": "rotation_testkit.diagnose.replay",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target
        self.own_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the old name's spec on the module: give it its own back.
        module.__spec__ = self.own_spec


class OldPathFinder(importlib.abc.MetaPathFinder):
    """Answers the old module paths with the modules that now hold their code."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))


def install() -> None:
    if not any(isinstance(finder, OldPathFinder) for finder in sys.meta_path):
        sys.meta_path.append(OldPathFinder())
