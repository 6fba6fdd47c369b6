"""A sibling module where ``sibling_memory`` keeps state (its bug)."""

from __future__ import annotations

PENDING: dict[str, dict[str, str]] = {}
