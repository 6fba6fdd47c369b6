"""Handlers as Lambda finds them (``module.attr``), cold starts of a whole deployment package,
patches from outside carried into a new environment, and AWS Lambda Powertools.

The rotators are in ``shaped_rotators`` (a package with relative imports); their protected service
is ``shaped_service``, whose fake the tests put in place of each module's ``client``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import shaped_service
from cli_helpers import check, statuses
from rotation_testkit.contract import RotatorContract

CORRECT = (
    "bound_method",
    "callable_object",
    "decorated",
    "partial_handler",
    "relative_imports",
    "powertools_rotator",
)
INITIAL = {"username": "app", "password": "initial-directory-password"}
RULES = {"AutomaticallyAfterDays": 30}


def cli_args(shape: str, *more: str) -> list[str]:
    return [
        f"shaped_rotators.{shape}:lambda_handler",
        "--setup",
        f"shaped_service:setup_{shape}",
        "--probe",
        "shaped_service:probe",
        "--secret",
        json.dumps(INITIAL),
        *more,
    ]


def result_of(out: str, check_name: str) -> str:
    return statuses(out).get(check_name, f"no line for {check_name} in:\n{out}")


@pytest.mark.parametrize("shape", CORRECT)
def test_a_correct_rotator_of_each_shape_passes_every_check_from_the_cli(
    shape: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(capsys, *cli_args(shape))

    assert code == 0, out + err
    assert result_of(out, "cold-start-every-step") == "PASS"


@pytest.mark.parametrize("shape", CORRECT)
def test_each_shape_rotates_with_a_cold_start_at_every_invocation(
    shape: str,
    monkeypatch: pytest.MonkeyPatch,
    secretsmanager: Any,
    rotation_lambdas: Any,
) -> None:
    module = pytest.importorskip(f"shaped_rotators.{shape}")
    # The test fakes the protected service: a new execution environment finds the fake too.
    monkeypatch.setattr(module, "client", shaped_service.DIRECTORY)
    shaped_service.DIRECTORY.reset(INITIAL["username"], INITIAL["password"])
    arn = secretsmanager.create_secret(Name="app/directory", SecretString=json.dumps(INITIAL))[
        "ARN"
    ]
    function = rotation_lambdas.register(module.lambda_handler, cold_starts="every")

    secretsmanager.rotate_secret(SecretId=arn, RotationLambdaARN=function, RotationRules=RULES)

    invocations = rotation_lambdas.invocations(function)
    assert [i.error for i in invocations] == [None] * 4
    assert all(i.cold_start for i in invocations)
    current = json.loads(secretsmanager.get_secret_value(SecretId=arn)["SecretString"])
    assert current["password"] != INITIAL["password"]
    assert shaped_service.DIRECTORY.login("app", current["password"])


def test_a_handler_registered_by_name_is_looked_up_by_that_name_at_each_cold_start(
    monkeypatch: pytest.MonkeyPatch, secretsmanager: Any, rotation_lambdas: Any
) -> None:
    import shaped_rotators.bound_method as module

    monkeypatch.setattr(module, "client", shaped_service.DIRECTORY)
    shaped_service.DIRECTORY.reset(INITIAL["username"], INITIAL["password"])
    arn = secretsmanager.create_secret(Name="app/named", SecretString=json.dumps(INITIAL))["ARN"]
    function = rotation_lambdas.register(
        "shaped_rotators.bound_method:lambda_handler", cold_starts="every"
    )

    secretsmanager.rotate_secret(SecretId=arn, RotationLambdaARN=function, RotationRules=RULES)

    assert [i.error for i in rotation_lambdas.invocations(function)] == [None] * 4


@pytest.mark.parametrize(
    ("shape", "error"),
    [
        ("bound_method_memory", "KeyError"),
        ("global_rebind", "RuntimeError: no pending password in memory"),
        ("sibling_memory", "KeyError"),
    ],
)
def test_state_kept_in_memory_between_steps_is_still_caught(
    shape: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(capsys, *cli_args(shape))

    assert code == 1, out + err
    assert result_of(out, "cold-start-every-step") == "FAIL"
    section = out[out.index("cold-start-every-step") :]
    assert re.search(rf"hint: failed at setSecret .*{re.escape(error)}", section), section


def test_a_rebind_made_by_the_function_is_lost_while_the_tests_patch_is_kept(
    monkeypatch: pytest.MonkeyPatch, secretsmanager: Any, rotation_lambdas: Any
) -> None:
    import shaped_rotators.global_rebind as module

    monkeypatch.setattr(module, "client", shaped_service.DIRECTORY)
    shaped_service.DIRECTORY.reset(INITIAL["username"], INITIAL["password"])
    arn = secretsmanager.create_secret(Name="app/rebind", SecretString=json.dumps(INITIAL))["ARN"]
    warm = rotation_lambdas.register(module.lambda_handler, name="warm")
    secretsmanager.rotate_secret(SecretId=arn, RotationLambdaARN=warm, RotationRules=RULES)
    # Warm, its memory carried it through; the module global now holds what createSecret stored.
    assert [i.error for i in rotation_lambdas.invocations(warm)] == [None] * 4
    assert module.PENDING is not None

    cold = rotation_lambdas.register(module.lambda_handler, name="cold", cold_starts="every")
    secretsmanager.rotate_secret(SecretId=arn, RotationLambdaARN=cold)

    errors = [str(i.error) for i in rotation_lambdas.invocations(cold) if i.error]
    assert errors
    assert all("no pending password in memory" in e for e in errors)


def test_a_powertools_rotator_that_logs_the_pending_secret_fails_and_prints_no_value(
    capfd: pytest.CaptureFixture[str],
) -> None:
    from rotation_testkit.cli import main

    code = main(["check", *cli_args("powertools_leak")])
    out, err = capfd.readouterr()

    assert code == 1, out + err
    assert result_of(out, "no-secret-in-logs") == "FAIL"
    assert "'password'" in out[out.index("no-secret-in-logs") :]
    everything = out + err
    # Powertools' JSON lines are the function's log, masked: a password field is never in clear.
    assert '"pending"' in everything
    assert not re.search(r'"password":\s*"(?!\*\*\*)', everything), everything


def test_powertools_log_lines_are_the_functions_log_not_the_terminals(
    monkeypatch: pytest.MonkeyPatch,
    secretsmanager: Any,
    rotation_lambdas: Any,
    capfd: pytest.CaptureFixture[str],
) -> None:
    import shaped_rotators.powertools_rotator as module

    monkeypatch.setattr(module, "client", shaped_service.DIRECTORY)
    shaped_service.DIRECTORY.reset(INITIAL["username"], INITIAL["password"])
    arn = secretsmanager.create_secret(Name="app/pt", SecretString=json.dumps(INITIAL))["ARN"]
    function = rotation_lambdas.register(module.lambda_handler)

    secretsmanager.rotate_secret(SecretId=arn, RotationLambdaARN=function, RotationRules=RULES)

    out, err = capfd.readouterr()
    assert '"message":"rotation step"' not in out + err
    first = rotation_lambdas.invocations(function)[0]
    lines = [line for line in first.logs.splitlines() if line.startswith("{")]
    assert len(lines) == 1  # once: the runtime's own handler does not write it again
    logged = json.loads(lines[0])
    assert logged["step"] == "createSecret"
    assert logged["function_request_id"] == first.request_id


class TestBoundMethodContract(RotatorContract):
    """A class-based rotator whose client the test fakes with monkeypatch."""

    handler = "shaped_rotators.bound_method:lambda_handler"
    initial_secret = INITIAL

    @pytest.fixture(autouse=True)
    def _fake_service(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import shaped_rotators.bound_method as module

        monkeypatch.setattr(module, "client", shaped_service.DIRECTORY)

    def setup(self, secret: dict[str, str]) -> None:
        shaped_service.DIRECTORY.reset(secret["username"], secret["password"])

    def probe(self, secret: dict[str, str]) -> bool:
        return shaped_service.DIRECTORY.login(secret["username"], secret["password"])


class TestPowertoolsContract(TestBoundMethodContract):
    """Powertools' Logger and parser (a model with a datetime field)."""

    handler = "shaped_rotators.powertools_rotator:lambda_handler"

    @pytest.fixture(autouse=True)
    def _fake_service(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import shaped_rotators.powertools_rotator as module

        monkeypatch.setattr(module, "client", shaped_service.DIRECTORY)


# --- what cannot be judged is said so -------------------------------------------------------------

ONE_ARGUMENT = "def lambda_handler(event):\n    return None\n"
MAIN_SCRIPT = """
import sys

def lambda_handler(event, context):
    return None

sys.modules["__main__"].lambda_handler = lambda_handler
"""


def test_a_handler_that_cannot_be_called_with_event_and_context_is_a_harness_error(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "one_argument_rotator.py").write_text(ONE_ARGUMENT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    code, out, err = check(capsys, "one_argument_rotator:lambda_handler", "--only", "one-rotation")

    assert code == 2, out + err
    assert "harness error" in err
    assert "handler(event, context)" in err
    assert "takes 1 positional argument" in err
    assert "FAIL" not in out


def test_a_closure_registered_as_an_object_makes_the_cold_start_check_not_applicable(
    request: pytest.FixtureRequest,
) -> None:
    import shaped_rotators.steps as steps
    from rotation_testkit.contract import RotatorUnderTest, run_checks

    def closure(event: dict[str, Any], context: Any) -> None:
        steps.rotate(event, shaped_service.DIRECTORY)

    results = run_checks(
        RotatorUnderTest(
            handler=closure,
            initial_secret=INITIAL,
            setup=lambda secret: shaped_service.DIRECTORY.reset(
                secret["username"], secret["password"]
            ),
        ),
        ["cold-start-every-step"],
    )

    (result,) = results
    assert result.status == "not applicable", result.message
    assert "defined inside a function" in result.message
    assert "module:attr" in result.message


def test_a_handler_of_the_main_script_cannot_have_cold_starts_and_says_why(
    rotation_lambdas: Any,
) -> None:
    import __main__

    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(
        compile("def lambda_handler(event, context):\n    return None\n", "main", "exec"), namespace
    )
    handler = namespace["lambda_handler"]
    had = getattr(__main__, "lambda_handler", None)
    __main__.lambda_handler = handler  # type: ignore[attr-defined]
    try:
        arn = rotation_lambdas.register(handler, name="main")
        problem = rotation_lambdas.cold_start_problem(arn)
    finally:
        if had is None:
            del __main__.lambda_handler  # type: ignore[attr-defined]
        else:
            __main__.lambda_handler = had  # type: ignore[attr-defined]

    assert problem is not None
    assert "main script" in problem


def test_disable_invariant_turns_an_invariant_off_from_the_cli(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = check(
        capsys, *cli_args("bound_method"), "--disable-invariant", "no-such-invariant"
    )
    assert code == 2
    assert "no-such-invariant" in err

    from rotation_testkit.foundations.invariant_catalogue import INVARIANT_NAMES

    every = [arg for name in sorted(INVARIANT_NAMES) for arg in ("--disable-invariant", name)]
    code, out, err = check(capsys, *cli_args("bound_method"), "--only", "one-rotation", *every)
    assert code == 0, out + err


def test_the_installed_command_finds_module_targets_in_the_current_directory(
    tmp_path: Any,
) -> None:
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "cwd_rotator.py").write_text(
        "def lambda_handler(event, context):\n    return None\n"
    )
    script = Path(sys.executable).with_name("rotation-testkit")
    if not script.exists():
        pytest.skip("the rotation-testkit script is not installed beside this Python")

    done = subprocess.run(
        [str(script), "check", "cwd_rotator:lambda_handler", "--only", "current-token-noop"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert "cannot import module" not in done.stderr, done.stderr
    assert "current-token-noop" in done.stdout


def _contract_for(shape: str) -> type[RotatorContract]:
    """A RotatorContract for one shape, its client faked with monkeypatch as most users do."""

    @pytest.fixture(autouse=True)
    def _fake_service(self: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        module = __import__(f"shaped_rotators.{shape}", fromlist=["client"])
        monkeypatch.setattr(module, "client", shaped_service.DIRECTORY)

    return type(
        f"Test{shape.title().replace('_', '')}Contract",
        (TestBoundMethodContract,),
        {"handler": f"shaped_rotators.{shape}:lambda_handler", "_fake_service": _fake_service},
    )


for _shape in ("callable_object", "decorated", "partial_handler", "relative_imports"):
    _contract = _contract_for(_shape)
    globals()[_contract.__name__] = _contract
