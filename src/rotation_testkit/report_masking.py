"""No secret value in pytest's own report of a test that uses the kit.

pytest formats a failing test itself: the assertion explanation (``assert 'FhPEg...' ==
'expected'``), the locals of ``-l``, the diffs of ``-vv``, the captured output and logs. The kit
knows every value its world holds, so it masks them in the report's final text, whoever formatted
it. What the test wrote itself stays readable: a value that appears as a string literal in the test
module (the expected value, the initial password it created) is the test's own, not a secret to it.
Opt out with the ``show_values`` setting, for local debugging.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .foundations.masking import Masker

if TYPE_CHECKING:
    from .world import World


@functools.lru_cache(maxsize=256)
def _literals_of(path: str, mtime: float) -> frozenset[str]:
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return frozenset()
    return frozenset(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def test_literals(item: pytest.Item) -> frozenset[str]:
    """The strings the test module spells out itself."""
    path = getattr(item, "path", None)
    if not isinstance(path, Path) or path.suffix != ".py":
        return frozenset()
    try:
        return _literals_of(str(path), path.stat().st_mtime)
    except OSError:
        return frozenset()


def report_masker(world: World, literals: frozenset[str]) -> Masker | None:
    """The masker for a report: the world's values but the test's own literals; None when the
    user opted in to seeing values, or when there is nothing to hide."""
    if world.config.show_values:
        return None
    values = [value for value in world.secret_masker().values if value.text not in literals]
    return Masker.of(values) if values else None


def mask_report(report: pytest.TestReport, masker: Masker) -> None:
    """Mask the report's text in place: its failure representation and every section."""
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        masked = masker.mask(text)
        if masked != text:
            report.longrepr = masked
    report.sections = [(title, masker.mask(content)) for title, content in report.sections]
