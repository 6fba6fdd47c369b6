"""The pytest plugin: fixtures, the marker and ini options. A thin shell over :class:`World`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

# Before anything imports it: users' assert_* calls then get pytest's detailed messages.
pytest.register_assert_rewrite("rotation_testkit.assertions")

# Importing the kit imports moto, which registers its request hook for every botocore session
# created afterwards. Doing it when pytest loads the plugin (~0.3 s) means a rotator that builds
# its client at import time, during collection, is intercepted too instead of reaching AWS.
from .execution.clock import RotationClock
from .execution.faults import FaultPlan
from .execution.lambdas import LambdaRegistry
from .execution.protected_http import ProtectedHttp
from .execution.sandbox import hermetic_environ
from .foundations.config import DEFAULT_REGION, ConfigError, KitConfig
from .kit import RotationKit
from .world import World

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

MARKER = "rotation_testkit"

_INI_OPTIONS: dict[str, tuple[str, str, Any]] = {
    # ini name: (help, type, default)
    "rotation_testkit_region": ("AWS region of the in-memory world.", "string", DEFAULT_REGION),
    "rotation_testkit_account_id": (
        "AWS account id of the in-memory world.",
        "string",
        KitConfig.account_id,
    ),
    "rotation_testkit_seed": (
        "Seed for the moment a scheduled rotation picks inside its window.",
        "string",
        "0",
    ),
    "rotation_testkit_clock_start": (
        "ISO 8601 instant where rotation_clock starts (default 2025-01-01T09:00:00Z).",
        "string",
        "",
    ),
    "rotation_testkit_disabled_invariants": (
        "Invariants not to check, separated by spaces or commas.",
        "string",
        "",
    ),
    "rotation_testkit_max_attempts": (
        "How many times the service attempts one rotation before giving up (an inference: AWS "
        "documents no number).",
        "string",
        str(KitConfig.max_attempts),
    ),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (help_text, kind, default) in _INI_OPTIONS.items():
        parser.addini(name, help_text, type=kind, default=default)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): settings of the in-memory Secrets Manager for this test, e.g. "
        "max_attempts=5; closer markers win over module and class ones.",
    )


def _seed(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def _ini_settings(config: pytest.Config) -> dict[str, Any]:
    ini = config.getini
    return {
        "region": str(ini("rotation_testkit_region")),
        "account_id": str(ini("rotation_testkit_account_id")),
        "max_attempts": int(str(ini("rotation_testkit_max_attempts"))),
        "seed": _seed(str(ini("rotation_testkit_seed"))),
        "clock_start": str(ini("rotation_testkit_clock_start")) or None,
        "disabled_invariants": str(ini("rotation_testkit_disabled_invariants")),
    }


def _marker_settings(node: pytest.Item | pytest.Collector) -> list[dict[str, Any]]:
    # iter_markers yields the closest first; the farthest come first so the closest wins.
    layers = []
    for marker in reversed(list(node.iter_markers(MARKER))):
        if marker.args:
            raise ConfigError(
                f"@pytest.mark.{MARKER} takes keyword settings only, got {marker.args!r}."
            )
        layers.append(dict(marker.kwargs))
    return layers


@pytest.fixture
def rotation_testkit_config(request: pytest.FixtureRequest) -> KitConfig:
    """The settings of this test's world: the ini options, then the markers, closest last."""
    try:
        return KitConfig.from_settings(
            _ini_settings(request.config), *_marker_settings(request.node)
        )
    except (ConfigError, ValueError) as error:
        raise pytest.UsageError(f"rotation-testkit: {error}") from None


@pytest.fixture
def _rotation_world(
    rotation_testkit_config: KitConfig,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    world = World(rotation_testkit_config)
    for key, value in hermetic_environ(world.config).items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    with world.activate(environment=False):
        yield world
        _check_at_teardown(request, world)


def _check_at_teardown(request: pytest.FixtureRequest, world: World) -> None:
    """Invariants the code under test broke, and faults or routes a test planned but never used."""
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        return  # the test already failed; do not bury its error under this one
    problems = []
    violations = world.invariants.violations
    if violations:
        problems.append(
            "the code under test broke rotation invariants:\n\n"
            + world.invariants.report()
            + "\n\nTurn one off with @pytest.mark.rotation_testkit(disabled_invariants=[...]) "
            "or the ini option rotation_testkit_disabled_invariants.\n\n"
            + RotationKit(world).timeline()
        )
    if world.config.assert_faults_fired and world.faults.unfired():
        problems.append(world.faults.unfired_report())
    if world.config.assert_http_routes_used and world.http.uncalled():
        problems.append(world.http.uncalled_report())
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item) -> Any:
    # Keep each phase's report on the item, so teardown checks know whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    world = getattr(item, "funcargs", {}).get("_rotation_world")
    if report.failed and isinstance(world, World) and report.when == "call":
        # Like captured logs: show what the rotations did next to the failure.
        kit = RotationKit(world)
        text = kit.timeline()
        if world.invariants.violations:
            text += "\n\n" + world.invariants.report()
        report.sections.append(("rotation timeline", text))
    return report


@pytest.fixture
def rotation_kit(_rotation_world: World) -> RotationKit:
    """Everything in one object: client, Lambda functions, history, settings."""
    return RotationKit(_rotation_world)


@pytest.fixture
def rotation_clock(_rotation_world: World) -> RotationClock:
    """The fake clock: ``now()``, ``advance(...)``, ``advance_to(when)``; due rotations run as it moves."""
    return _rotation_world.start_clock()


@pytest.fixture
def rotation_faults(_rotation_world: World) -> FaultPlan:
    """Failure injection: ``fail_step``, ``crash_after_step``, ``time_out_step``, ``fail_api``."""
    return _rotation_world.faults


@pytest.fixture
def protected_http(_rotation_world: World) -> ProtectedHttp:
    """Scripted answers for a protected service reached over HTTP with ``requests``."""
    return _rotation_world.http


@pytest.fixture
def secretsmanager(rotation_kit: RotationKit) -> SecretsManagerClient:
    """A boto3 Secrets Manager client on the in-memory, AWS-faithful backend."""
    return rotation_kit.secretsmanager


@pytest.fixture
def rotation_lambdas(rotation_kit: RotationKit) -> LambdaRegistry:
    """The rotation functions the service may invoke: ``register(handler) -> arn``, ``invocations()``."""
    return rotation_kit.lambdas
