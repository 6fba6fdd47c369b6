"""The pytest plugin itself: loading, fixtures, settings, isolation, and the command line."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from importlib.metadata import entry_points

import pytest

import rotation_testkit
from rotation_testkit import cli
from rotation_testkit.config import KitConfig

# A rotation function that fails every step: each attempt ends at createSecret, so the number of
# createSecret invocations is the number of attempts.
FAILING_HANDLER = """
def always_fails(event, context):
    raise RuntimeError("the protected service is down")


def attempts(secretsmanager, rotation_lambdas, name="app/db"):
    secretsmanager.create_secret(Name=name, SecretString="initial")
    arn = rotation_lambdas.register(always_fails)
    secretsmanager.rotate_secret(
        SecretId=name, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )
    return [inv.step for inv in rotation_lambdas.invocations(arn)].count("createSecret")
"""


# --- loading ------------------------------------------------------------------------------------


def test_the_plugin_is_declared_as_a_pytest11_entry_point() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("rotation_testkit") == "rotation_testkit.plugin"


def test_the_plugin_is_loaded_in_this_session(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("rotation_testkit")


def test_the_plugin_loads_by_itself_in_a_new_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--trace-config")
    result.stdout.fnmatch_lines(["*rotation_testkit*plugin.py*"])
    result.assert_outcomes(passed=1)


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.rotation_testkit(**settings)*"])


def test_the_ini_options_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*rotation_testkit_region*",
            "*rotation_testkit_account_id*",
            "*rotation_testkit_max_attempts*",
        ]
    )


# --- fixtures -----------------------------------------------------------------------------------


def test_the_fixtures_work_in_a_test_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import boto3


        def test_secretsmanager(secretsmanager):
            secretsmanager.create_secret(Name="app/db", SecretString="s3cret")
            value = secretsmanager.get_secret_value(SecretId="app/db")["SecretString"]
            assert value == "s3cret"


        def test_another_client_reaches_the_same_backend(secretsmanager):
            secretsmanager.create_secret(Name="app/db", SecretString="s3cret")
            other = boto3.client("secretsmanager", region_name="us-east-1")
            assert other.get_secret_value(SecretId="app/db")["SecretString"] == "s3cret"


        def test_rotation_lambdas(secretsmanager, rotation_lambdas):
            seen = []

            def handler(event, context):
                seen.append(event["Step"])
                if event["Step"] == "createSecret":
                    secretsmanager.put_secret_value(
                        SecretId=event["SecretId"],
                        ClientRequestToken=event["ClientRequestToken"],
                        SecretString="rotated",
                        VersionStages=["AWSPENDING"],
                    )
                elif event["Step"] == "finishSecret":
                    stages = secretsmanager.describe_secret(SecretId=event["SecretId"])
                    current = next(
                        v for v, s in stages["VersionIdsToStages"].items() if "AWSCURRENT" in s
                    )
                    secretsmanager.update_secret_version_stage(
                        SecretId=event["SecretId"],
                        VersionStage="AWSCURRENT",
                        MoveToVersionId=event["ClientRequestToken"],
                        RemoveFromVersionId=current,
                    )

            secretsmanager.create_secret(Name="app/db", SecretString="initial")
            arn = rotation_lambdas.register(handler)
            secretsmanager.rotate_secret(
                SecretId="app/db",
                RotationLambdaARN=arn,
                RotationRules={"AutomaticallyAfterDays": 30},
            )

            assert seen == ["createSecret", "setSecret", "testSecret", "finishSecret"]
            assert secretsmanager.get_secret_value(SecretId="app/db")["SecretString"] == "rotated"
            assert [inv.error for inv in rotation_lambdas.invocations(arn)] == [None] * 4


        def test_rotation_kit(rotation_kit, secretsmanager, rotation_lambdas):
            assert rotation_kit.secretsmanager is secretsmanager
            assert rotation_kit.lambdas is rotation_lambdas
            secretsmanager.create_secret(Name="app/db", SecretString="s3cret")
            assert "CreateSecret" in rotation_kit.history.names()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=4)


# --- settings: ini options ----------------------------------------------------------------------


def test_the_region_ini_option_changes_the_region(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrotation_testkit_region = eu-west-3\n")
    pytester.makepyfile(
        """
        def test_region(secretsmanager, rotation_lambdas, rotation_kit):
            assert secretsmanager.meta.region_name == "eu-west-3"
            arn = secretsmanager.create_secret(Name="app/db", SecretString="x")["ARN"]
            assert arn.startswith("arn:aws:secretsmanager:eu-west-3:123456789012:secret:app/db-")
            function_arn = rotation_lambdas.register(lambda event, context: None, name="f")
            assert function_arn == "arn:aws:lambda:eu-west-3:123456789012:function:f"
            assert rotation_kit.config.region == "eu-west-3"
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_account_id_ini_option_changes_the_account(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrotation_testkit_account_id = 210987654321\n")
    pytester.makepyfile(
        """
        def test_account(secretsmanager):
            arn = secretsmanager.create_secret(Name="app/db", SecretString="x")["ARN"]
            assert arn.startswith("arn:aws:secretsmanager:us-east-1:210987654321:secret:app/db-")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_max_attempts_ini_option_changes_the_attempts(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrotation_testkit_max_attempts = 4\n")
    pytester.makepyfile(
        FAILING_HANDLER
        + """
def test_attempts(secretsmanager, rotation_lambdas, rotation_kit):
    assert rotation_kit.config.max_attempts == 4
    assert attempts(secretsmanager, rotation_lambdas) == 4
    assert len(rotation_kit.events("RotationFailed", secret_id="app/db")) == 4
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_the_default_number_of_attempts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        FAILING_HANDLER
        + f"""
def test_attempts(secretsmanager, rotation_lambdas):
    assert attempts(secretsmanager, rotation_lambdas) == {KitConfig.max_attempts}
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_bad_ini_value_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrotation_testkit_max_attempts = 0\n")
    pytester.makepyfile("def test_it(rotation_kit):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*rotation-testkit: ini option rotation_testkit_max_attempts: max_attempts=0 (int) is "
            "not accepted: max_attempts takes a whole number of at least 1*"
        ]
    )


# --- settings: the marker -----------------------------------------------------------------------


def test_the_marker_wins_over_the_ini_option(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrotation_testkit_max_attempts = 4\n")
    pytester.makepyfile(
        FAILING_HANDLER
        + """
import pytest


@pytest.mark.rotation_testkit(max_attempts=2)
def test_marked(secretsmanager, rotation_lambdas, rotation_kit):
    assert rotation_kit.config.max_attempts == 2
    assert attempts(secretsmanager, rotation_lambdas) == 2


def test_unmarked(secretsmanager, rotation_lambdas):
    assert attempts(secretsmanager, rotation_lambdas) == 4
"""
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=2)


def test_closer_markers_win_over_farther_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        FAILING_HANDLER
        + """
import pytest

pytestmark = pytest.mark.rotation_testkit(max_attempts=5, region="eu-west-1")


def test_module_level(secretsmanager, rotation_lambdas, rotation_kit):
    assert rotation_kit.config.max_attempts == 5
    assert attempts(secretsmanager, rotation_lambdas) == 5


@pytest.mark.rotation_testkit(max_attempts=1)
class TestClassLevel:
    def test_class_level(self, secretsmanager, rotation_lambdas, rotation_kit):
        assert rotation_kit.config.max_attempts == 1
        assert attempts(secretsmanager, rotation_lambdas) == 1

    @pytest.mark.rotation_testkit(max_attempts=2)
    def test_function_level(self, secretsmanager, rotation_lambdas, rotation_kit):
        assert rotation_kit.config.max_attempts == 2
        assert attempts(secretsmanager, rotation_lambdas) == 2
        # Settings the closer marker does not name still come from the farther one.
        assert secretsmanager.meta.region_name == "eu-west-1"
"""
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=3)


def test_an_unknown_setting_is_a_usage_error_naming_the_known_ones(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest


        @pytest.mark.rotation_testkit(max_attempt=2)
        def test_typo(rotation_kit):
            pass


        def test_unaffected(rotation_kit):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    known = ", ".join(sorted(f.name for f in fields(KitConfig)))
    result.stdout.fnmatch_lines(
        [
            "*UsageError: rotation-testkit: unknown rotation-testkit setting(s) max_attempt; "
            f"known settings are: {known}.",
        ]
    )


def test_a_positional_marker_argument_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest


        @pytest.mark.rotation_testkit(5)
        def test_positional(rotation_kit):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*rotation-testkit: @pytest.mark.rotation_testkit takes keyword*"])


def test_configure_changes_settings_for_the_rest_of_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        FAILING_HANDLER
        + """
from rotation_testkit.config import KitConfig


def test_configure(secretsmanager, rotation_lambdas, rotation_kit):
    assert rotation_kit.configure(max_attempts=1).max_attempts == 1
    assert attempts(secretsmanager, rotation_lambdas) == 1


def test_the_next_test_starts_from_the_defaults(rotation_kit):
    assert rotation_kit.config.max_attempts == KitConfig.max_attempts
"""
    )
    pytester.runpytest().assert_outcomes(passed=2)


# --- isolation, sequentially and under pytest-xdist ----------------------------------------------

ISOLATION_SUITE = """
import pytest


@pytest.mark.parametrize("n", range(8))
def test_each_test_sees_only_its_own_secrets(secretsmanager, n):
    # The same name in every test: a secret leaking from another test would make this fail.
    secretsmanager.create_secret(Name="shared", SecretString=f"value-{n}")
    secretsmanager.create_secret(Name=f"own-{n}", SecretString="x")
    names = sorted(s["Name"] for s in secretsmanager.list_secrets()["SecretList"])
    assert names == [f"own-{n}", "shared"]
    assert secretsmanager.get_secret_value(SecretId="shared")["SecretString"] == f"value-{n}"


def test_the_history_is_per_test(rotation_kit, secretsmanager):
    secretsmanager.create_secret(Name="shared", SecretString="x")
    assert rotation_kit.history.names() == ["CreateSecret"]


def test_the_functions_are_per_test(rotation_lambdas):
    assert rotation_lambdas.functions() == []
    rotation_lambdas.register(lambda event, context: None, name="rotator")
"""


@pytest.mark.parametrize(
    "xdist_args", [pytest.param([], id="sequential"), pytest.param(["-n", "2"], id="xdist")]
)
def test_tests_are_isolated(pytester: pytest.Pytester, xdist_args: list[str]) -> None:
    pytester.makepyfile(ISOLATION_SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider", *xdist_args)
    result.assert_outcomes(passed=10)
    if xdist_args:
        result.stdout.fnmatch_lines(["*2 workers*"])


def test_a_developers_aws_configuration_is_not_used(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = pytester.path / "aws-config"
    config.write_text("[profile production]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "missing-profile")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY000000000")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-session-token")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    pytester.makepyfile(
        """
        import os

        import boto3


        def test_hermetic(secretsmanager):
            assert "AWS_PROFILE" not in os.environ
            assert "AWS_SESSION_TOKEN" not in os.environ
            assert "AWS_ENDPOINT_URL" not in os.environ
            assert os.environ["AWS_ACCESS_KEY_ID"] != "AKIAREALKEY000000000"
            assert not os.path.exists(os.environ["AWS_CONFIG_FILE"])
            secretsmanager.create_secret(Name="app/db", SecretString="x")
            client = boto3.client("secretsmanager")
            assert client.meta.region_name == "us-east-1"
            assert client.get_secret_value(SecretId="app/db")["SecretString"] == "x"


        def test_a_test_without_the_kit_keeps_the_developers_environment():
            # Hermetic per test by default: the project's own integration tests are left alone.
            assert os.environ["AWS_PROFILE"] == "missing-profile"
            assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALKEY000000000"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


# --- the command line ---------------------------------------------------------------------------


def test_cli_main_version_returns_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--version"])
    assert isinstance(code, int)
    assert code == 0
    assert capsys.readouterr().out.strip() == f"rotation-testkit {rotation_testkit.__version__}"


def test_cli_main_without_a_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage: rotation-testkit" in capsys.readouterr().out


def test_python_dash_m_rotation_testkit_version() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "rotation_testkit", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"rotation-testkit {rotation_testkit.__version__}"
