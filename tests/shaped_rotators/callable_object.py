"""A callable object as the handler."""

from __future__ import annotations

from typing import Any

from shaped_service import RealClient

from . import steps

client = RealClient()


class Handler:
    def __call__(self, event: dict[str, Any], context: Any) -> None:
        steps.rotate(event, client)


lambda_handler = Handler()
