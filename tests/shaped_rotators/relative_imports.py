"""A plain function whose logic lives in sibling modules, reached with relative imports."""

from __future__ import annotations

from typing import Any

from shaped_service import RealClient

from . import steps as _steps

client = RealClient()


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    _steps.rotate(event, client)
