"""What the documentation states about the tool matches the tool.

Numbers and lists that come from the code (how many contract checks there are, the invariants,
the settings and their ini options) are read from the code here and compared with every page, so
a new check, invariant or setting cannot leave the documentation behind.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from rotation_testkit.config import KitConfig
from rotation_testkit.contract import CHECK_NAMES
from rotation_testkit.foundations.invariant_catalogue import INVARIANTS

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted(
        page
        for page in (ROOT / "examples").glob("**/README.md")
        if "node_modules" not in page.parts
    ),
]
CODE_BLOCK = re.compile(r"^([ \t]*)```[^\n]*\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _where(page: Path, text: str, index: int) -> str:
    return f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, index) + 1}"


def _listed_checks() -> int:
    import contextlib
    from io import StringIO

    from rotation_testkit.cli import main

    out = StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["check", "--list"]) == 0
    return len(out.getvalue().splitlines())


# --- the number of contract checks ----------------------------------------------------------------

# "20 checks", "20 named checks", "all 20 contract checks", "20 named scenarios".
CHECK_COUNT = re.compile(r"\b(\d+) (?:named |contract )*(?:checks|scenarios)\b")
# The first line of `rotation-testkit check`'s output, and its summary line.
RUN_HEADER = re.compile(r": (\d+) check\(s\)")
RUN_SUMMARY = re.compile(r"\b(\d+) passed, (\d+) failed(?:, (\d+) not applicable)?")


def test_check_list_prints_every_check() -> None:
    assert _listed_checks() == len(CHECK_NAMES) > 0


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_the_number_of_checks_a_page_states_is_the_tools(page: Path) -> None:
    text = _text(page)
    total = _listed_checks()
    wrong = [
        f"{_where(page, text, m.start())}: {m.group(0)!r}"
        for m in CHECK_COUNT.finditer(text)
        if int(m.group(1)) != total
    ]
    assert not wrong, f"`check --list` lists {total} checks; the page says otherwise: {wrong}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_sample_runs_add_up_to_the_checks_they_ran(page: Path) -> None:
    """A sample run shows every check, or says with --only which ones it ran; its summary adds up.

    A summary quoted in prose (outside a sample) speaks of a full run.
    """
    text = _text(page)
    total = _listed_checks()
    problems = []
    in_samples: set[int] = set()
    for block in CODE_BLOCK.finditer(text):
        body = block.group(2)
        headers = [int(n) for n in RUN_HEADER.findall(body)]
        summaries = list(RUN_SUMMARY.finditer(body))
        in_samples.update(range(block.start(), block.end()))
        if not headers and not summaries:
            continue
        ran = headers[0] if headers else total
        selected = body.count("--only ")
        if ran != total and selected != ran:
            problems.append(
                f"{_where(page, text, block.start())}: a run of {ran} check(s) whose command "
                f"does not select them with --only ({selected} given)"
            )
        for summary in summaries:
            counted = sum(int(n) for n in summary.groups() if n)
            if counted != ran:
                problems.append(f"{_where(page, text, block.start())}: {summary.group(0)!r}")
    for summary in RUN_SUMMARY.finditer(text):
        if summary.start() in in_samples:
            continue
        if sum(int(n) for n in summary.groups() if n) != total:
            problems.append(f"{_where(page, text, summary.start())}: {summary.group(0)!r}")
    assert not problems, f"`check --list` lists {total} checks: {problems}"


# --- the invariants ------------------------------------------------------------------------------


def test_the_invariants_page_lists_every_invariant_of_the_catalogue() -> None:
    text = _text(ROOT / "docs" / "invariants.md")
    rows = set(re.findall(r"^\| `([a-z-]+)` \|", text, re.MULTILINE))
    assert rows == {invariant.name for invariant in INVARIANTS}


# --- the settings --------------------------------------------------------------------------------


def _table_rows(text: str, heading: str) -> dict[str, str]:
    """First cell -> second cell of the first table after ``heading`` (cells without backticks)."""
    section = text[text.index(heading) :]
    table = re.search(r"^\|.*?(?=^\s*$)", section, re.MULTILINE | re.DOTALL)
    assert table is not None, heading
    rows = {}
    for line in table.group(0).splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1]
    return rows


def _documented_default(value: object) -> str:
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, timedelta):
        unit, amount = (
            ("minutes", value.seconds // 60)
            if value.seconds % 60 == 0
            else ("seconds", value.seconds)
        )
        return f"`timedelta({unit}={amount})`"
    return f"`{value!r}`"


def test_the_settings_table_lists_every_setting_with_its_default() -> None:
    rows = _table_rows(_text(ROOT / "docs" / "fixtures.md"), "## Settings")
    fields = {field.name: field.default for field in dataclasses.fields(KitConfig)}
    assert set(rows) == set(fields)
    assert {name: rows[name] for name in fields} == {
        name: _documented_default(default) for name, default in fields.items()
    }


def test_the_ini_table_lists_every_ini_option() -> None:
    from rotation_testkit import plugin

    rows = _table_rows(_text(ROOT / "docs" / "fixtures.md"), "The ini options, one per setting")
    options: dict[str, object] = plugin._INI_OPTIONS
    assert set(rows) == set(options)
    settings = {field.name for field in dataclasses.fields(KitConfig)}
    for option, meaning in rows.items():
        named = meaning.split()[0].strip("`")
        if named in settings:  # an ini option for a setting is named after it
            assert option == f"rotation_testkit_{named}"
        else:  # an option that is no setting says what it does, and that it is an ini option only
            assert "ini option only" in meaning, (option, meaning)


# --- install, file names, links ------------------------------------------------------------------

# `pip install rotation-testkit` (or with options before it): the package is on no index.
FROM_THE_INDEX = re.compile(r"pip install(?: -\S+)* rotation-testkit(?:\[[^\]]*\])?(?=[\s\"'`]|$)")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_no_page_installs_the_kit_from_the_package_index(page: Path) -> None:
    text = _text(page)
    found = [_where(page, text, m.start()) for m in FROM_THE_INDEX.finditer(text)]
    assert not found, f"rotation-testkit is on no package index; install it from git: {found}"


def test_every_example_file_name_means_one_file_across_the_site() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_docs_examples import ALL_BLOCKS

    seen: dict[str, str] = {}
    clashes = []
    for block in ALL_BLOCKS:
        if block.title is None:
            continue
        if block.title in seen:
            clashes.append(f"{block.title}: {seen[block.title]} and {block.id}")
        seen.setdefault(block.title, block.id)
    assert not clashes


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_the_front_pages_link_the_lambda_runtime_page_and_the_recipes(page: str) -> None:
    text = _text(ROOT / page)
    prefix = "docs/" if page == "README.md" else ""
    assert f"]({prefix}lambda-runtime.md)" in text
    assert f"]({prefix}recipes.md)" in text


# --- sample output of `rotation-testkit check` -----------------------------------------------------

CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
DURATION = re.compile(r"\((\d+(\.\d+)? s|\d+ min \d\d s)\)$| in (\d+(\.\d+)? s|\d+ min \d\d s)$")


@dataclasses.dataclass(frozen=True)
class Sample:
    """A command of a ``console`` block and the output the page shows under it."""

    where: str
    cwd: Path
    command: list[str]
    output: list[str]


def check_samples(page: Path) -> list[Sample]:
    """The ``$ rotation-testkit check ...`` commands of a page's console blocks; a ``$ cd DIR``
    before them (``&& ...`` after it is the reader's business) sets their directory."""
    import shlex

    text = _text(page)
    samples = []
    for block in CONSOLE_BLOCK.finditer(text):
        cwd = ROOT
        current: Sample | None = None
        for line in block.group(1).splitlines():
            if line.startswith("$ "):
                words = shlex.split(line[2:].split("&&")[0])
                if words[0] == "cd":
                    cwd = ROOT / words[1]
                current = None
                if words[:2] == ["rotation-testkit", "check"]:
                    current = Sample(_where(page, text, block.start()), cwd, words[2:], [])
                    samples.append(current)
            elif current is not None:
                current.output.append(line)
    return samples


def same_output(shown: list[str], real: list[str]) -> list[str]:
    """Where the output a page shows differs from the real one (empty: it matches).

    Durations may differ; a line ending in ``...`` shows the start of the real line; a line that
    is only ``...`` stands for any number of real lines.
    """

    def matches(sample: str, line: str) -> bool:
        sample, line = DURATION.sub("(time)", sample), DURATION.sub("(time)", line)
        if sample.endswith("..."):
            return line.startswith(sample[:-3])
        return sample == line

    position = 0
    skipping = False
    for sample in shown:
        if sample.strip() == "...":
            skipping = True
            continue
        while skipping and position < len(real) and not matches(sample, real[position]):
            position += 1
        if position >= len(real) or not matches(sample, real[position]):
            found = real[position] if position < len(real) else "the end of the output"
            return [f"shown {sample!r}, the tool printed {found!r}"]
        position += 1
        skipping = False
    if position < len(real) and not skipping:
        return [f"the page stops before {real[position]!r}"]
    return []


def _run_check_sample(sample: Sample, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import contextlib
    from io import StringIO

    from rotation_testkit.cli import main

    monkeypatch.chdir(sample.cwd)
    out = StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", *sample.command])
    return out.getvalue().splitlines()


SAMPLES = [sample for page in PAGES for sample in check_samples(page)]
PYTHON_SAMPLES = [sample for sample in SAMPLES if "--command" not in sample.command]
#: Samples of functions run by Node.js's runtime interface client (need `npm ci` first).
NODE_SAMPLES = [sample for sample in SAMPLES if "npx aws-lambda-ric" in " ".join(sample.command)]
NODE_EXAMPLE = ROOT / "examples" / "other_languages" / "node"


def test_the_pages_show_sample_runs() -> None:
    assert {s.where.split(":")[0] for s in PYTHON_SAMPLES} >= {"docs/contract.md"}
    assert {s.where.split(":")[0] for s in NODE_SAMPLES} == {"docs/other-languages.md"}
    assert len(NODE_SAMPLES) == 2  # the rotator, and its buggy twin


@pytest.mark.parametrize("sample", PYTHON_SAMPLES, ids=lambda sample: sample.where)
def test_a_sample_run_is_what_the_tool_prints(
    sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rotators

    try:
        real = _run_check_sample(sample, monkeypatch)
    finally:
        rotators.reset_protected()
    assert not same_output(sample.output, real), "\n".join(real)


@pytest.mark.parametrize("sample", NODE_SAMPLES, ids=lambda sample: sample.where)
def test_a_node_sample_run_is_what_the_tool_prints(
    sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import shutil

    missing = [
        why
        for why, absent in (
            ("Node.js (npx) is not installed", shutil.which("npx") is None),
            (
                f"the npm packages are not installed: run `npm ci` in {NODE_EXAMPLE}",
                not (NODE_EXAMPLE / "node_modules" / "aws-lambda-ric").is_dir(),
            ),
        )
        if absent
    ]
    if missing:
        if os.environ.get("ROTATION_TESTKIT_REQUIRE_NODE") == "1":
            pytest.fail("; ".join(missing))
        pytest.skip("; ".join(missing))
    real = _run_check_sample(sample, monkeypatch)
    assert not same_output(sample.output, real), "\n".join(real)


def test_the_sample_comparison_notices_a_changed_line() -> None:
    real = ["[1/2] PASS  one  (0.10 s)", "  detail", "more", "1 passed, 0 failed in 0.20 s"]
    assert not same_output(["[1/2] PASS  one  (9.99 s)", "...", "1 passed, 0 failed in 1 s"], real)
    assert not same_output(["[1/2] PASS  one  (0.1 s)", "  det...", "...", "1 passed, ..."], real)
    assert same_output(["[1/2] FAIL  one  (0.10 s)", "..."], real)
    assert same_output(["[1/2] PASS  one  (0.10 s)", "  detail"], real)  # stops early
    assert same_output(["[1/2] PASS  one  (0.10 s)", "...", "2 passed, 0 failed in 1 s"], real)


def test_the_recipes_page_is_in_the_site_and_indexes_the_common_tasks() -> None:
    yaml = pytest.importorskip("yaml")
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    assert {"Recipes": "recipes.md"} in nav
    text = _text(ROOT / "docs" / "recipes.md")
    for task, target in (
        ("calls another AWS service", "lambda-runtime.md#other-aws-services"),
        ("multi-user, with a master secret", "contract.md#multi-user-rotators"),
        ("Node.js", "other-languages.md#nodejs-end-to-end"),
        ("a stuck rotation in production", "stuck-pending.md"),
    ):
        row = next((line for line in text.splitlines() if task in line), "")
        assert target in row, (task, row)
