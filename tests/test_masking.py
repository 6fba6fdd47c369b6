"""Known secret values are masked in everything the kit prints, unless show_values=True."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET

import boto3
import pytest

import rotators
from rotation_testkit.foundations.masking import MASK, Masker, is_credential_field, secret_values

RULES = {"AutomaticallyAfterDays": 30}


def rotate(client, secret_id: str, arn: str) -> str:
    response = client.rotate_secret(SecretId=secret_id, RotationLambdaARN=arn, RotationRules=RULES)
    return str(response["VersionId"])


# --- the rules ----------------------------------------------------------------------------------


def test_a_plain_secret_is_masked_whole():
    masker = Masker.of(secret_values("api/token", {"v1": "tok-0123456789"}))

    assert masker.mask("calling with tok-0123456789 now") == f"calling with {MASK} now"


def test_credential_fields_and_changing_fields_are_masked_descriptive_ones_stay_readable():
    first = {
        "engine": "postgres",
        "host": "db.internal",
        "port": 5432,
        "username": "app_user",
        "dbname": "orders",
        "masterarn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf",
        "password": "first-password",
        "apiKey": "key-value-1",
        "pin": "4711-a",
    }
    second = {**first, "username": "app_user_clone", "password": "second-password", "pin": "0815-b"}
    masker = Masker.of(secret_values("app/db", {"v1": json.dumps(first), "v2": json.dumps(second)}))

    text = masker.mask(" ".join(str(v) for v in [*first.values(), *second.values()]))

    for readable in ["postgres", "db.internal", "5432", "app_user", "app_user_clone", "orders"]:
        assert readable in text
    assert "arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf" in text
    # By name (password, apiKey) and because it changes between versions (pin).
    for hidden in ["first-password", "second-password", "key-value-1", "4711-a", "0815-b"]:
        assert hidden not in text


def test_the_field_names_that_count_as_credentials():
    assert all(
        is_credential_field(name)
        for name in ["password", "masterPassword", "client_secret", "api_key", "token", "KEY"]
    )
    assert not any(
        is_credential_field(name) for name in ["username", "host", "port", "engine", "masterarn"]
    )


def test_a_value_escaped_inside_json_or_a_repr_is_masked_too():
    masker = Masker.of(secret_values("s", {"v1": 'pa"ss\\word'}))

    assert "pa" not in masker.mask(json.dumps({"error": 'pa"ss\\word'}))
    assert "pa" not in masker.mask(repr(ValueError('pa"ss\\word')))


# --- everything the kit prints ------------------------------------------------------------------


def _raises_with_the_pending_password(event, context):
    result = rotators.correct(event, context)
    if event["Step"] == "testSecret":
        client = boto3.client("secretsmanager")
        pending = client.get_secret_value(SecretId=event["SecretId"], VersionStage="AWSPENDING")
        password = json.loads(pending["SecretString"])["password"]
        raise ConnectionError(f"login as app with {password} refused")
    return result


def _pending_password(rotation_kit, secret) -> str:
    secret_obj = rotation_kit.world.find_secret(secret)
    pending = next(v for v in secret_obj.versions.values() if "AWSPENDING" in v["version_stages"])
    return str(json.loads(pending["secret_string"])["password"])


def test_invocation_errors_history_and_timeline_are_masked(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    # The error the runtime logs holds the password: a leak, checked elsewhere.
    rotation_kit.configure(max_attempts=1, disabled_invariants=["no-secret-in-logs"])
    arn = rotation_lambdas.register(_raises_with_the_pending_password, name="leaky-error")

    rotate(secretsmanager, secret, arn)

    password = _pending_password(rotation_kit, secret)
    failed = next(i for i in rotation_lambdas.invocations(arn) if i.error is not None)
    assert password in str(failed.error)  # the exception itself is the function's, untouched
    outputs = {
        "history event error": "\n".join(str(e.error) for e in rotation_kit.history),
        "history JSON": rotation_kit.history.to_json(),
        "history text": rotation_kit.history.to_text(),
        "timeline": rotation_kit.timeline(),
        "timeline JSON": rotation_kit.timeline_json(),
        "function logs": rotation_kit.function_logs(),
    }
    for where, text in outputs.items():
        assert password not in text, where
    assert f"ConnectionError: login as app with {MASK} refused" in outputs["history text"]
    assert f"ConnectionError: login as app with {MASK} refused" in outputs["function logs"]


@pytest.mark.rotation_testkit(show_values=True, disabled_invariants=["no-secret-in-logs"])
def test_show_values_opts_out_of_masking(secretsmanager, secret, rotation_lambdas, rotation_kit):
    rotation_kit.configure(max_attempts=1)
    arn = rotation_lambdas.register(_raises_with_the_pending_password, name="leaky-error")

    rotate(secretsmanager, secret, arn)

    password = _pending_password(rotation_kit, secret)
    assert password in rotation_kit.history.to_text()
    assert password in rotation_kit.function_logs()


LEAKY_CLI_ROTATOR = textwrap.dedent(
    """
    import json
    import os

    import boto3


    def lambda_handler(event, context):
        client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])
        arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
        current = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
        print("step", step, "for", current["username"])
        raise RuntimeError(f"cannot log in with {current['password']}")
    """
)


def test_cli_reports_and_junit_mask_values_and_show_the_logs_of_a_failing_check(tmp_path, capsys):
    from rotation_testkit.cli import main

    target = tmp_path / "leaky_cli_rotator.py"
    target.write_text(LEAKY_CLI_ROTATOR)
    junit = tmp_path / "junit.xml"
    password = "initial-password-abcdef"
    secret = json.dumps({"username": "app", "password": password})

    code = main(
        [
            "check",
            f"{target}:lambda_handler",
            "--secret",
            secret,
            "--only",
            "one-rotation",
            "--junit-xml",
            str(junit),
        ]
    )

    out = capsys.readouterr().out
    assert code == 1
    assert password not in out
    assert f"RuntimeError: cannot log in with {MASK}" in out
    assert "function logs (the failing attempt):" in out
    assert "step createSecret for app" in out
    xml = junit.read_text()
    assert password not in xml
    (case,) = ET.parse(junit).getroot().iter("testcase")
    system_out = case.find("system-out")
    assert system_out is not None
    assert "step createSecret for app" in (system_out.text or "")


SAME_VALUE_TEST = textwrap.dedent(
    """
    import secrets

    from rotation_testkit.assertions import assert_rotated


    def test_same_value(secretsmanager):
        value = secrets.token_hex(12)
        open("value.txt", "w").write(value)
        secretsmanager.create_secret(Name="app/db", SecretString=value)
        secretsmanager.put_secret_value(SecretId="app/db", SecretString=value)
        del value
        assert_rotated(secretsmanager, "app/db")
    """
)


def test_assert_rotated_keeps_no_value_in_locals_that_pytest_l_would_print(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_same=SAME_VALUE_TEST)

    result = pytester.runpytest("-l", "-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    assert "identical to the value of" in result.stdout.str()
    assert (pytester.path / "value.txt").read_text() not in result.stdout.str()
