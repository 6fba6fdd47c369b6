"""The pytest plugin: fixtures, the marker and ini options. A thin shell over :class:`World`."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

# Before anything imports it: users' assert_* calls then get pytest's detailed messages.
pytest.register_assert_rewrite("rotation_testkit.assertions")

from .execution import interception
from .execution.sandbox import hermetic_environ
from .foundations.config import DEFAULT_REGION, ConfigError, KitConfig

# Every botocore session created from now on (so every client, including one a rotator builds at
# import time during collection) asks the in-memory world first while one is active. This imports
# neither botocore nor moto: a run that never uses the kit does not pay for them (see
# benchmarks/plugin_load.py); the fixtures import the kit when a test first requests one.
interception.install()

# The hermetic environment (fake credentials, no profile, endpoint or proxy) is applied per test,
# to the tests that use the kit: other tests in the run (LocalStack or real-AWS integration tests)
# see the environment the user started pytest with. Clients built at import or collection time
# still answer from the world inside a kit test: the botocore-level route above does not need the
# environment cleared. The ini option rotation_testkit_hermetic = "session" clears it for the whole
# run instead, from before the first conftest is imported.
HERMETIC_SCOPES = ("test", "session")


def _make_hermetic(config: KitConfig) -> dict[str, str | None]:
    """Apply the hermetic environment to the process; returns what it replaced."""
    changes = hermetic_environ(config)
    replaced = {key: os.environ.get(key) for key in changes}
    for key, value in changes.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    return replaced


_REPLACED_ENVIRONMENT = pytest.StashKey[dict[str, "str | None"]]()


def _missing_region(region: str) -> dict[str, str | None]:
    """A region for clients modules build at import (``boto3.client(...)`` at collection), when
    nothing in the environment could give one: no region variable, no config file. Filling it in
    changes no client that would have worked; without it, collecting such a module fails with
    NoRegionError on a machine with no AWS configuration (most CI)."""
    if os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"):
        return {}
    config_file = os.environ.get("AWS_CONFIG_FILE") or os.path.join("~", ".aws", "config")
    if os.path.exists(os.path.expanduser(config_file)):
        return {}
    os.environ["AWS_DEFAULT_REGION"] = region
    return {"AWS_DEFAULT_REGION": None}


if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from .execution.clock import RotationClock
    from .execution.faults import FaultPlan
    from .execution.lambdas import LambdaRegistry
    from .execution.protected_http import ProtectedHttp
    from .kit import RotationKit
    from .world import World

MARKER = "rotation_testkit"
# Set on a test whose call phase this plugin failed: its report already holds the violations.
_FAILED_BY_CHECKS = pytest.StashKey[bool]()

# pytest 9.2 accepts a union of types for an ini option: then a TOML [tool.pytest] table may give a
# number or a boolean natively, and an ini file still gives text, which the plugin checks itself.
_TYPED_INI = tuple(int(part) for part in re.findall(r"\d+", pytest.__version__)[:2]) >= (9, 2)
_INT_OR_TEXT: Any = (int | str) if _TYPED_INI else "string"
_BOOL_OR_TEXT: Any = (bool | str) if _TYPED_INI else "string"

_INI_OPTIONS: dict[str, tuple[str, Any, Any]] = {
    # ini name: (help, type, default)
    "rotation_testkit_region": ("AWS region of the in-memory world.", "string", DEFAULT_REGION),
    "rotation_testkit_account_id": (
        "AWS account id of the in-memory world.",
        "string",
        KitConfig.account_id,
    ),
    "rotation_testkit_seed": (
        "Seed for the moment a scheduled rotation picks inside its window.",
        _INT_OR_TEXT,
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
    "rotation_testkit_cold_starts": (
        "Lambda execution environments: 'first' keeps one warm environment after the first "
        "import; 'every' imports the function's module afresh for each invocation.",
        "string",
        "first",
    ),
    "rotation_testkit_max_attempts": (
        "How many times the service attempts one rotation before giving up (an inference: AWS "
        "documents no number).",
        _INT_OR_TEXT,
        str(KitConfig.max_attempts),
    ),
    "rotation_testkit_hermetic": (
        "Where the hermetic AWS environment applies: 'test' (default: only tests that use the "
        "kit's fixtures or marker) or 'session' (the whole run, from the first import).",
        "string",
        "test",
    ),
    "rotation_testkit_assert_rotations_succeed": (
        "Fail a test when a rotation ends failed after every attempt although no planned fault "
        "fired during it (true/false; default false, as AWS reports no error).",
        _BOOL_OR_TEXT,
        "false",
    ),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (help_text, kind, default) in _INI_OPTIONS.items():
        parser.addini(name, help_text, type=kind, default=default)


def _hermetic_scope(config: pytest.Config) -> str:
    scope = str(config.getini("rotation_testkit_hermetic")).strip().lower() or "test"
    if scope not in HERMETIC_SCOPES:
        raise pytest.UsageError(
            f"rotation-testkit: ini option rotation_testkit_hermetic takes 'test' or 'session', "
            f"got {scope!r}."
        )
    return scope


def _ini_region(config: pytest.Config) -> str:
    return str(config.getini("rotation_testkit_region")) or DEFAULT_REGION


def _make_session_hermetic(config: pytest.Config) -> None:
    # An invalid region is reported by the first test that uses it.
    with contextlib.suppress(ValueError):
        replaced = _make_hermetic(KitConfig(region=_ini_region(config)))
        # Keep what the first application replaced: that is the user's own environment.
        first: dict[str, str | None] = config.stash.get(_REPLACED_ENVIRONMENT, {})
        config.stash[_REPLACED_ENVIRONMENT] = {**replaced, **first}


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Session scope: hermetic before conftests and test modules build clients at import.
    if _hermetic_scope(early_config) == "session":
        _make_session_hermetic(early_config)
    else:
        early_config.stash[_REPLACED_ENVIRONMENT] = _missing_region(_ini_region(early_config))


def pytest_configure(config: pytest.Config) -> None:
    if _hermetic_scope(config) == "session":
        _make_session_hermetic(config)  # again, with the region of the ini file
    elif _REPLACED_ENVIRONMENT not in config.stash:
        config.stash[_REPLACED_ENVIRONMENT] = _missing_region(_ini_region(config))
    from .execution import handler_location

    # conftest modules are test code: what they import stands for the environment at cold starts.
    def conftests() -> list[ModuleType]:
        return [p for p in config.pluginmanager.get_plugins() if isinstance(p, ModuleType)]

    handler_location.TEST_CODE_SOURCES.append(conftests)
    config.add_cleanup(lambda: handler_location.TEST_CODE_SOURCES.remove(conftests))
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): settings of the in-memory Secrets Manager for this test, e.g. "
        "max_attempts=5; closer markers win over module and class ones.",
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    # A pytest session run inside another process (pytester) gives the environment back.
    for key, value in config.stash.get(_REPLACED_ENVIRONMENT, {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Any:
    # A test that uses the marker without a fixture still gets the hermetic environment.
    if "_rotation_world" in getattr(item, "fixturenames", ()) or not any(item.iter_markers(MARKER)):
        return (yield)
    from .execution.sandbox import patched_environ

    with patched_environ(hermetic_environ(KitConfig())):
        return (yield)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    notes = interception.credentials_resolved_before_a_world()
    if notes:
        terminalreporter.write_line(
            "rotation-testkit: clients built before a test's world (at import or collection) "
            f"had resolved credentials from {', '.join(sorted(notes))}; their calls were answered "
            "by the in-memory world. Build clients inside the test or the handler, or set "
            'rotation_testkit_hermetic = "session" to clear the AWS environment for the whole run.'
        )


def _seed(value: object) -> object:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _whole_number(value: object) -> object:
    # Text from an ini file; a TOML table gives the int itself. Anything else goes to KitConfig
    # as it is, which refuses it by name.
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _truth(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    return value


def _ini_settings(config: pytest.Config) -> dict[str, Any]:
    ini = config.getini
    return {
        "region": ini("rotation_testkit_region"),
        "account_id": ini("rotation_testkit_account_id"),
        "max_attempts": _whole_number(ini("rotation_testkit_max_attempts")),
        "seed": _seed(ini("rotation_testkit_seed")),
        "clock_start": ini("rotation_testkit_clock_start") or None,
        "disabled_invariants": ini("rotation_testkit_disabled_invariants"),
        "assert_rotations_succeed": _truth(ini("rotation_testkit_assert_rotations_succeed")),
        "cold_starts": ini("rotation_testkit_cold_starts"),
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


_INI_CONFIG = pytest.StashKey[KitConfig]()


def _ini_config(pytest_config: pytest.Config) -> KitConfig:
    """The settings the ini options give, read and checked once per run (they cannot change)."""
    config = pytest_config.stash.get(_INI_CONFIG, None)
    if config is None:
        try:
            config = KitConfig().updated(**_ini_settings(pytest_config))
        except ConfigError as error:
            where = (
                f"ini option rotation_testkit_{error.setting}" if error.setting else "ini options"
            )
            raise pytest.UsageError(f"rotation-testkit: {where}: {error}") from None
        pytest_config.stash[_INI_CONFIG] = config
    return config


@pytest.fixture
def rotation_testkit_config(request: pytest.FixtureRequest) -> KitConfig:
    """The settings of this test's world: the ini options, then the markers, closest last."""
    config = _ini_config(request.config)  # immutable: each test's markers make a copy
    try:
        for layer in _marker_settings(request.node):
            config = config.updated(**layer)
    except ConfigError as error:
        raise pytest.UsageError(f"rotation-testkit: {error}") from None
    return config


