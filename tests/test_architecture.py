"""The package's structure: layers that import one way, no cycles, stable public paths."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import rotation_testkit
from rotation_testkit._old_paths import MOVED
from rotation_testkit.foundations.config import ConfigError, KitConfig

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("foundations", "aws", "execution", "observation", "world")


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("rotation_testkit", cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in graph.modules:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_another_that_imports_it_back() -> None:
    # grimp reads every import statement, those under TYPE_CHECKING included.
    assert _cycles(_graph()) == []


def test_each_layer_imports_only_from_the_layers_below_it() -> None:
    graph = _graph()
    wrong = []
    for lower_index, lower in enumerate(LAYERS):
        for higher in LAYERS[lower_index + 1 :]:
            chain = graph.find_shortest_chain(
                importer=f"rotation_testkit.{lower}", imported=f"rotation_testkit.{higher}"
            )
            if chain:
                wrong.append(" -> ".join(chain))
    assert wrong == []


def test_the_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.skip("lint-imports is not installed in this environment (pip install -e '.[dev]')")
    result = subprocess.run(
        [str(lint_imports), "--no-logo", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert result.stdout.count("KEPT") >= 4


def test_the_data_store_never_runs_a_rotation_itself() -> None:
    # RotateSecret and CancelRotateSecret reach the control plane from the request layer.
    from rotation_testkit.aws.api import FaithfulSecretsManagerResponse
    from rotation_testkit.aws.backend import FaithfulSecretsManagerBackend

    assert "rotate_secret" not in vars(FaithfulSecretsManagerBackend)
    assert "cancel_rotate_secret" not in vars(FaithfulSecretsManagerBackend)
    assert "rotate_secret" in vars(FaithfulSecretsManagerResponse)
    assert "cancel_rotate_secret" in vars(FaithfulSecretsManagerResponse)
    graph = _graph()
    assert not graph.find_shortest_chain(
        importer="rotation_testkit.aws.backend", imported="rotation_testkit.aws.rotation"
    )


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_an_old_module_path_is_the_module_that_now_holds_the_code(old: str, new: str) -> None:
    old_module = importlib.import_module(old)
    assert old_module is importlib.import_module(new)
    assert old_module.__spec__ is not None
    assert old_module.__spec__.name == new, "the module keeps its own spec"


def test_every_public_name_resolves_from_the_package() -> None:
    for name in rotation_testkit.__all__:
        assert getattr(rotation_testkit, name) is not None, name
    assert rotation_testkit.World.__module__ == "rotation_testkit.world.world"
    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        rotation_testkit.NoSuchThing  # noqa: B018


def test_the_command_line_path_never_imports_pytest() -> None:
    code = (
        "import sys\n"
        "import rotation_testkit.cli, rotation_testkit.contract, rotation_testkit.contract.runner\n"
        "import rotation_testkit.diagnose\n"
        "print(sorted(m for m in sys.modules if m == 'pytest' or m.startswith('_pytest')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_contract_base_class_is_still_importable_from_the_contract_package() -> None:
    from rotation_testkit.contract import RotatorContract
    from rotation_testkit.contract.base import RotatorContract as Defined

    assert RotatorContract is Defined


def test_a_configuration_is_built_from_layers_of_settings_without_pytest() -> None:
    config = KitConfig.from_settings(
        {"region": "eu-west-1", "max_attempts": 2}, {"max_attempts": 5}, {"seed": "s"}
    )
    assert (config.region, config.max_attempts, config.seed) == ("eu-west-1", 5, "s")
    assert KitConfig.from_settings() == KitConfig()
    with pytest.raises(ConfigError, match="unknown rotation-testkit setting"):
        KitConfig.from_settings({"max_attemps": 5})


@pytest.mark.rotation_testkit(max_attempts=7)
def test_the_config_fixture_merges_the_ini_options_and_the_markers(
    rotation_testkit_config: KitConfig, rotation_kit: rotation_testkit.RotationKit
) -> None:
    assert rotation_testkit_config.max_attempts == 7
    assert rotation_kit.config == rotation_testkit_config


def test_the_root_conftest_runs_inner_sessions_without_random_order(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile("\n".join(f"def test_{index}():\n    pass\n" for index in range(12)))
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")
    collected = [line.split("::")[1] for line in result.outlines if "::" in line]
    assert collected == [f"test_{index}" for index in range(12)]
