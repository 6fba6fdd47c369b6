"""``urllib`` requests to hosts other than loopback are refused, like ``requests`` ones.

moto's interception covers botocore and ``requests``; a rotator (or a library it uses) calling
``urllib.request.urlopen`` would otherwise reach the network from a test.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .sandbox import LOOPBACK


def _guarded(original: Any) -> Any:
    def open_if_loopback(handler: Any, request: urllib.request.Request) -> Any:
        url = request.full_url
        if not LOOPBACK.match(url):
            raise urllib.error.URLError(
                f"rotation-testkit blocked {request.get_method()} {url.split('?')[0]}: tests never "
                "reach the network. Run the protected service on localhost, or call it with "
                "requests and script its answers with the `protected_http` fixture."
            )
        return original(handler, request)

    return open_if_loopback


@contextmanager
def urllib_blocked() -> Iterator[None]:
    """Refuse non-loopback ``urllib`` requests for the duration of the block."""
    http, https = urllib.request.HTTPHandler.http_open, urllib.request.HTTPSHandler.https_open
    urllib.request.HTTPHandler.http_open = _guarded(http)  # type: ignore[method-assign]
    urllib.request.HTTPSHandler.https_open = _guarded(https)  # type: ignore[method-assign]
    try:
        yield
    finally:
        urllib.request.HTTPHandler.http_open = http  # type: ignore[method-assign]
        urllib.request.HTTPSHandler.https_open = https  # type: ignore[method-assign]
