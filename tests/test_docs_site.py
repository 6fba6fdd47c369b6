"""The documentation site: install instructions, the API reference, the header, code widths.

`mkdocs build --strict` itself runs in CI (.ci/run); these checks keep what it builds honest.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import rotation_testkit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
SITE_PAGES = sorted((ROOT / "docs").glob("*.md"))
#: About what the content column shows of a code line at mkdocs-material's widest layout.
COLUMN = 80

_PYTHON = re.compile(
    r"^(?P<indent>[ \t]*)```python[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


def _site() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    return config


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def test_the_header_links_the_repository_the_package_names() -> None:
    assert _site()["repo_url"] == _project()["urls"]["Repository"]


def test_the_header_shows_the_name_and_the_version() -> None:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None
    assert spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)

    config = hooks.on_config({"site_name": "rotation-testkit", "extra": {}})

    assert config["site_name"] == f"rotation-testkit {rotation_testkit.__version__}"
    assert rotation_testkit.__version__ == _project()["version"]
    assert "docs/hooks.py" in _site()["hooks"]


def test_the_install_instructions_work_without_a_package_index() -> None:
    index = (ROOT / "docs" / "index.md").read_text()
    repository = _project()["urls"]["Repository"]

    assert f'pip install "rotation-testkit @ git+{repository}@main"' in index
    assert f"git clone {repository}\npip install ./rotation-testkit" in index
    assert "pip install rotation-testkit\n" not in index  # no package on the index yet


def test_the_api_reference_is_generated_from_docstrings() -> None:
    site = _site()
    plugins = {next(iter(p)) if isinstance(p, dict) else p for p in site["plugins"]}
    assert "mkdocstrings" in plugins
    assert {"API reference": "api.md"} in site["nav"]
    assert any(
        dep.startswith("mkdocstrings[python]") for dep in _project()["optional-dependencies"]["dev"]
    )
    api = (ROOT / "docs" / "api.md").read_text()
    documented = set(re.findall(r"^::: (\S+)$", api, re.MULTILINE))
    for name in ("RotationKit", "KitConfig", "RotationClock", "FaultPlan", "LambdaRegistry"):
        assert any(target.endswith(f".{name}") for target in documented), name
    assert "rotation_testkit.assertions" in documented
    for target in documented:  # every target exists, so the build cannot silently skip one
        module, _, attribute = target.rpartition(".")
        try:
            found = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            found = importlib.import_module(target)
        assert found is not None


def test_code_blocks_wrap_instead_of_overflowing_the_column() -> None:
    site = _site()
    assert "stylesheets/extra.css" in site["extra_css"]
    css = (ROOT / "docs" / "stylesheets" / "extra.css").read_text()
    assert re.search(r"pre > code\s*\{[^}]*white-space:\s*pre-wrap", css)


@pytest.mark.parametrize("page", SITE_PAGES, ids=lambda page: page.name)
def test_python_examples_fit_the_content_column(page: Path) -> None:
    too_long = [
        line
        for match in _PYTHON.finditer(page.read_text(encoding="utf-8"))
        for line in match.group("body").splitlines()
        # An ARN cannot be broken; such a line wraps in the page instead.
        if len(line) > COLUMN and "arn:aws:" not in line
    ]
    assert too_long == [], f"lines longer than {COLUMN} characters in {page.name}"


def test_the_formatter_keeps_the_examples_in_the_column() -> None:
    # ruff formats the Python blocks of the pages; docs/ruff.toml gives it the column's width.
    ruff = tomllib.loads((ROOT / "docs" / "ruff.toml").read_text())
    assert ruff["line-length"] == COLUMN
    assert ruff["extend"] == "../pyproject.toml"
