"""A developer's real AWS configuration is never used: the fixtures work, and nothing leaks in.

The outer environment here points at a bogus profile, a bogus endpoint and a session token, all of
which would break or bypass moto if they reached boto3.
"""

from __future__ import annotations

import os
import textwrap

import boto3
import pytest

import rotators
from rotation_testkit.sandbox import FAKE_ACCESS_KEY_ID

BOGUS_ENDPOINT = "http://127.0.0.1:9"
LEAKY = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_SESSION_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


@pytest.fixture(autouse=True)
def outer_aws_environment(monkeypatch, tmp_path) -> dict[str, str]:
    """A developer's shell: set up before the kit's fixtures (autouse fixtures come first)."""
    config = tmp_path / "aws-config"
    config.write_text(
        textwrap.dedent(
            f"""
            [default]
            region = eu-central-1
            endpoint_url = {BOGUS_ENDPOINT}
            [profile bogus]
            region = eu-central-1
            endpoint_url = {BOGUS_ENDPOINT}
            """
        )
    )
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        textwrap.dedent(
            """
            [default]
            aws_access_key_id = AKIABOGUSDEFAULT0000
            aws_secret_access_key = bogus-default-secret
            [bogus]
            aws_access_key_id = AKIABOGUSPROFILE0000
            aws_secret_access_key = bogus-profile-secret
            aws_session_token = bogus-profile-token
            """
        )
    )
    outer = {
        "AWS_PROFILE": "bogus",
        "AWS_ENDPOINT_URL": BOGUS_ENDPOINT,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": BOGUS_ENDPOINT,
        "AWS_SESSION_TOKEN": "bogus-session-token",
        "AWS_ACCESS_KEY_ID": "AKIABOGUSENVIRON0000",
        "AWS_SECRET_ACCESS_KEY": "bogus-environ-secret",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_REGION": "eu-central-1",
    }
    for key, value in outer.items():
        monkeypatch.setenv(key, value)
    return outer


def assert_hermetic(client) -> None:
    credentials = client._request_signer._credentials.get_frozen_credentials()
    assert credentials.access_key == FAKE_ACCESS_KEY_ID
    assert credentials.token is None
    assert client.meta.region_name == "us-east-1"
    assert client.meta.endpoint_url == "https://secretsmanager.us-east-1.amazonaws.com"


def test_outer_aws_variables_do_not_leak_into_the_test(outer_aws_environment, secretsmanager):
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        assert key not in os.environ, key
    assert "AWS_SESSION_TOKEN" not in os.environ
    assert os.environ["AWS_ACCESS_KEY_ID"] == FAKE_ACCESS_KEY_ID
    assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    for key in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        assert os.environ.get(key) != outer_aws_environment[key]


def test_the_fixture_client_uses_the_fake_credentials(secretsmanager):
    assert_hermetic(secretsmanager)
    created = secretsmanager.create_secret(Name="hermetic", SecretString="x")

    assert secretsmanager.get_secret_value(SecretId=created["ARN"])["SecretString"] == "x"


@pytest.mark.parametrize(
    "make",
    [
        lambda: boto3.client("secretsmanager"),
        lambda: boto3.Session().client("secretsmanager"),
        lambda: boto3.session.Session().client("secretsmanager"),
    ],
    ids=["boto3.client", "boto3.Session", "new-session"],
)
def test_clients_the_test_builds_are_hermetic_and_share_the_backend(secretsmanager, make):
    secretsmanager.create_secret(Name="shared", SecretString="seen")

    client = make()

    assert_hermetic(client)
    assert client.get_secret_value(SecretId="shared")["SecretString"] == "seen"


def test_a_rotation_inside_the_bogus_environment_works(secretsmanager, secret, rotation_lambdas):
    recorder = rotators.Recorder(inner=rotators.with_session_client)
    arn = rotation_lambdas.register(recorder, name="recorder")

    secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )

    assert [inv.error for inv in rotation_lambdas.invocations(arn)] == [None] * 4
    for environment in recorder.environments:
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
            assert environment[key] is None
        assert environment["AWS_SESSION_TOKEN"] is None
        assert environment["AWS_REGION"] == "us-east-1"


