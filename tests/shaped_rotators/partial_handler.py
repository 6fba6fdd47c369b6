"""A functools.partial as the handler."""

from __future__ import annotations

import functools
from typing import Any

from shaped_service import RealClient

from .steps import rotate

client = RealClient()


def handle(event: dict[str, Any], context: Any, *, service_name: str) -> None:
    rotate(event, client)


lambda_handler = functools.partial(handle, service_name="directory")
