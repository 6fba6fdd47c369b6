"""Warm and cold execution environments: module globals survive in a warm one; a cold start imports
the function's own module afresh while the test's modules keep their state."""

from __future__ import annotations

import sys
import textwrap

import pytest

from rotation_testkit.execution.cold_start import cold_start_problem, fresh_handler
from rotation_testkit.lambdas import LambdaRegistrationError

RULES = {"AutomaticallyAfterDays": 30}

COUNTING = textwrap.dedent(
    """
    import rotators
    import counting_helpers
    import counting_fakes

    IMPORTS = counting_fakes.record_import()
    CALLS = 0


    def handler(event, context):
        global CALLS
        CALLS += 1
        counting_helpers.CALLS += 1
        counting_fakes.SEEN.append((IMPORTS, CALLS, counting_helpers.CALLS))
        return rotators.correct(event, context)
    """
)
HELPERS = "CALLS = 0\n"
FAKES = textwrap.dedent(
    """
    IMPORTED = []
    SEEN = []


    def record_import():
        IMPORTED.append(1)
        return len(IMPORTED)
    """
)


@pytest.fixture
def counting(tmp_path, monkeypatch):
    """A function module and a helper module of its folder (its deployment package), and a fake
    of the protected service in a folder of its own (as a database lives apart from the code)."""
    (tmp_path / "function").mkdir()
    (tmp_path / "service").mkdir()
    (tmp_path / "function" / "counting_rotator.py").write_text(COUNTING)
    (tmp_path / "function" / "counting_helpers.py").write_text(HELPERS)
    (tmp_path / "service" / "counting_fakes.py").write_text(FAKES)
    monkeypatch.syspath_prepend(str(tmp_path / "function"))
    monkeypatch.syspath_prepend(str(tmp_path / "service"))
    for name in ("counting_rotator", "counting_helpers", "counting_fakes"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield
    for name in ("counting_rotator", "counting_helpers", "counting_fakes"):
        sys.modules.pop(name, None)


def rotate(client, secret_id: str, arn: str) -> None:
    client.rotate_secret(SecretId=secret_id, RotationLambdaARN=arn, RotationRules=RULES)


def test_first_keeps_one_warm_environment(counting, secretsmanager, secret, rotation_lambdas):
    arn = rotation_lambdas.register("counting_rotator:handler", name="warm")

    rotate(secretsmanager, secret, arn)

    fakes = sys.modules["counting_fakes"]
    # One import; module globals count every call.
    assert fakes.SEEN == [(1, 1, 1), (1, 2, 2), (1, 3, 3), (1, 4, 4)]
    assert [i.cold_start for i in rotation_lambdas.invocations(arn)] == [True, False, False, False]


def test_every_imports_the_functions_module_afresh_and_keeps_the_tests_modules(
    counting, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(
        "counting_rotator:handler",
        name="cold",
        cold_starts="every",
    )
    registered_module = sys.modules["counting_rotator"]

    rotate(secretsmanager, secret, arn)

    fakes = sys.modules["counting_fakes"]
    # A new module object each time (its import ran again: 2, 3, 4, 5 after the one at
    # register), its globals and its folder's helper start over; the fake kept its state.
    assert fakes.SEEN == [(2, 1, 1), (3, 1, 1), (4, 1, 1), (5, 1, 1)]
    assert [i.cold_start for i in rotation_lambdas.invocations(arn)] == [True] * 4
    # The test still sees the module it had.
    assert sys.modules["counting_rotator"] is registered_module
    assert registered_module.CALLS == 0


def test_a_module_named_as_environment_keeps_its_state(
    counting, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(
        "counting_rotator:handler",
        name="cold",
        cold_starts="every",
        environment_modules=["counting_helpers"],
    )

    rotate(secretsmanager, secret, arn)

    assert [seen[2] for seen in sys.modules["counting_fakes"].SEEN] == [1, 2, 3, 4]


def test_a_module_named_with_package_modules_starts_over_wherever_it_lives(
    counting, secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(
        "counting_rotator:handler",
        name="cold",
        cold_starts="every",
        package_modules=["counting_fakes"],
    )

    rotate(secretsmanager, secret, arn)

    # The fake was imported afresh with the function: the test's copy saw nothing.
    assert sys.modules["counting_fakes"].SEEN == []


def test_a_function_object_from_a_module_can_have_cold_starts(
    counting, secretsmanager, secret, rotation_lambdas
):
    import counting_rotator

    arn = rotation_lambdas.register(counting_rotator.handler, name="obj", cold_starts="every")

    rotate(secretsmanager, secret, arn)

    assert [seen[1] for seen in sys.modules["counting_fakes"].SEEN] == [1, 1, 1, 1]
    assert counting_rotator.CALLS == 0


@pytest.mark.rotation_testkit(cold_starts="every")
def test_the_marker_sets_cold_starts_for_functions_registered_without_it(
    counting, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    assert rotation_kit.config.cold_starts == "every"
    arn = rotation_lambdas.register("counting_rotator:handler", name="marked")

    rotate(secretsmanager, secret, arn)

    assert [i.cold_start for i in rotation_lambdas.invocations(arn)] == [True] * 4


def test_configure_sets_cold_starts(
    counting, secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(cold_starts="every")
    arn = rotation_lambdas.register("counting_rotator:handler", name="configured")

    rotate(secretsmanager, secret, arn)

    assert [i.cold_start for i in rotation_lambdas.invocations(arn)] == [True] * 4


def test_the_ini_option_sets_cold_starts(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrotation_testkit_cold_starts = every\n")
    pytester.makepyfile(
        "def test_setting(rotation_kit):\n    assert rotation_kit.config.cold_starts == 'every'\n"
    )

    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_closure_cannot_have_cold_starts_and_says_so(rotation_lambdas):
    def handler(event, context):
        return None

    with pytest.raises(LambdaRegistrationError, match=r"closure or a lambda.*cold_starts='first'"):
        rotation_lambdas.register(handler, cold_starts="every")
    with pytest.raises(LambdaRegistrationError, match="closure or a lambda"):
        rotation_lambdas.register(lambda event, context: None, name="lam", cold_starts="every")


def test_an_unknown_cold_starts_value_is_refused(rotation_lambdas):
    with pytest.raises(LambdaRegistrationError, match="'first' or 'every'"):
        rotation_lambdas.register("rotators:correct", cold_starts="sometimes")  # type: ignore[arg-type]


def test_the_cold_start_capability_is_a_plain_function(counting):
    import counting_rotator

    def closure(event, context):
        return None

    assert cold_start_problem(counting_rotator.handler) is None
    assert "closure" in (cold_start_problem(closure) or "")
    fresh = fresh_handler(counting_rotator.handler)
    assert fresh is not counting_rotator.handler
    assert fresh.__module__ == "counting_rotator"
    assert sys.modules["counting_rotator"] is counting_rotator


def test_an_unknown_cold_starts_setting_is_refused():
    from rotation_testkit.config import ConfigError, KitConfig

    with pytest.raises(ConfigError, match=r"cold_starts takes 'first' or 'every'"):
        KitConfig(cold_starts="sometimes")  # type: ignore[arg-type]


def test_a_cold_start_leaves_the_tests_package_attributes_alone(
    tmp_path, monkeypatch, secretsmanager, secret, rotation_lambdas
):
    # The handler's package holds the protected service's stand-in, named as the environment: the
    # package itself stays, and only the handler's module is imported afresh.
    package = tmp_path / "envpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "fn.py").write_text(
        "import rotators\n\ndef handler(event, context):\n    return rotators.correct(event, context)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import envpkg.fn as original

    arn = rotation_lambdas.register(
        "envpkg.fn:handler", cold_starts="every", environment_modules=["envpkg"]
    )
    rotate(secretsmanager, secret, arn)

    import envpkg

    assert envpkg.fn is original
    assert sys.modules["envpkg.fn"] is original
    for name in ("envpkg", "envpkg.fn"):
        sys.modules.pop(name, None)


def test_only_a_modules_own_state_held_by_test_code_makes_it_the_environment(tmp_path, monkeypatch):
    from rotation_testkit.execution.handler_location import shared_with_tests

    (tmp_path / "own_state.py").write_text(
        "from __future__ import annotations\nfrom typing import Any\n\nUSERS: dict[str, Any] = {}\n"
    )
    (tmp_path / "no_shared_state.py").write_text(
        "from __future__ import annotations\nfrom typing import Any\n\nCACHE: dict[str, Any] = {}\n"
    )
    (tmp_path / "test_holder.py").write_text(
        "from __future__ import annotations\nfrom typing import Any\n\nfrom own_state import USERS\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("own_state", "no_shared_state", "test_holder"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import no_shared_state  # noqa: F401
    import test_holder  # noqa: F401

    # The test holds own_state's table; both modules hold typing.Any and the __future__ feature,
    # which every module may hold alike and make no module the environment.
    assert shared_with_tests(["own_state", "no_shared_state"]) == {"own_state"}
