"""A handler wrapped by a decorator that does not use functools.wraps."""

from __future__ import annotations

from typing import Any

from shaped_service import RealClient

from .decorators import logged
from .steps import rotate

client = RealClient()


@logged
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    rotate(event, client)
