"""The examples in README.md and docs/*.md run, so the documentation cannot drift from the code.

The convention, for every fenced ``python`` block of a page:

- every block must compile;
- a block that defines a ``def test_...`` function is a test file: it is run with pytest (through
  pytester, with the plugin loaded from its entry point) and every test in it must pass. Its
  ``title="test_name.py"`` attribute, when present, names the file;
- a block titled with a module name that does not start with ``test_`` (for example
  ``title="fixtures_rotator.py"``) is a support module: it is written next to each test file of the same
  page, so those can import it.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from rotation_testkit.config import KitConfig

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```python(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_TITLE = re.compile(r"""title=["']([^"']+)["']""")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    title: str | None
    code: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def tests(self) -> int:
        """How many test functions the block defines."""
        tree = ast.parse(self.code)
        return sum(
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
            for node in ast.walk(tree)
        )

    @property
    def is_support_module(self) -> bool:
        return bool(self.title and self.title.endswith(".py") and not _is_test_name(self.title))


def _is_test_name(filename: str) -> bool:
    return Path(filename).name.startswith("test_")


def extract_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        indent = match.group("indent")
        body = match.group("body")
        if indent:
            body = textwrap.dedent(body)
        title = _TITLE.search(match.group("info"))
        blocks.append(
            Block(
                page=page,
                line=text.count("\n", 0, match.start()) + 1,
                title=title.group(1) if title else None,
                code=body,
            )
        )
    return blocks


ALL_BLOCKS = [block for page in PAGES if page.exists() for block in extract_blocks(page)]
RUNNABLE = [block for block in ALL_BLOCKS if "def test_" in block.code]


def test_the_documentation_has_runnable_examples() -> None:
    """Guards against a page losing its examples, or this module finding none."""
    pages_with_tests = {block.page.name for block in RUNNABLE}
    assert {"README.md", "index.md", "fixtures.md", "history.md"} <= pages_with_tests


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda block: block.id)
def test_every_python_block_compiles(block: Block) -> None:
    compile(block.code, block.id, "exec")


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda block: block.id)
def test_the_example_passes(
    block: Block, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        Path(module.title).stem: module.code
        for module in ALL_BLOCKS
        if module.page == block.page and module.is_support_module and module.title
    }
    filename = block.title if block.title and _is_test_name(block.title) else "test_example.py"
    files[Path(filename).stem] = block.code
    for name in files:
        # This process may have imported a module of the same name (the project's own tests have
        # a test_hermetic.py, the bundled example a rotator.py): the example must get its own.
        monkeypatch.delitem(sys.modules, name, raising=False)
    pytester.makepyfile(**files)

    result = pytester.runpytest("-p", "no:cacheprovider")

    outcomes = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.OK, f"{block.id} failed:\n{result.stdout.str()}"
    assert outcomes.get("passed", 0) >= block.tests, outcomes


def test_every_inference_setting_is_documented() -> None:
    """Each KitConfig field documented as an inference has a row in faithfulness.md."""
    source = Path(inspect.getfile(KitConfig)).read_text(encoding="utf-8")
    inferences = set()
    comment: list[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            comment.append(stripped)
            continue
        field = re.match(r"(\w+)\s*:", stripped)
        if field and comment and "inference" in " ".join(comment).lower():
            inferences.add(field.group(1))
        comment = []
    assert inferences, "config.py documents no inference: has the comment convention changed?"
    assert inferences <= {f for f in KitConfig.__dataclass_fields__}

    page = (ROOT / "docs" / "faithfulness.md").read_text(encoding="utf-8")
    section = page.split("## Inferences", 1)[-1]
    missing = sorted(name for name in inferences if f"| `{name}` |" not in section)
    assert not missing, f"docs/faithfulness.md, section Inferences, lacks a row for {missing}"
