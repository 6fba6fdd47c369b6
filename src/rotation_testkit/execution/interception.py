"""How botocore clients reach the in-memory world: one handler in every botocore session.

Loading the pytest plugin must stay cheap, so this module imports neither botocore nor moto. The
handler joins botocore's built-in handlers when botocore itself is imported (at once, if it already
is), so every session created afterwards, and every client, calls it before each API call. That
includes a client a module builds at import time, while pytest collects tests:

- while a world is active, a Secrets Manager call is answered by the world's request layer
  directly (:mod:`rotation_testkit.aws.direct`): no signing, no HTTP emulation;
- any other call is left to moto. A client built before moto was imported lacks moto's own
  handler, so it gets it here, on its first call inside a world (or inside a plain ``mock_aws``).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from ..aws import ports

_HANDLERS_MODULE = "botocore.handlers"
_MOTO_MODELS = "moto.core.models"

# Marks a client's event emitter once it has been checked for moto's handler. (botocore hands the
# handler a weak proxy of the emitter, which cannot be held in a WeakSet.)
_CHECKED = "_rotation_testkit_has_moto_handler"


# How clients built before a world resolved their credentials, when not from the environment
# the kit sets (a profile, credential_process, SSO): said once, at the end of a pytest run.
_resolved_before_a_world: set[str] = set()
_NOTED = "_rotation_testkit_credentials_noted"
_KIT_METHODS = ("env", "explicit")


# The endpoints the user's environment named when the kit was loaded (LocalStack, a proxy of AWS):
# a client built from that environment before a test's world is answered by the world all the
# same, as a client of AWS's own endpoint is.
_outer_endpoints: tuple[str, ...] = ()
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER")


def _remember_outer_endpoints() -> None:
    global _outer_endpoints
    found = {os.environ[name].rstrip("/") for name in _ENDPOINT_VARIABLES if os.environ.get(name)}
    _outer_endpoints = tuple(sorted(set(_outer_endpoints) | found))


def credentials_resolved_before_a_world() -> set[str]:
    return set(_resolved_before_a_world)


def _note_credentials(request_signer: Any) -> None:
    if getattr(request_signer, _NOTED, False):
        return
    method = getattr(getattr(request_signer, "_credentials", None), "method", None)
    if isinstance(method, str) and method not in _KIT_METHODS:
        _resolved_before_a_world.add(method)
    # A signer that takes no attributes is checked again next time.
    with contextlib.suppress(AttributeError):
        setattr(request_signer, _NOTED, True)


def route(model: Any, params: Any, request_signer: Any, **kwargs: Any) -> Any:
    """botocore's ``before-call`` handler: a response for the direct path, else None."""
    if ports.has_active_world():
        _note_credentials(request_signer)
        if model.service_model.service_name == "secretsmanager" and direct_path_enabled():
            from ..aws.direct import answer

            response = answer(model, params, request_signer, _outer_endpoints)
            if response is not None:
                return response
    elif not _moto_mock_active():
        return None
    _give_moto_handler(request_signer._event_emitter, model)
    return None


def direct_path_enabled() -> bool:
    return bool(ports.active_world().config.direct_path)


def _moto_mock_active() -> bool:
    models = sys.modules.get(_MOTO_MODELS)
    return bool(models is not None and models.botocore_stubber.enabled)


def _give_moto_handler(emitter: Any, model: Any) -> None:
    """Register moto's handler on a client built before moto was imported (once per client)."""
    if getattr(emitter, _CHECKED, False):
        return
    from moto.core.models import botocore_stubber

    service_id = model.service_model.service_id.hyphenize()
    try:
        present = emitter._emitter._handlers.prefix_search(f"before-send.{service_id}.{model.name}")
    except AttributeError:  # botocore's internals changed: never register moto's handler twice
        present = [botocore_stubber]
    if botocore_stubber not in present:
        emitter.register("before-send", botocore_stubber)
    setattr(emitter, _CHECKED, True)


# --- joining botocore's built-in handlers -------------------------------------------------------


# The list of built-in handlers the route was added to: every world's activation calls install(),
# and looking through that list each time was most of what installing cost.
_joined: list[Any] | None = None


def install() -> None:
    """Add :func:`route` to every botocore session created from now on; cheap and idempotent."""
    _remember_outer_endpoints()
    handlers = sys.modules.get(_HANDLERS_MODULE)
    if handlers is not None:
        if handlers.BUILTIN_HANDLERS is not _joined:
            _add_route(handlers)
    elif not any(isinstance(finder, _WhenImported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WhenImported())


def _add_route(handlers: ModuleType) -> None:
    global _joined
    builtin = handlers.BUILTIN_HANDLERS
    if not any(len(spec) > 1 and spec[1] is route for spec in builtin):
        # Last: botocore's own Stubber and the user's before-call handlers answer first.
        builtin.append(("before-call", route, handlers.REGISTER_LAST))
    # Stubs of other AWS services (rotation_kit.stub_aws) answer before moto too.
    from .aws_stubs import add_handlers

    add_handlers(builtin)
    _joined = builtin


class _WhenImported(importlib.abc.MetaPathFinder):
    """Finds botocore.handlers as Python would, and adds the route once its code has run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _HANDLERS_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _ThenAddRoute(spec.loader)
        return spec


class _ThenAddRoute(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _add_route(module)
        for finder in [f for f in sys.meta_path if isinstance(f, _WhenImported)]:
            sys.meta_path.remove(finder)

    def __getattr__(self, name: str) -> Any:
        # get_source, get_filename, ...: tracebacks and inspect still read botocore's file.
        return getattr(self._loader, name)
