"""What a function writes is kept per invocation, as CloudWatch Logs holds it, and shown in reports
under the step that wrote it, never in pytest's captured output; a function that logs a secret
value breaks the no-secret-in-logs invariant."""

from __future__ import annotations

import json
import logging
import sys
import textwrap

import pytest

import rotators

RULES = {"AutomaticallyAfterDays": 30}


def rotate(client, secret_id: str, arn: str) -> str:
    response = client.rotate_secret(SecretId=secret_id, RotationLambdaARN=arn, RotationRules=RULES)
    return str(response["VersionId"])


def chatty(event, context):
    print(f"print during {event['Step']}")
    print(f"stderr during {event['Step']}", file=sys.stderr)
    logging.getLogger("chatty").warning("warning during %s", event["Step"])
    logging.getLogger("chatty").debug("debug during %s", event["Step"])
    return rotators.correct(event, context)


def test_each_invocation_keeps_print_stderr_and_logging_as_cloudwatch_would(
    secretsmanager, secret, rotation_lambdas
):
    arn = rotation_lambdas.register(chatty)

    rotate(secretsmanager, secret, arn)

    for invocation in rotation_lambdas.invocations(arn):
        step, rid = invocation.step, invocation.request_id
        lines = invocation.logs.splitlines()
        assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
        assert f"print during {step}" in lines
        assert f"stderr during {step}" in lines
        # The runtime's root-logger format: level, time, request id, message.
        assert any(
            line.startswith("[WARNING]\t") and line.endswith(f"\t{rid}\twarning during {step}")
            for line in lines
        )
        # A record the function's loggers do not let through (DEBUG under WARNING) is not kept.
        assert f"debug during {step}" not in invocation.logs
        assert lines[-2] == f"END RequestId: {rid}"
        assert lines[-1].startswith(f"REPORT RequestId: {rid}\tDuration: ")
        # Nothing from the other steps.
        other = {"createSecret", "setSecret", "testSecret", "finishSecret"} - {step}
        assert not any(f"during {o}" in invocation.logs for o in other)


def test_a_record_the_functions_logger_lets_through_is_kept_whatever_the_test_handlers(
    secretsmanager, secret, rotation_lambdas
):
    logger = logging.getLogger("templated")

    def handler(event, context):
        logger.setLevel(logging.INFO)  # as AWS's templates do
        logger.info("createSecret: Successfully put secret for ARN %s", event["SecretId"])
        return rotators.correct(event, context)

    root = logging.getLogger()
    saved_level = root.level
    root.setLevel(logging.CRITICAL)  # a test process that silences everything else
    try:
        arn = rotation_lambdas.register(handler)
        rotate(secretsmanager, secret, arn)
    finally:
        root.setLevel(saved_level)

    first = rotation_lambdas.invocations(arn)[0]
    assert "[INFO]\t" in first.logs
    assert f"Successfully put secret for ARN {secret}" in first.logs


def test_an_error_is_logged_as_the_runtime_logs_it(secretsmanager, secret, rotation_lambdas):
    arn = rotation_lambdas.register(rotators.fails_at("setSecret"), name="fails")

    rotate(secretsmanager, secret, arn)

    failed = next(i for i in rotation_lambdas.invocations(arn) if i.error is not None)
    assert f"[ERROR] {type(failed.error).__name__}: {failed.error}" in failed.logs
    assert "Traceback (most recent call last):" in failed.logs


def test_the_output_of_a_function_does_not_reach_pytests_captured_output(
    secretsmanager, secret, rotation_lambdas, capsys, caplog
):
    caplog.set_level(logging.DEBUG, logger="chatty")
    arn = rotation_lambdas.register(chatty)

    rotate(secretsmanager, secret, arn)

    captured = capsys.readouterr()
    assert "during" not in captured.out
    assert "during" not in captured.err
    assert not [r for r in caplog.records if "during" in r.getMessage()]
    # The test's own output still reaches pytest.
    print("the test's own line")
    assert "the test's own line" in capsys.readouterr().out


