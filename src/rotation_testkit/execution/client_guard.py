"""Clients built before a world was activated: refused, and said once.

A script that builds a boto3 client and then activates a world has a client that resolved the
machine's credentials (a ``credential_process`` may already have run) and AWS's real endpoint, in
a session the world's interception never joined. While a world is active, botocore requests that
would leave loopback can only come from such a client: they are refused with an error that says
so, and ``activate()`` warns once when boto3's default session already holds credentials.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .sandbox import FAKE_ACCESS_KEY_ID, LOOPBACK


class ClientBuiltBeforeActivate(RuntimeError):
    """A botocore request that would reach AWS itself while a world is active."""


class EarlyClientWarning(UserWarning):
    """boto3's default session resolved the machine's credentials before a world was active."""


_warned = False

EARLY_CLIENT_ADVICE = (
    "build clients inside `with world.activate():` (world.client() gives one), never before it"
)


def warn_about_early_clients() -> None:
    """Warn once per process when boto3's default session (made by ``boto3.client(...)`` in a
    script) already resolved credentials that are not the kit's."""
    global _warned
    boto3 = sys.modules.get("boto3")  # a process that never imported boto3 built no client
    default_session = getattr(boto3, "DEFAULT_SESSION", None)
    if _warned or default_session is None:
        return
    botocore_session = getattr(default_session, "_session", None)
    credentials = getattr(botocore_session, "_credentials", None)
    # Credentials resolved inside a hermetic environment are the kit's own fake ones.
    if credentials is None or getattr(credentials, "access_key", None) == FAKE_ACCESS_KEY_ID:
        return
    _warned = True
    warnings.warn(
        "a boto3 client was built before the rotation-testkit world was activated: it holds "
        "this machine's AWS credentials and endpoint, and its calls are refused while the world "
        f"is active; {EARLY_CLIENT_ADVICE}.",
        EarlyClientWarning,
        stacklevel=4,
    )


@contextmanager
def early_clients_refused() -> Iterator[None]:
    """Refuse botocore requests to anything but loopback for the duration of the block."""
    from botocore.httpsession import URLLib3Session

    original = URLLib3Session.send

    def send_if_loopback(session: Any, request: Any) -> Any:
        url = str(request.url)
        if not LOOPBACK.match(url):
            raise ClientBuiltBeforeActivate(
                f"rotation-testkit refused {request.method} {url.split('?')[0]}: a client the "
                "world does not answer (built before the world was activated, with the machine's "
                f"credentials and endpoint) tried to reach it. Tests never reach AWS: "
                f"{EARLY_CLIENT_ADVICE}."
            )
        return original(session, request)

    URLLib3Session.send = send_if_loopback  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        URLLib3Session.send = original  # type: ignore[method-assign]
