"""Hermetic AWS: the environment, moto's interception, and a fast shared boto3 session.

A developer's real AWS configuration must never be used or reached: every ``AWS_*`` variable is
removed and replaced by static fake credentials, and the config and credentials files are pointed at
a path that does not exist. moto then answers every request in-process.

boto3, botocore and moto are imported when a world first needs them, not with this module: the
pytest plugin imports it when pytest loads it, in runs that may never use AWS at all.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..foundations.config import KitConfig
from . import interception

if TYPE_CHECKING:
    import boto3
    import botocore.loaders

FAKE_ACCESS_KEY_ID = "AKIAROTATIONTESTKIT0"
FAKE_SECRET_ACCESS_KEY = "rotation-testkit-fake-secret-access-key"
_NO_FILE = os.path.join(os.sep, "nonexistent", "rotation-testkit", "aws-config")

# Variables that would point a client at another account, endpoint or credential source.
_REMOVED_PREFIXES = ("AWS_",)
# A proxy would carry loopback calls elsewhere, or let a call out; either case is honoured.
_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def hermetic_environ(
    config: KitConfig, environ: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """The changes to make to the environment: a value to set, or None to remove."""
    current = os.environ if environ is None else environ
    changes: dict[str, str | None] = {
        key: None
        for key in current
        if key.startswith(_REMOVED_PREFIXES) or key.upper() in _PROXY_VARIABLES
    }
    changes.update(
        {
            "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_REGION": config.region,
            "AWS_CONFIG_FILE": _NO_FILE,
            "AWS_SHARED_CREDENTIALS_FILE": _NO_FILE,
            "AWS_EC2_METADATA_DISABLED": "true",
            "MOTO_ACCOUNT_ID": config.account_id,
        }
    )
    return changes


@contextmanager
def patched_environ(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Apply environment changes for the duration of the block (outside pytest's monkeypatch)."""
    environ = os.environ
    saved: dict[str, str | None] = {}
    kept: dict[str, str | None] = {}  # already as asked: restored only if the block changed them
    for key, value in changes.items():
        current = environ.get(key)
        if current == value:
            kept[key] = current
            continue
        saved[key] = current
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    try:
        yield
    finally:
        for key, value in kept.items():
            if environ.get(key) != value:
                saved[key] = value
        for key, value in saved.items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value


@functools.cache
def _shared_loader(data_path: str | None) -> botocore.loaders.Loader:
    import botocore.loaders

    return botocore.loaders.create_loader(data_path)


_shared_session: boto3.Session | None = None


def shared_session() -> boto3.Session:
    """One boto3 session per process, built under the hermetic environment and reused.

    Building a session and its first client costs tens of milliseconds (service models are parsed
    once per session); reusing one keeps a test's set-up to a few milliseconds.
    """
    import boto3

    global _shared_session
    if _shared_session is None:
        _shared_session = boto3.Session()
    return _shared_session


# Loopback stays reachable: a test may run its protected service (a database, a web server) locally.
_LOOPBACK_URL = r"https?://(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?(/|$)"
LOOPBACK = re.compile(f"^{_LOOPBACK_URL}")
_NOT_LOOPBACK = re.compile(f"^(?!{_LOOPBACK_URL})https?://")


def _refuse_network(request: Any) -> Exception:
    import requests

    return requests.ConnectionError(
        f"rotation-testkit blocked {request.method} {request.url}: tests never reach the network. "
        "Script the protected service's answers with the `protected_http` fixture, e.g. "
        f"protected_http.add({request.method!r}, {str(request.url).split('?')[0]!r}, 200), or run it on "
        "localhost."
    )


def block_network() -> None:
    """Refuse every non-AWS, non-loopback HTTP request made with requests while moto is active."""
    from moto.core.custom_responses_mock import CallbackResponse
    from moto.core.models import RESPONSES_METHODS, responses_mock

    responses_mock.passthru_prefixes = (LOOPBACK,)
    for method in RESPONSES_METHODS:
        # moto's CallbackResponse type ranks below plain ones, so protected_http routes win.
        responses_mock.add(
            CallbackResponse(method=method, url=_NOT_LOOPBACK, callback=_refuse_network)
        )


@contextmanager
def intercepted_aws() -> Iterator[None]:
    """moto's interception with the corrected backend, plus the shared session and loader.

    Must run inside the hermetic environment.
    """
    import boto3
    import botocore.session
    from moto.secretsmanager import models as moto_models

    from ..aws.api import ServedSecretsManagerBackend
    from .world_mock import WorldMock

    interception.install()  # for sessions created from now on, if the plugin did not already
    backends: Any = moto_models.secretsmanager_backends
    original_backend_class = backends.backend
    original_default_session = boto3.DEFAULT_SESSION
    original_create_loader = botocore.session.create_loader
    mock = WorldMock(config={"core": {"reset_boto3_session": False, "mock_credentials": False}})
    backends.backend = ServedSecretsManagerBackend
    botocore.session.create_loader = _shared_loader
    mock.start()
    block_network()
    boto3.DEFAULT_SESSION = shared_session()
    try:
        yield
    finally:
        mock.stop()
        backends.backend = original_backend_class
        botocore.session.create_loader = original_create_loader
        boto3.DEFAULT_SESSION = original_default_session