# --- with pytester: the plugin's own set-up and tear-down ---------------------------------------

INNER_LEAK_TEST = textwrap.dedent(
    """
    import os

    def test_inner(secretsmanager):
        assert "AWS_PROFILE" not in os.environ
        assert "AWS_ENDPOINT_URL" not in os.environ
        assert "AWS_SESSION_TOKEN" not in os.environ
        secretsmanager.create_secret(Name="inner", SecretString="x")
        assert secretsmanager.get_secret_value(SecretId="inner")["SecretString"] == "x"
    """
)


def test_the_outer_environment_is_restored_after_the_test(pytester, outer_aws_environment):
    pytester.makepyfile(test_inner=INNER_LEAK_TEST)

    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    for key, value in outer_aws_environment.items():
        assert os.environ.get(key) == value, key


def test_the_outer_environment_is_hidden_from_a_subprocess_run(pytester, outer_aws_environment):
    """A fresh process, where the plugin is loaded through its entry point only."""
    pytester.makepyfile(test_inner=INNER_LEAK_TEST)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


INNER_REGION_TEST = textwrap.dedent(
    """
    import os

    import boto3

    REGION = {region!r}


    def test_region(secretsmanager, rotation_lambdas):
        assert secretsmanager.meta.region_name == REGION
        assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == REGION
        arn = secretsmanager.create_secret(Name="regional", SecretString="x")["ARN"]
        assert arn.startswith(f"arn:aws:secretsmanager:{{REGION}}:")

        other = boto3.client("secretsmanager")
        assert other.meta.region_name == REGION
        assert other.get_secret_value(SecretId="regional")["SecretString"] == "x"

        seen = []

        def handler(event, context):
            seen.append((event["SecretId"], os.environ["SECRETS_MANAGER_ENDPOINT"]))
            client = boto3.client(
                "secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"]
            )
            client.describe_secret(SecretId=event["SecretId"])
            raise RuntimeError("stop after one step")

        function = rotation_lambdas.register(handler)
        assert function == f"arn:aws:lambda:{{REGION}}:123456789012:function:handler"
        secretsmanager.rotate_secret(
            SecretId="regional",
            RotationLambdaARN=function,
            RotationRules={{"AutomaticallyAfterDays": 1}},
        )
        assert seen[0] == (arn, f"https://secretsmanager.{{REGION}}.amazonaws.com")
        assert "describe_secret" not in str(rotation_lambdas.invocations()[0].error)
        assert isinstance(rotation_lambdas.invocations()[0].error, RuntimeError)
    """
)


@pytest.mark.parametrize("config_file", ["ini", "pyproject"])
def test_the_region_comes_from_the_ini_option(pytester, config_file):
    region = "eu-west-2" if config_file == "ini" else "ap-southeast-2"
    if config_file == "ini":
        pytester.makeini(f"[pytest]\nrotation_testkit_region = {region}\n")
    else:
        pytester.makepyprojecttoml(
            f'[tool.pytest.ini_options]\nrotation_testkit_region = "{region}"\n'
        )
    pytester.makepyfile(test_region=INNER_REGION_TEST.format(region=region))

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


def test_the_default_region_is_us_east_1(secretsmanager, rotation_lambdas):
    assert secretsmanager.meta.region_name == "us-east-1"
    assert rotation_lambdas.register(rotators.correct).startswith("arn:aws:lambda:us-east-1:")


# --- which tests are hermetic -------------------------------------------------------------------

