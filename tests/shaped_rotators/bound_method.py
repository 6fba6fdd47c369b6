"""A class-based rotator: the handler setting names a bound method, ``lambda_handler``."""

from __future__ import annotations

from typing import Any

from shaped_service import RealClient

from .steps import rotate

client = RealClient()


class Rotator:
    def __init__(self, name: str) -> None:
        self.name = name

    def handle(self, event: dict[str, Any], context: Any) -> None:
        rotate(event, client)


lambda_handler = Rotator("app").handle
