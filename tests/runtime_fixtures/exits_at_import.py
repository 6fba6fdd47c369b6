"""A function module that ends its process while it is imported."""

import os

os._exit(7)


def handler(event: object, context: object) -> None:  # pragma: no cover - never reached
    pass
