"""Known secret values are masked in everything the kit prints, unless show_values=True."""

from __future__ import annotations

import base64
import json
import textwrap
import urllib.parse
import warnings
import xml.etree.ElementTree as ET

import boto3
import pytest

import rotators
from rotation_testkit.foundations.masking import (
    MASK,
    KnownValues,
    Masker,
    is_credential_field,
    secret_values,
)
from rotation_testkit.foundations.printed_forms import printed_forms
from rotation_testkit.observation.log_leaks import secret_in_logs

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


# --- every form a value is printed in ----------------------------------------------------------


def _binary_record(data: bytes) -> dict[str, str]:
    # As the backend keeps a SecretBinary: the base64 text the API carries.
    return {"secret_binary": base64.b64encode(data).decode("ascii")}


def _world_masker(*records: dict[str, str]) -> Masker:
    known = KnownValues()
    return known.update([("s", {f"v{n}": record for n, record in enumerate(records)})])


def test_a_binary_secret_is_masked_decoded_and_as_python_prints_bytes():
    masker = _world_masker(_binary_record(b"binary-password-123"))

    assert masker.mask("read binary-password-123 from it") == f"read {MASK} from it"
    assert masker.mask(repr(b"binary-password-123")) == f"b'{MASK}'"
    encoded = base64.b64encode(b"binary-password-123").decode()
    assert masker.mask(f"raw {encoded}") == f"raw {MASK}"


def test_binary_bytes_that_are_not_text_are_masked_in_their_repr():
    data = b"\xff\xfe\x00key-material\x01"
    masker = _world_masker(_binary_record(data))

    assert "key-material" not in masker.mask(f"got {data!r}")


def test_a_binary_secret_holding_json_has_its_fields_masked():
    data = json.dumps({"username": "app", "password": "inside-binary-1"}).encode()
    masker = _world_masker(_binary_record(data))

    assert masker.mask("as app with inside-binary-1") == f"as app with {MASK}"


def test_nested_fields_and_fields_whose_name_says_nothing_are_masked():
    value = {
        "username": "app_user",
        "host": "db.internal",
        "creds": {"password": "nested-pass-1", "extra": ["list-item-22"]},
        "conn": "postgres://app_user:conn-pass-9@db.internal/orders",
    }
    masker = Masker.of(secret_values("app/db", {"v1": json.dumps(value)}))

    text = masker.mask(
        "nested-pass-1 list-item-22 postgres://app_user:conn-pass-9@db.internal/orders"
    )

    assert text == f"{MASK} {MASK} {MASK}"
    assert masker.mask("as app_user on db.internal") == "as app_user on db.internal"
    paths = {known.field for known in masker.values}
    assert {"creds.password", "creds.extra[0]", "conn"} <= paths


@pytest.mark.parametrize(
    "printed",
    [
        pytest.param(lambda v: base64.b64encode(v.encode()).decode(), id="base64"),
        pytest.param(lambda v: base64.b64encode(v.encode()).decode().rstrip("="), id="base64-bare"),
        pytest.param(lambda v: base64.urlsafe_b64encode(v.encode()).decode(), id="base64-url"),
        pytest.param(lambda v: urllib.parse.quote(v, safe=""), id="percent-encoded"),
        pytest.param(lambda v: urllib.parse.quote_plus(v), id="form-encoded"),
        pytest.param(lambda v: json.dumps(v)[1:-1], id="json-escaped"),
        pytest.param(lambda v: json.dumps(v, ensure_ascii=False)[1:-1], id="json-unicode"),
    ],
)
def test_a_field_is_masked_in_the_forms_code_prints_it_in(printed):
    password = 'p@ss w/rd+"ü~?&=%'
    masker = Masker.of(secret_values("app/db", {"v1": json.dumps({"password": password})}))
    form = printed(password)

    assert masker.mask(f"sent [{form}]") == f"sent [{MASK}]"


def test_the_whole_json_value_is_masked_escaped_inside_a_json_log_line():
    secret = json.dumps({"username": "app", "password": "whole-1234"})
    masker = Masker.of(secret_values("app/db", {"v1": secret}))

    line = json.dumps({"message": "loaded", "secret": secret})

    assert "whole-1234" not in masker.mask(line)
    assert masker.mask(line) == json.dumps({"message": "loaded", "secret": MASK})


def test_short_values_mask_no_ordinary_word_in_any_form():
    masker = Masker.of(secret_values("cfg", {"v1": json.dumps({"mode": "on", "flag": "abc"})}))

    text = "turn on abc b24= YWJj on%20"

    assert masker.mask(text) == text
    assert all(len(form) >= 4 for form in printed_forms("abcd"))
    assert printed_forms("abc") == []


def test_a_json_value_nested_deeper_than_python_recurses_is_masked_whole():
    deep = "[" * 5000 + '"deep-value-1"' + "]" * 5000

    masker = Masker.of(secret_values("deep", {"v1": deep}))

    assert masker.mask(f"got {deep}") == f"got {MASK}"


def test_a_base64_form_in_logs_is_a_leak():
    known = Masker.of(
        secret_values("app/db", {"v1": json.dumps({"username": "app", "password": "hunter2-x"})})
    )
    header = base64.b64encode(b"app:hunter2-x").decode()
    encoded = base64.b64encode(b"hunter2-x").decode()

    leaked = secret_in_logs(f"START\nAuthorization token {encoded}\nEND\n", known)

    assert leaked is not None
    assert leaked.field == "password"
    # Encoded together with other text, a value cannot be recognised: said in the docs.
    assert secret_in_logs(f"Authorization: Basic {header}\n", known) is None


