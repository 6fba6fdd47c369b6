"""Rotators in other languages, run the way Lambda runs them: by AWS's runtime interface clients,
out of process, against the kit's endpoint.

The Node.js tests need ``npm ci`` in examples/other_languages/node (CI does it; set
ROTATION_TESTKIT_REQUIRE_NODE=1 to fail instead of skipping when it is missing).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from rotation_testkit.contract import CHECK_NAMES, RotatorContract, RotatorUnderTest, run_checks
from rotation_testkit.kit import RotationKit

# Not a common word: masking hides every known secret value, also inside other text.
INITIAL_PASSWORD = "initial-password-0"

HERE = Path(__file__).parent
NODE = HERE / "node"
PYTHON = HERE / "python"
NODE_RIC = "npx aws-lambda-ric"
PYTHON_RIC = "python -m awslambdaric"


@pytest.fixture
def node_ready() -> None:
    missing = []
    if shutil.which("npx") is None:
        missing.append("Node.js (npx) is not installed")
    if not (NODE / "node_modules" / "aws-lambda-ric").is_dir():
        missing.append(f"the npm packages are not installed: run `npm ci` in {NODE}")
    if missing:
        if os.environ.get("ROTATION_TESTKIT_REQUIRE_NODE") == "1":
            pytest.fail("; ".join(missing))
        pytest.skip("; ".join(missing))


def rotate(kit: RotationKit, function_arn: str) -> dict[str, str]:
    secret = kit.secretsmanager.create_secret(
        Name="app/db", SecretString=json.dumps({"username": "app", "password": INITIAL_PASSWORD})
    )
    kit.secretsmanager.rotate_secret(
        SecretId=secret["ARN"],
        RotationLambdaARN=function_arn,
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    value: dict[str, str] = json.loads(
        kit.secretsmanager.get_secret_value(SecretId="app/db")["SecretString"]
    )
    return value


# --- Node.js, AWS SDK for JavaScript v3, aws-lambda-ric ---------------------------------------------


# The contract checks against index.mjs and buggy.mjs run from the command line, as
# docs/other-languages.md shows them: tests/test_docs_facts.py runs those commands and compares
# their output with the page.


@pytest.mark.usefixtures("node_ready")
def test_step_faults_work_for_the_node_rotator(
    rotation_kit: RotationKit, rotation_lambdas: Any, rotation_faults: Any
) -> None:
    rotation_faults.fail_step("setSecret")
    rotation_faults.time_out_step("testSecret")
    arn = rotation_lambdas.register_command(f"{NODE_RIC} index.handler", cwd=str(NODE))

    value = rotate(rotation_kit, arn)

    assert value["password"] != INITIAL_PASSWORD
    invocations = rotation_lambdas.invocations(arn)
    errors = [(i.step, i.error_text) for i in invocations if i.error is not None]
    assert errors == [
        ("setSecret", errors[0][1]),
        ("testSecret", "TaskTimedOut: Task timed out after 30.00 seconds"),
    ]
    assert "InjectedStepFailure" in str(errors[0][1])
    created = next(i for i in invocations if i.step == "createSecret" and "stored" in i.logs)
    assert "INFO\tcreateSecret: stored a new password" in created.logs


# --- Python, boto3, awslambdaric ----------------------------------------------------------------------


def test_the_python_rotator_passes_the_contract_checks() -> None:
    rotator = RotatorUnderTest(command=f"{PYTHON_RIC} rotator.lambda_handler", cwd=str(PYTHON))
    names = ["one-rotation", "steps-repeated", "fail-createSecret-then-retry", "timeout"]
    results = run_checks(rotator, names)
    assert [(r.name, r.passed) for r in results] == [(n, True) for n in names], [
        r.message for r in results if not r.passed
    ]


def test_api_faults_and_logs_with_awslambdaric(
    rotation_kit: RotationKit, rotation_lambdas: Any, rotation_faults: Any
) -> None:
    rotation_faults.fail_api("PutSecretValue", code="AccessDeniedException", step="createSecret")
    rotation_faults.crash_after_step("finishSecret")
    arn = rotation_lambdas.register_command(f"{PYTHON_RIC} rotator.lambda_handler", cwd=str(PYTHON))

    value = rotate(rotation_kit, arn)

    assert value["password"] != INITIAL_PASSWORD
    first = rotation_lambdas.invocations(arn)[0]
    assert first.step == "createSecret"
    assert first.error_text is not None
    assert "AccessDeniedException" in first.error_text
    assert "AccessDeniedException" in first.logs  # awslambdaric logged the error
    denied = rotation_kit.events("PutSecretValue")[0]
    assert (denied.error, denied.step) == ("AccessDeniedException", "createSecret")


class TestPythonRotatorAsAContract(RotatorContract):
    """A contract class runs a command as it runs a handler (two checks here, to stay quick)."""

    command = f"{PYTHON_RIC} rotator.lambda_handler"
    cwd = str(PYTHON)
    skip_checks = tuple(
        name for name in CHECK_NAMES if name not in ("one-rotation", "current-token-noop")
    )