MIXED_RUN = textwrap.dedent(
    """
    import os

    import boto3
    import pytest

    # Built while pytest collects, as many rotator modules do at import time, from the user's
    # own profile.
    CLIENT = boto3.client("secretsmanager")


    def test_an_integration_test_sees_the_users_environment():
        assert os.environ["AWS_ENDPOINT_URL"] == {endpoint!r}
        assert os.environ["AWS_PROFILE"] == "bogus"


    def test_a_kit_test_is_hermetic_and_the_collected_client_answers_from_the_world(
        secretsmanager,
    ):
        assert "AWS_ENDPOINT_URL" not in os.environ and "AWS_PROFILE" not in os.environ
        regional = boto3.client("secretsmanager", region_name=CLIENT.meta.region_name)
        regional.create_secret(Name="collected", SecretString="x")
        assert CLIENT.get_secret_value(SecretId="collected")["SecretString"] == "x"


    @pytest.mark.rotation_testkit(max_attempts=3)
    def test_the_marker_alone_makes_a_test_hermetic():
        assert "AWS_PROFILE" not in os.environ


    def test_after_a_kit_test_the_users_environment_is_back():
        assert os.environ["AWS_PROFILE"] == "bogus"
    """
)


def test_only_tests_that_use_the_kit_are_hermetic_by_default(
    pytester, outer_aws_environment, monkeypatch
):
    # Credentials from the profile, not from variables: the collected client resolves them so.
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    pytester.makepyfile(test_mixed=MIXED_RUN.format(endpoint=BOGUS_ENDPOINT))

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")

    result.assert_outcomes(passed=4)
    notes = [line for line in result.outlines if "resolved credentials from" in line]
    assert len(notes) == 1
    assert "shared-credentials-file" in notes[0]


COLLECTION_TIME_CLIENT = textwrap.dedent(
    """
    import os

    import boto3

    # Built while pytest collects, as many rotator modules do at import time.
    CLIENT = boto3.client("secretsmanager")
    ENVIRONMENT_AT_IMPORT = dict(os.environ)


    def test_the_collection_time_client_reaches_the_backend(secretsmanager):
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                    "HTTPS_PROXY", "http_proxy", "ALL_PROXY", "NO_PROXY"):
            assert key not in ENVIRONMENT_AT_IMPORT, key
        assert CLIENT.meta.region_name == "us-east-1"
        secretsmanager.create_secret(Name="collected", SecretString="x")
        assert CLIENT.get_secret_value(SecretId="collected")["SecretString"] == "x"


    def test_a_test_without_the_kit_is_hermetic_too():
        assert "AWS_PROFILE" not in os.environ
    """
)


def test_the_session_setting_is_hermetic_from_the_first_import(
    pytester, outer_aws_environment, monkeypatch
):
    for key in ("HTTPS_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(key, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "example.com")
    pytester.makeini("[pytest]\nrotation_testkit_hermetic = session\n")
    pytester.makepyfile(test_collected=COLLECTION_TIME_CLIENT)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)


def test_an_unknown_hermetic_setting_is_a_usage_error(pytester):
    pytester.makeini("[pytest]\nrotation_testkit_hermetic = always\n")
    pytester.makepyfile("def test_nothing():\n    pass\n")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*rotation_testkit_hermetic takes 'test' or 'session'*"])


@pytest.fixture
def outer_proxies(monkeypatch) -> None:
    for key in ("HTTP_PROXY", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.setenv(key, "http://127.0.0.1:9")


def test_proxy_variables_are_cleared_in_either_case(outer_proxies, secretsmanager):
    names = {key.upper() for key in os.environ}
    assert not names & {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}


def test_urllib_requests_off_loopback_are_refused(secretsmanager):
    import urllib.error
    import urllib.request

    with pytest.raises(
        urllib.error.URLError, match=r"rotation-testkit blocked GET https://example\.com/"
    ):
        urllib.request.urlopen("https://example.com/", timeout=1)


def test_urllib_requests_to_loopback_go_direct_despite_an_outer_proxy(
    outer_proxies, secretsmanager
):
    import http.server
    import threading
    import urllib.request

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/", timeout=5) as answer:
            assert answer.read() == b"hello"
    finally:
        server.server_close()
