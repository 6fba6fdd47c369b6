"""Is production's failure reproduced? The same step and error type, and the same message where
the message is the function's own (an AWS error's message names ARNs and tokens, not the bug)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..diagnose import ProductionFailure
from .run import Outcome

__all__ = ["Verdict", "compare"]

# Messages botocore writes for an AWS error: the service's words, not the function's.
_AWS_MESSAGE = re.compile(r"An error occurred \(\w+\)|when calling the \w+ operation")


@dataclass(frozen=True)
class Verdict:
    reproduced: bool
    #: Why, in one or two sentences.
    explanation: str


def _same_message(production: str | None, local: str | None) -> bool:
    def plain(text: str | None) -> str:
        return " ".join((text or "").strip().strip("'\"").split())

    return plain(production) == plain(local)


def _function_message(failure: ProductionFailure) -> bool:
    return failure.outside_cause is None and not _AWS_MESSAGE.search(failure.message or "")


def compare(production: ProductionFailure | None, local: Outcome) -> Verdict:
    where = f"at {local.step}" if local.step else "before any step ran"
    if local.succeeded:
        return Verdict(
            False,
            "the reattempt succeeded: this code recovers from the saved state, so Secrets "
            "Manager's next reattempt would unblock production with it.",
        )
    if production is None or production.error_type is None:
        return Verdict(
            True,
            f"the evidence shows no failure to compare with; the reattempt fails {where} with "
            f"{local.error_type}, so the saved state stays stuck with this code.",
        )
    said = f"{production.error_type}" + (f" at {production.step}" if production.step else "")
    if production.step is not None and local.step != production.step:
        return Verdict(
            False,
            f"production failed with {said}, but the reattempt failed elsewhere: {where} with "
            f"{local.error}.",
        )
    if local.error_type != production.error_type:
        return Verdict(
            False,
            f"production failed with {said}, but the reattempt failed {where} with a different "
            f"error: {local.error}.",
        )
    if _function_message(production) and not _same_message(production.message, local.message):
        return Verdict(
            False,
            f"production failed with {said} ({production.message}), and the reattempt {where} "
            f"with the same error type but another message: {local.message}.",
        )
    return Verdict(True, f"the reattempt fails {where} with {local.error_type}, as production did.")
