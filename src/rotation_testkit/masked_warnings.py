"""Warnings a test that used the kit raised, with the world's secret values masked.

pytest prints every warning's text in its warnings summary, after the test's world has ended; a
rotator that warns about a credential (``warnings.warn(f"slow login with {password}")``) would put
it there in clear. The plugin keeps the masker of the last world's test and masks the warnings
pytest records for that test before the summary keeps them.
"""

from __future__ import annotations

import warnings

from .foundations.masking import Masker

_last: list[tuple[str, Masker]] = []  # (node id, its world's masker): one test at a time


def remember(nodeid: str, masker: Masker) -> None:
    """The test ``nodeid`` ended; its world's values mask the warnings recorded for it."""
    _last[:] = [(nodeid, masker)]


def mask_recorded(message: warnings.WarningMessage, nodeid: str) -> None:
    """Mask ``message`` in place if it was raised by the test whose masker was kept."""
    if not _last or _last[0][0] != nodeid:
        return
    masker = _last[0][1]
    warning = message.message
    text = str(warning)
    masked = masker.mask(text)
    if masked == text:
        return
    if isinstance(warning, Warning):
        # Same category, the masked text as its only argument (str() of a warning shows args).
        replacement = Warning.__new__(type(warning))
        replacement.args = (masked,)
        if str(replacement) == masked:
            message.message = replacement
            return
    message.message = masked
