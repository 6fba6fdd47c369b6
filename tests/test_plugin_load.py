"""Loading the plugin costs a run that never uses it almost nothing, and takes nothing away.

Each test runs pytest in a fresh interpreter (``runpytest_subprocess``), where the plugin is loaded
through its entry point as in a user's project. (The time itself is measured in
benchmarks/plugin_load.py: tests never assert on time.)

The clients below carry an unreachable loopback proxy: were they not intercepted, their request
would be refused on this machine instead of reaching AWS.
"""

from __future__ import annotations

import textwrap

import pytest

CLIENTS_BUILT_AT_IMPORT = textwrap.dedent(
    """
    import sys

    import boto3
    from botocore.config import Config

    NOWHERE = Config(
        proxies={"http": "http://127.0.0.1:9", "https": "http://127.0.0.1:9"},
        retries={"max_attempts": 1},
    )
    FAKE = {"aws_access_key_id": "AKIAIMPORTTIME000000", "aws_secret_access_key": "fake"}

    # Built while pytest collects this module, before any test or fixture ran.
    secrets = boto3.client("secretsmanager", region_name="us-east-1", config=NOWHERE)
    queues = boto3.client("sqs", region_name="us-east-1", config=NOWHERE, **FAKE)
    MOTO_AT_COLLECTION = sorted(m for m in sys.modules if m == "moto" or m.startswith("moto."))
    """
)


def test_a_run_that_never_uses_the_kit_imports_neither_moto_nor_boto3(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys


        def test_plain():
            loaded = {name.split(".")[0] for name in sys.modules}
            assert "rotation_testkit" in loaded  # the plugin is loaded...
            assert not loaded & {"moto", "boto3", "botocore"}  # ...and that is all it costs
        """
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)


def test_a_client_built_at_collection_reaches_the_world_in_the_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_collected=CLIENTS_BUILT_AT_IMPORT
        + textwrap.dedent(
            """

            def test_secrets_manager(secretsmanager):
                assert MOTO_AT_COLLECTION == []
                secretsmanager.create_secret(Name="seen", SecretString="from the fixture")

                value = secrets.get_secret_value(SecretId="seen")

                assert value["SecretString"] == "from the fixture"


            def test_another_service(secretsmanager):
                url = queues.create_queue(QueueName="collected")["QueueUrl"]
                assert queues.list_queues()["QueueUrls"] == [url]
            """
        )
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=2)


def test_a_client_built_at_collection_still_works_under_plain_moto(
    pytester: pytest.Pytester,
) -> None:
    """A test that does not use the kit and starts moto itself keeps working as before."""
    pytester.makepyfile(
        test_plain_moto=CLIENTS_BUILT_AT_IMPORT
        + textwrap.dedent(
            """

            def test_plain_moto():
                from moto import mock_aws

                with mock_aws():
                    url = queues.create_queue(QueueName="plain")["QueueUrl"]
                    assert queues.list_queues()["QueueUrls"] == [url]
            """
        )
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