def test_output_written_while_the_module_is_imported_belongs_to_the_cold_start(
    secretsmanager, secret, rotation_lambdas, tmp_path, monkeypatch
):
    module = tmp_path / "noisy_init_rotator.py"
    module.write_text(
        textwrap.dedent(
            """
            import rotators
            print("init of the function")

            def handler(event, context):
                return rotators.correct(event, context)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "noisy_init_rotator", raising=False)
    arn = rotation_lambdas.register("noisy_init_rotator:handler", name="noisy", cold_starts="every")

    rotate(secretsmanager, secret, arn)

    for invocation in rotation_lambdas.invocations(arn):
        init, _ = invocation.logs.split("START RequestId:", 1)
        assert init == "init of the function\n"
        assert "Init Duration:" in invocation.logs


PRINTS = textwrap.dedent(
    """
    import sys

    import rotators
    from tests_support import secret  # noqa: F401


    def chatty(event, context):
        print(f"stdout of {event['Step']}")
        print(f"stderr of {event['Step']}", file=sys.stderr)
        return rotators.fails_at("setSecret")(event, context)


    def test_fails(secretsmanager, secret, rotation_lambdas, rotation_kit):
        rotation_kit.configure(max_attempts=1)
        arn = rotation_lambdas.register(chatty)
        secretsmanager.rotate_secret(
            SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
        )
        assert False, "the rotation failed"
    """
)

SUPPORT = textwrap.dedent(
    """
    import json

    import pytest

    import rotators


    @pytest.fixture
    def secret(secretsmanager):
        rotators.reset_protected({"app": "initial-password"})
        return secretsmanager.create_secret(
            Name="app/db", SecretString=json.dumps({"username": "app", "password": "initial-password"})
        )["ARN"]
    """
)


def _support(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(tests_support=SUPPORT)
    pytester.syspathinsert()
    pytester.syspathinsert(str(rotators_path()))


def rotators_path():
    from pathlib import Path

    return Path(rotators.__file__).parent


def test_a_failing_test_shows_each_steps_output_under_it_not_in_captured_output(
    pytester: pytest.Pytester,
) -> None:
    _support(pytester)
    pytester.makepyfile(test_prints=PRINTS)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- rotation function logs -*",
            "createSecret, attempt 1, chatty (cold start), request *",
            "    START RequestId: *",
            "    stdout of createSecret",
            "    stderr of createSecret",
            "setSecret, attempt 1, chatty, request *, FAILED",
            "    stdout of setSecret",
            "    [[]ERROR[]] InjectedFailure: *",
        ]
    )
    output = result.stdout.str()
    assert "Captured stdout call" not in output
    assert "Captured stderr call" not in output


LEAKS = textwrap.dedent(
    """
    import json

    import boto3
    import pytest

    import rotators
    from tests_support import secret  # noqa: F401


    def leaky(event, context):
        if event["Step"] == "setSecret":
            client = boto3.client("secretsmanager")
            pending = client.get_secret_value(
                SecretId=event["SecretId"], VersionStage="AWSPENDING"
            )["SecretString"]
            print("setting", json.loads(pending)["password"])
        return rotators.correct(event, context)


    def test_leaks(secretsmanager, secret, rotation_lambdas):
        arn = rotation_lambdas.register(leaky)
        secretsmanager.rotate_secret(
            SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
        )
        value = json.loads(secretsmanager.get_secret_value(SecretId=secret)["SecretString"])
        open("values.txt", "w").write(value["password"])


    @pytest.mark.rotation_testkit(disabled_invariants=["no-secret-in-logs"])
    def test_leaks_with_the_invariant_off(secretsmanager, secret, rotation_lambdas):
        arn = rotation_lambdas.register(leaky)
        secretsmanager.rotate_secret(
            SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
        )
    """
)


def test_a_function_that_logs_a_secret_value_fails_naming_step_and_field_not_value(
    pytester: pytest.Pytester,
) -> None:
    _support(pytester)
    pytester.makepyfile(test_leaks=LEAKS)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_leaks _*",
            "invariant 'no-secret-in-logs' violated after the setSecret step during setSecret*",
            "    the function wrote field 'password' of app/db version * to its logs (log line 2)*",
        ]
    )
    leaked = (pytester.path / "values.txt").read_text()
    assert leaked not in result.stdout.str()
    assert "setting ***" in result.stdout.str()


def test_the_leak_check_is_a_reusable_function():
    from rotation_testkit.foundations.masking import Masker, secret_values
    from rotation_testkit.observation.log_leaks import secret_in_logs

    known = Masker.of(
        secret_values("app/db", {"v1": json.dumps({"username": "app", "password": "hunter2-x"})})
    )

    leaked = secret_in_logs("START\nconnecting as app with hunter2-x\nEND\n", known)

    assert leaked is not None
    assert leaked.field == "password"
    assert secret_in_logs("connecting as app\n", known) is None


def test_a_thread_the_function_starts_writes_to_the_functions_log(
    secretsmanager, secret, rotation_lambdas, capsys
):
    import threading

    def handler(event, context):
        worker = threading.Thread(target=lambda: print(f"worker of {event['Step']}"))
        worker.start()
        worker.join()
        return rotators.correct(event, context)

    arn = rotation_lambdas.register(handler)

    rotate(secretsmanager, secret, arn)

    for invocation in rotation_lambdas.invocations(arn):
        assert f"worker of {invocation.step}" in invocation.logs
    assert "worker of" not in capsys.readouterr().out


def test_a_traceback_starts_at_the_handlers_file_as_cloudwatch_shows_it(
    secretsmanager, rotation_lambdas
):
    def fails(event, context):
        raise RuntimeError("the database refused the new password")

    arn = rotation_lambdas.register(fails, name="fails")
    secretsmanager.create_secret(Name="app/traceback", SecretString="initial-value")
    secretsmanager.rotate_secret(
        SecretId="app/traceback",
        RotationLambdaARN=arn,
        RotationRules={"AutomaticallyAfterDays": 30},
    )

    logs = rotation_lambdas.invocations(arn)[0].logs
    frames = [line for line in logs.splitlines() if line.strip().startswith("File ")]
    assert frames, logs
    assert __file__ in frames[0], logs
    assert not any("rotation_testkit" in frame for frame in frames), logs


def test_a_stream_handler_made_after_the_first_invocation_writes_to_the_functions_log(
    secretsmanager, secret, rotation_lambdas, capsys
):
    # The loggers' stream handlers are found once per world; one made later must still count.
    logger = logging.getLogger("rotation_testkit_tests.late_handler")

    def handler(event, context):
        rotators.correct(event, context)
        logger.warning("late handler saw %s", event["Step"])

    arn = rotation_lambdas.register(handler, name="late-handler")
    rotate(secretsmanager, secret, arn)
    late = logging.StreamHandler(sys.__stderr__)
    logger.addHandler(late)
    logger.propagate = False
    try:
        rotate(secretsmanager, secret, arn)
    finally:
        logger.removeHandler(late)
        logger.propagate = True

    second = rotation_lambdas.invocations(arn)[4:]
    assert [i.step for i in second] == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    assert all(f"late handler saw {i.step}" in i.logs for i in second)
    assert "late handler saw" not in capsys.readouterr().err