# The worlds of the latest kit tests, by node id: pytest records a test's warnings at the end of
# each of its phases, and only names the test.
_recent_worlds: dict[str, World] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_warning_recorded(warning_message: Any, nodeid: str) -> None:
    # pytest's warnings summary prints a warning's text: a rotator's warnings.warn may hold a value.
    world = _recent_worlds.get(nodeid)
    if world is None:
        return
    from .report_masking import report_masker

    masker = report_masker(world, frozenset())
    if masker is not None:
        text = str(warning_message.message)
        masked = masker.mask(text)
        if masked != text:
            category = warning_message.category
            try:
                warning_message.message = category(masked)
            except Exception:  # a warning class that takes other arguments: plain text
                warning_message.message = UserWarning(masked)


@pytest.fixture
def _rotation_world(
    rotation_testkit_config: KitConfig,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    from .execution.sandbox import hermetic_environ
    from .world import World

    world = World(rotation_testkit_config)
    _recent_worlds[request.node.nodeid] = world
    while len(_recent_worlds) > 8:  # warnings are recorded at the end of each phase
        del _recent_worlds[next(iter(_recent_worlds))]
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
    from .failure_report import recent_timeline

    problems = []
    if world.invariants.violations:
        # Broken after the call phase (by a fixture's teardown): the call check could not see it.
        problems.append(_violations_text(world) + "\n\n" + recent_timeline(world))
    if world.config.assert_faults_fired and world.faults.unfired():
        problems.append(world.faults.unfired_report())
    if world.config.assert_http_routes_used and world.http.uncalled():
        problems.append(world.http.uncalled_report())
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def _violations_text(world: World) -> str:
    return (
        "the code under test broke rotation invariants:\n\n"
        + world.invariants.report()
        + "\n\nTurn one off with @pytest.mark.rotation_testkit(disabled_invariants=[...]) "
        "or the ini option rotation_testkit_disabled_invariants."
    )


def _world_of(item: pytest.Item) -> World | None:
    world = getattr(item, "funcargs", {}).get("_rotation_world")
    if world is None:
        return None  # not a kit test: nothing of the kit needs importing
    from .world import World

    return world if isinstance(world, World) else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    # A broken invariant fails the test itself, in its call phase: one test, one outcome.
    result = yield
    world = _world_of(item)
    if world is None:
        return result
    from .failure_report import failed_rotations_report, unexpected_failed_rotations

    problems = []
    if world.invariants.violations:
        problems.append(_violations_text(world))
    if world.config.assert_rotations_succeed:
        failures = unexpected_failed_rotations(world)
        if failures:
            problems.append(failed_rotations_report(world, failures))
    if problems:
        item.stash[_FAILED_BY_CHECKS] = True
        pytest.fail("\n\n".join(problems), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item) -> Any:
    # Keep each phase's report on the item, so teardown checks know whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    world = _world_of(item)
    if report.failed and world is not None and report.when == "call":
        from .failure_report import recent_timeline, unregistered_function_hint

        # Like captured logs: show what the rotations did next to the failure.
        text = recent_timeline(world)
        hint = unregistered_function_hint(world)
        if hint is not None:
            text = hint + "\n\n" + text
        if world.invariants.violations and not item.stash.get(_FAILED_BY_CHECKS, False):
            text += "\n\n" + world.invariants.report()
        report.sections.append(("rotation timeline", text))
    if report.failed and world is not None and report.when in ("call", "teardown"):
        from .kit import RotationKit

        # What each function wrote, under the step that wrote it (never in captured output).
        logs = RotationKit(world).function_logs()
        if logs:
            report.sections.append(("rotation function logs", logs))
        if world.aws_stubs.missing:
            report.sections.append(("AWS operations the simulator lacks", world.aws_stubs.report()))
    if world is not None and (report.failed or report.sections):
        from .report_masking import mask_report, report_masker, test_literals

        # pytest's own text (assertion explanations, -l locals, -vv diffs, captured output).
        masker = report_masker(world, test_literals(item))
        if masker is not None:
            mask_report(report, masker)
    return report


@pytest.fixture
def rotation_kit(_rotation_world: World) -> RotationKit:
    """Everything in one object: client, Lambda functions, history, settings."""
    from .kit import RotationKit

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
