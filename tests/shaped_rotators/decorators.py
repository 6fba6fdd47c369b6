"""A decorator of the package, written without functools.wraps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def logged(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(event: dict[str, Any], context: Any) -> Any:
        logger.info("step %s", event.get("Step"))
        return function(event, context)

    return wrapper
