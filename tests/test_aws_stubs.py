"""Other AWS services: moto answers them, stub_aws answers what it lacks, and a gap says so."""

from __future__ import annotations

import json
import textwrap

import boto3
import pytest
from botocore.exceptions import ClientError

import rotators
from rotation_testkit import AwsError, SimulatorLacksOperation
from rotation_testkit.execution.aws_stubs import StubError

RULES = {"AutomaticallyAfterDays": 30}


def rotate(client, secret_id: str, arn: str) -> None:
    client.rotate_secret(SecretId=secret_id, RotationLambdaARN=arn, RotationRules=RULES)


def elasticache_rotator(event, context):
    """Sets the new password on an ElastiCache user at setSecret, as a real rotator would."""
    if event["Step"] == "setSecret":
        sm = boto3.client("secretsmanager")
        pending = json.loads(
            sm.get_secret_value(SecretId=event["SecretId"], VersionStage="AWSPENDING")[
                "SecretString"
            ]
        )
        boto3.client("elasticache").modify_user(
            UserId=pending["username"],
            AuthenticationMode={"Type": "password", "Passwords": [pending["password"]]},
        )
        rotators.PROTECTED[pending["username"]] = pending["password"]
        return None
    return rotators.correct(event, context)


def test_other_services_are_answered_by_moto(secretsmanager, rotation_kit):
    iam = boto3.client("iam")
    iam.create_user(UserName="rotated-user")

    assert iam.get_user(UserName="rotated-user")["User"]["UserName"] == "rotated-user"


def test_an_operation_moto_lacks_fails_naming_service_operation_and_the_stub(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=1)
    arn = rotation_lambdas.register(elasticache_rotator)

    rotate(secretsmanager, secret, arn)

    failed = next(i for i in rotation_lambdas.invocations(arn) if i.error is not None)
    assert isinstance(failed.error, SimulatorLacksOperation)
    assert isinstance(failed.error, NotImplementedError)  # still what moto's users catch
    message = str(failed.error)
    assert "elasticache ModifyUser is not implemented by the in-memory AWS" in message
    assert "rotation_kit.stub_aws('elasticache', 'ModifyUser'" in message
    assert "SimulatorLacksOperation: elasticache ModifyUser is not" in rotation_kit.timeline()
    assert rotation_kit.world.aws_stubs.missing == [("elasticache", "ModifyUser")]


def test_a_stubbed_operation_answers_with_a_dict(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.stub_aws("elasticache", "ModifyUser", {"UserId": "app", "Status": "modifying"})
    arn = rotation_lambdas.register(elasticache_rotator)

    rotate(secretsmanager, secret, arn)

    assert [i.error for i in rotation_lambdas.invocations(arn)] == [None] * 4
    answer = boto3.client("elasticache").modify_user(UserId="app")
    assert answer["Status"] == "modifying"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_callable_answer_gets_the_requests_parameters(rotation_kit):
    calls = []

    def modify_user(params):
        calls.append(params)
        return {"UserId": params["UserId"], "Status": "active"}

    rotation_kit.stub_aws("elasticache", "modify_user", modify_user)
    client = boto3.client("elasticache")

    answer = client.modify_user(UserId="app", AccessString="on ~* +@all")

    assert answer["UserId"] == "app"
    assert calls == [{"UserId": "app", "AccessString": "on ~* +@all"}]


def test_a_stub_answers_with_an_aws_error(rotation_kit):
    rotation_kit.stub_aws(
        "elasticache", "ModifyUser", AwsError("UserNotFound", "User app not found", status=404)
    )
    client = boto3.client("elasticache")

    with pytest.raises(client.exceptions.UserNotFoundFault) as raised:
        client.modify_user(UserId="app")

    assert raised.value.response["Error"] == {
        "Code": "UserNotFound",
        "Message": "User app not found",
    }


def test_a_callable_may_raise_an_aws_error(rotation_kit):
    def refuse(params):
        raise AwsError("InvalidParameterValue", f"bad user {params['UserId']}")

    rotation_kit.stub_aws("elasticache", "ModifyUser", refuse)

    with pytest.raises(ClientError, match="bad user app"):
        boto3.client("elasticache").modify_user(UserId="app")


def test_a_stub_overrides_what_moto_implements(rotation_kit):
    rotation_kit.stub_aws(
        "sts", "GetCallerIdentity", {"Account": "999999999999", "Arn": "a", "UserId": "u"}
    )

    assert boto3.client("sts").get_caller_identity()["Account"] == "999999999999"


@pytest.mark.parametrize(
    ("service", "operation", "answer", "message"),
    [
        ("elastic-cash", "ModifyUser", {}, "unknown AWS service 'elastic-cash'"),
        ("elasticache", "ModifyUsr", {}, "elasticache has no operation 'ModifyUsr'"),
        ("secretsmanager", "GetSecretValue", {}, "rotation_faults.fail_api"),
        ("elasticache", "ModifyUser", 42, "must be a dict"),
    ],
)
def test_a_stub_that_cannot_work_is_refused_with_what_to_do(
    rotation_kit, service, operation, answer, message
):
    with pytest.raises(StubError, match=message):
        rotation_kit.stub_aws(service, operation, answer)


def test_stubs_belong_to_one_world(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import boto3
            import pytest
            from rotation_testkit import SimulatorLacksOperation


            def test_stubs(rotation_kit):
                rotation_kit.stub_aws("elasticache", "ModifyUser", {"UserId": "app"})
                assert boto3.client("elasticache").modify_user(UserId="app")["UserId"] == "app"


            def test_next_world_has_none(rotation_kit):
                with pytest.raises(SimulatorLacksOperation):
                    boto3.client("elasticache").modify_user(UserId="app")
            """
        )
    )

    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=2)


def test_a_failing_test_reports_what_the_simulator_lacks(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import boto3


            def test_wraps_the_error(rotation_kit):
                try:
                    boto3.client("elasticache").modify_user(UserId="app")
                except Exception:
                    raise RuntimeError("could not rotate")  # the rotator hides the cause
            """
        )
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- AWS operations the simulator lacks -*",
            "elasticache ModifyUser is not implemented by the in-memory AWS (moto)*",
        ]
    )


SETUP_MODULE = textwrap.dedent(
    """
    import rotators
    from rotation_testkit import active_kit


    def setup(secret):
        rotators.reset_protected({secret["username"]: secret["password"]})
        active_kit().stub_aws("elasticache", "ModifyUser", {"UserId": secret["username"]})
    """
)


def test_a_contract_checks_setup_stubs_through_the_checks_kit(tmp_path, capsys):
    from rotation_testkit.cli import main

    (tmp_path / "stub_setup.py").write_text(SETUP_MODULE)

    code = main(
        [
            "check",
            "test_aws_stubs:elasticache_rotator",
            "--setup",
            f"{tmp_path / 'stub_setup.py'}:setup",
            "--only",
            "one-rotation",
        ]
    )

    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS  one-rotation" in out


def test_without_the_stub_the_cli_report_names_the_gap(capsys):
    from rotation_testkit.cli import main

    code = main(["check", "test_aws_stubs:elasticache_rotator", "--only", "one-rotation"])

    out = capsys.readouterr().out
    assert code == 1
    assert "elasticache ModifyUser is not implemented by the in-memory AWS" in out
    assert "stub_aws('elasticache', 'ModifyUser'" in out
    # Every check failed without --setup, but the simulator's gap is the cause: no --setup note.
    assert "no --setup was given" not in out