def test_a_describing_field_is_masked_but_logging_it_is_no_leak_unless_it_rotates():
    first = {"username": "app", "user_id": "uid-1234", "conn": "conn-first", "password": "pw-1234"}
    second = {**first, "conn": "conn-second", "password": "pw-5678"}
    known = Masker.of(secret_values("app/db", {"v1": json.dumps(first), "v2": json.dumps(second)}))

    assert known.mask("as uid-1234") == f"as {MASK}"
    assert secret_in_logs("working as uid-1234\n", known) is None
    leaked = secret_in_logs("dialing conn-second\n", known)
    assert leaked is not None
    assert leaked.field == "conn"
    nested = secret_in_logs(
        "with pw-5678\n",
        Masker.of(secret_values("s", {"v1": '{"creds": {"password": "pw-5678"}}'})),
    )
    assert nested is not None
    assert nested.field == "creds.password"


# --- the world's masking set follows the versions ----------------------------------------------


def test_a_versions_forms_are_computed_once(monkeypatch):
    from rotation_testkit.foundations import masking

    calls: list[str] = []
    original = masking.printed_forms

    def counted(text, raw=None):
        calls.append(text)
        return original(text, raw)

    monkeypatch.setattr(masking, "printed_forms", counted)
    known = KnownValues()
    versions = {"v1": {"secret_string": json.dumps({"password": "first-pass"})}}

    known.update([("s", versions)])
    first = len(calls)
    for _ in range(3):
        known.update([("s", versions)])

    assert first > 0
    assert len(calls) == first
    versions["v2"] = {"secret_string": json.dumps({"password": "second-pass"})}
    masker = known.update([("s", versions)])
    assert len(calls) == 2 * first
    assert masker.mask("first-pass second-pass") == f"{MASK} {MASK}"


def test_a_pruned_version_is_forgotten_and_a_value_two_versions_share_stays():
    known = KnownValues()
    shared = {"password": "rotated-1", "conn": "same-in-both"}
    versions = {
        "v1": {"secret_string": json.dumps(shared)},
        "v2": {"secret_string": json.dumps({**shared, "password": "rotated-2"})},
    }
    known.update([("s", versions)])

    del versions["v1"]
    masker = known.update([("s", versions)])

    assert masker.mask("rotated-1 rotated-2 same-in-both") == f"rotated-1 {MASK} {MASK}"
    assert known.update([]).mask("rotated-2") == "rotated-2"  # the secret was deleted


# --- through the world --------------------------------------------------------------------------


def _prints_the_binary_and_nested_values(event, context):
    client = boto3.client("secretsmanager")
    value = client.get_secret_value(SecretId=event["SecretId"], VersionStage="AWSCURRENT")
    print("binary", value["SecretBinary"], value["SecretBinary"].decode())
    print("base64", base64.b64encode(value["SecretBinary"]).decode())
    warnings.warn(f"cannot use {value['SecretBinary'].decode()}", stacklevel=1)
    raise ValueError(f"refused {value['SecretBinary'].decode()}")


def test_function_logs_history_and_timeline_mask_a_decoded_binary_secret(
    secretsmanager, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1, disabled_invariants=["no-secret-in-logs"])
    secretsmanager.create_secret(Name="bin", SecretBinary=b"binary-secret-9876")
    arn = rotation_lambdas.register(_prints_the_binary_and_nested_values, name="prints-binary")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        secretsmanager.rotate_secret(SecretId="bin", RotationLambdaARN=arn, RotationRules=RULES)

    (invocation, *_) = rotation_lambdas.invocations(arn)
    assert "binary-secret-9876" in invocation.logs  # kept as the function wrote it
    outputs = {
        "function logs": rotation_kit.function_logs(),
        "timeline": rotation_kit.timeline(),
        "history text": rotation_kit.history.to_text(),
        "history JSON": rotation_kit.history.to_json(),
    }
    encoded = base64.b64encode(b"binary-secret-9876").decode()
    for where, text in outputs.items():
        assert "binary-secret-9876" not in text, where
        assert encoded not in text, where
    assert f"binary b'{MASK}' {MASK}" in outputs["function logs"]
    assert f"ValueError: refused {MASK}" in outputs["history text"]


WARNING_TEST = textwrap.dedent(
    """
    import json
    import warnings


    def rotator(event, context):
        import boto3

        client = boto3.client("secretsmanager")
        value = json.loads(client.get_secret_value(SecretId=event["SecretId"])["SecretString"])
        warnings.warn("slow login with " + value["creds"]["password"])


    def test_warns(secretsmanager, rotation_lambdas):
        value = {"username": "app", "creds": {"password": "warned-pass-4242"}}
        secretsmanager.create_secret(Name="app/db", SecretString=json.dumps(value))
        arn = rotation_lambdas.register(rotator)
        secretsmanager.rotate_secret(
            SecretId="app/db", RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1}
        )
    """
)


def test_pytests_warnings_summary_masks_what_a_rotator_warns(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_warning=WARNING_TEST)
    pytester.makeini(
        "[pytest]\nrotation_testkit_disabled_invariants = no-secret-in-logs\n"
        "rotation_testkit_assert_rotations_succeed = false\n"
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, warnings=1)
    out = result.stdout.str()
    assert "warned-pass-4242" not in out
    assert f"slow login with {MASK}" in out
