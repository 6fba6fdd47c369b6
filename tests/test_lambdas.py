"""In-process Lambda functions: registration, invocations, the context object and the environment."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

import rotators
from rotation_testkit.lambdas import LambdaRegistrationError

RULES = {"AutomaticallyAfterDays": 30}


def rotate(client, secret_id: str, arn: str) -> str:
    response = client.rotate_secret(SecretId=secret_id, RotationLambdaARN=arn, RotationRules=RULES)
    return str(response["VersionId"])


# --- registration -------------------------------------------------------------------------------


def test_register_returns_a_lambda_arn_named_after_the_handler(rotation_lambdas):
    arn = rotation_lambdas.register(rotators.correct)

    assert arn == "arn:aws:lambda:us-east-1:123456789012:function:correct"


def test_register_uses_the_name_given(rotation_lambdas):
    arn = rotation_lambdas.register(rotators.correct, name="my-rotator_1")

    assert arn == "arn:aws:lambda:us-east-1:123456789012:function:my-rotator_1"


def test_registering_the_same_handler_again_returns_the_same_arn(rotation_lambdas):
    first = rotation_lambdas.register(rotators.correct, name="same")

    assert rotation_lambdas.register(rotators.correct, name="same") == first


def test_a_different_handler_under_an_existing_name_is_refused(rotation_lambdas):
    rotation_lambdas.register(rotators.correct, name="taken")

    with pytest.raises(LambdaRegistrationError, match=r"'taken'.*name="):
        rotation_lambdas.register(rotators.never_finishes, name="taken")


def test_the_registered_arn_is_accepted_by_rotate_secret(secretsmanager, secret, rotation_lambdas):
    arn = rotation_lambdas.register(rotators.correct)

    rotate(secretsmanager, secret, arn)

    assert secretsmanager.describe_secret(SecretId=secret)["RotationLambdaARN"] == arn


# --- invocations -------------------------------------------------------------------------------


def test_invocations_are_filtered_by_arn(secretsmanager, secret, rotation_lambdas, protected):
    first = rotation_lambdas.register(rotators.correct)
    second = rotation_lambdas.register(rotators.with_session_client)
    rotate(secretsmanager, secret, first)
    rotate(secretsmanager, secret, second)

    assert len(rotation_lambdas.invocations()) == 8
    assert [inv.event["Step"] for inv in rotation_lambdas.invocations(first)] == [
        "createSecret",
        "setSecret",
        "testSecret",
        "finishSecret",
    ]
    assert all(inv.arn == second for inv in rotation_lambdas.invocations(second))
    assert len(rotation_lambdas.invocations(second)) == 4


def test_an_invocation_holds_its_event_and_none_on_success(
    secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(rotators.correct)

    token = rotate(secretsmanager, secret, arn)

    for invocation in rotation_lambdas.invocations(arn):
        assert invocation.error is None
        assert invocation.event["ClientRequestToken"] == token
        assert invocation.event["SecretId"] == secret


def test_an_invocation_holds_the_exception_it_raised(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)
    arn = rotation_lambdas.register(rotators.fails_at("setSecret"))

    rotate(secretsmanager, secret, arn)

    create, set_ = rotation_lambdas.invocations(arn)
    assert create.error is None
    assert isinstance(set_.error, rotators.InjectedFailure)
    assert str(set_.error) == "injected failure at setSecret"
    assert set_.event["Step"] == "setSecret"


def test_the_event_a_handler_mutates_is_not_the_recorded_one(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)

    def mutates(event, context):
        event["Step"] = "tampered"
        raise RuntimeError("stop")

    arn = rotation_lambdas.register(mutates)
    rotate(secretsmanager, secret, arn)

    assert rotation_lambdas.invocations(arn)[0].event["Step"] == "createSecret"


# --- the context object -------------------------------------------------------------------------


def test_the_context_object_looks_like_lambdas(secretsmanager, secret, rotation_lambdas):
    recorder = rotators.Recorder()
    arn = rotation_lambdas.register(recorder, name="ctx", timeout=60)

    rotate(secretsmanager, secret, arn)

    request_ids = set()
    for context, remaining in zip(recorder.contexts, recorder.remaining_millis, strict=True):
        assert context.function_name == "ctx"
        assert context.invoked_function_arn == arn
        assert isinstance(context.memory_limit_in_mb, int)
        assert context.memory_limit_in_mb > 0
        assert isinstance(context.aws_request_id, str)
        assert context.aws_request_id
        assert 0 < remaining <= 60_000
        request_ids.add(context.aws_request_id)
    assert len(request_ids) == 4  # one per invocation
    invocation_ids = {inv.request_id for inv in rotation_lambdas.invocations(arn)}
    assert invocation_ids == request_ids


# --- the environment during a call -------------------------------------------------------------


def test_the_environment_during_the_call(secretsmanager, secret, rotation_lambdas):
    recorder = rotators.Recorder(
        env_keys=(
            "SECRETS_MANAGER_ENDPOINT",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "EXCLUDE_CHARACTERS",
            "PASSWORD_LENGTH",
        )
    )
    arn = rotation_lambdas.register(
        recorder, name="env", env={"EXCLUDE_CHARACTERS": "/@", "PASSWORD_LENGTH": 40}
    )

    rotate(secretsmanager, secret, arn)

    for environment in recorder.environments:
        assert environment == {
            "SECRETS_MANAGER_ENDPOINT": "https://secretsmanager.us-east-1.amazonaws.com",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "EXCLUDE_CHARACTERS": "/@",
            "PASSWORD_LENGTH": "40",
        }


def test_the_environment_is_restored_after_the_call(
    secretsmanager, secret, rotation_lambdas, monkeypatch
):
    monkeypatch.setenv("PASSWORD_LENGTH", "outer")
    monkeypatch.delenv("EXCLUDE_CHARACTERS", raising=False)
    before = dict(os.environ)
    arn = rotation_lambdas.register(
        rotators.correct, env={"EXCLUDE_CHARACTERS": "/@", "PASSWORD_LENGTH": "40"}
    )

    rotate(secretsmanager, secret, arn)

    assert "SECRETS_MANAGER_ENDPOINT" not in os.environ
    assert "EXCLUDE_CHARACTERS" not in os.environ
    assert os.environ["PASSWORD_LENGTH"] == "outer"
    assert dict(os.environ) == before


def test_the_environment_is_restored_after_a_failing_call(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)
    before = dict(os.environ)
    arn = rotation_lambdas.register(rotators.fails_at("createSecret"), env={"EXTRA": "1"})

    rotate(secretsmanager, secret, arn)

    assert dict(os.environ) == before


# --- handlers named by a string, imported lazily ------------------------------------------------

LAZY_MODULE = textwrap.dedent(
    """
    import rotators

    IMPORTED_WITH_LAMBDA_ENV = "SECRETS_MANAGER_ENDPOINT" in __import__("os").environ


    def handler(event, context):
        return rotators.correct(event, context)
    """
)


def test_a_module_function_string_is_imported_at_register_with_the_lambda_environment(
    secretsmanager, secret, rotation_lambdas, tmp_path, monkeypatch
):
    module_name = f"lazy_rotator_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module_name}.py").write_text(LAZY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module_name, raising=False)

    arn = rotation_lambdas.register(f"{module_name}:handler", name="lazy")
    assert sys.modules[module_name].IMPORTED_WITH_LAMBDA_ENV is True

    token = rotate(secretsmanager, secret, arn)

    assert [inv.error for inv in rotation_lambdas.invocations(arn)] == [None] * 4
    assert secretsmanager.get_secret_value(SecretId=secret)["VersionId"] == token


def test_a_file_path_string_is_imported_at_register(
    secretsmanager, secret, rotation_lambdas, tmp_path
):
    path = tmp_path / "rotator_file.py"
    path.write_text(LAZY_MODULE)
    before = set(sys.modules)

    arn = rotation_lambdas.register(f"{path}:handler")
    assert arn.endswith(":function:handler")
    loaded = [sys.modules[name] for name in set(sys.modules) - before]
    assert any(getattr(m, "IMPORTED_WITH_LAMBDA_ENV", None) is True for m in loaded)

    token = rotate(secretsmanager, secret, arn)

    assert secretsmanager.get_secret_value(SecretId=secret)["VersionId"] == token


def test_an_unimportable_string_handler_fails_at_register_naming_it(rotation_lambdas):
    with pytest.raises(LambdaRegistrationError, match="no_such_module_anywhere:handler"):
        rotation_lambdas.register("no_such_module_anywhere:handler", name="missing")

    assert rotation_lambdas.functions() == []


def test_a_handler_that_is_neither_callable_nor_a_target_is_refused(rotation_lambdas):
    with pytest.raises(LambdaRegistrationError):
        rotation_lambdas.register(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "timeout", [float("nan"), float("inf"), -1, 0, 0.5, 901, "30", True, None], ids=repr
)
def test_register_refuses_a_timeout_lambda_would_not_accept(rotation_lambdas, timeout):
    with pytest.raises(
        LambdaRegistrationError, match=r"timeout must be a number of seconds within 1\.\.900"
    ):
        rotation_lambdas.register(rotators.correct, timeout=timeout)
    assert rotation_lambdas.functions() == []
