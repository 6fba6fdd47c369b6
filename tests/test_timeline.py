"""The rotation timeline: one table per rotation, as text and as JSON, in failure reports too; and no
secret value anywhere the toolkit writes, unless the test opts in with show_values=True.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

import rotators
from rotation_testkit.assertions import (
    assert_not_stuck,
    assert_retried,
    assert_rotated,
    assert_valid_labels,
)
from rotation_testkit.invariants import short_id

RULES = {"AutomaticallyAfterDays": 30}
COLUMNS = ("time", "try", "step / event", "outcome", "labels after")


def rotate(client, lambda_arn: str, secret_id: str = "app/db") -> str:
    return client.rotate_secret(
        SecretId=secret_id, RotationLambdaARN=lambda_arn, RotationRules=RULES
    )["VersionId"]


def current_version(client, secret_id: str = "app/db") -> str:
    version = rotators.holder(client, secret_id, "AWSCURRENT")
    assert version is not None
    return version


def parse(text: str) -> list[tuple[str, list[dict]]]:
    """The text timeline back into (header, rows); each row a dict of the columns, labels parsed."""
    tables = []
    for block in text.split("\n\n"):
        header, columns, *lines = block.splitlines()
        starts = [columns.index(name) for name in COLUMNS]
        rows = []
        for line in lines:
            cells = [
                line[start:end].strip()
                for start, end in zip(starts, [*starts[1:], None], strict=True)
            ]
            row = dict(zip(COLUMNS, cells, strict=True))
            row["labels after"] = {
                version: stages.split("+")
                for version, stages in (item.split(":", 1) for item in cells[4].split())
            }
            rows.append(row)
        tables.append((header, rows))
    return tables


def outline(text: str) -> list[tuple[str, str, str]]:
    """(try, step / event, outcome) of every row of a one-table timeline."""
    ((_, rows),) = parse(text)
    return [(row["try"], row["step / event"], row["outcome"]) for row in rows]


# --- the text table -------------------------------------------------------------------------------


def test_no_rotation_no_table(secretsmanager, secret, rotation_kit):
    assert rotation_kit.timeline() == "(no rotation happened)"
    assert json.loads(rotation_kit.timeline_json()) == []


def test_one_rotation_is_one_table_with_labels_after_each_step(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    old = short_id(current_version(secretsmanager))
    new = short_id(rotate(secretsmanager, rotation_lambdas.register(rotators.correct)))

    text = rotation_kit.timeline()
    ((header, rows),) = parse(text)

    assert header == f"rotation of app/db, token {new}"
    assert [(r["try"], r["step / event"], r["outcome"]) for r in rows] == [
        ("1", "RotationStarted", "ok"),
        ("1", "createSecret", "ok"),
        ("1", "PutSecretValue", "ok"),
        ("1", "setSecret", "ok"),
        ("1", "testSecret", "ok"),
        ("1", "finishSecret", "ok"),
        ("1", "UpdateSecretVersionStage", "ok"),
        ("1", "RotationSucceeded", "ok"),
    ]
    assert [r["labels after"] for r in rows] == [
        {old: ["AWSCURRENT"], new: ["AWSPENDING"]},
        {old: ["AWSCURRENT"], new: ["AWSPENDING"]},
        {old: ["AWSCURRENT"], new: ["AWSPENDING"]},
        {old: ["AWSCURRENT"], new: ["AWSPENDING"]},
        {old: ["AWSCURRENT"], new: ["AWSPENDING"]},
        {old: ["AWSPREVIOUS"], new: ["AWSPENDING", "AWSCURRENT"]},
        {old: ["AWSPREVIOUS"], new: ["AWSPENDING", "AWSCURRENT"]},
        {old: ["AWSPREVIOUS"], new: ["AWSCURRENT"]},
    ]
    # API calls the rotation function made are indented under its step.
    assert "      PutSecretValue" in text
    assert "    createSecret" in text


def test_each_rotation_gets_its_own_table(secretsmanager, secret, rotation_lambdas, rotation_kit):
    secretsmanager.create_secret(Name="other", SecretString=json.dumps({"username": "x"}))
    arn = rotation_lambdas.register(rotators.correct)
    first = rotate(secretsmanager, arn)
    second = rotate(secretsmanager, arn)
    third = rotate(
        secretsmanager, rotation_lambdas.register(rotators.fails_at("createSecret")), "other"
    )

    headers = [header for header, _ in parse(rotation_kit.timeline())]

    assert headers == [
        f"rotation of app/db, token {short_id(first)}",
        f"rotation of app/db, token {short_id(second)}",
        f"rotation of other, token {short_id(third)}",
    ]
    only_db = [header for header, _ in parse(rotation_kit.timeline("app/db"))]
    assert only_db == headers[:2]
    assert [t["token"] for t in json.loads(rotation_kit.timeline_json("other"))] == [third]


def test_every_attempt_is_in_the_table_of_its_rotation(
    secretsmanager, secret, rotation_lambdas, rotation_kit
):
    rotation_kit.configure(max_attempts=2)
    rotate(secretsmanager, rotation_lambdas.register(rotators.fails_at("setSecret")))

    rows = outline(rotation_kit.timeline())

    assert [(attempt, what) for attempt, what, _ in rows] == [
        ("1", "RotationStarted"),
        ("1", "createSecret"),
        ("1", "PutSecretValue"),
        ("1", "setSecret"),
        ("1", "RotationFailed (setSecret)"),
        ("2", "RotationStarted"),
        ("2", "createSecret"),
        ("2", "setSecret"),
        ("2", "RotationFailed (setSecret)"),
    ]
    assert rows[3][2] == "InjectedFailure: injected failure at setSecret"


def test_the_clock_times_each_row(
    secretsmanager, secret, rotation_lambdas, rotation_clock, rotation_kit
):
    rotation_kit.configure(rotation_mode="deferred", step_duration=60)
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))
    rotation_clock.advance(minutes=10)

    ((_, rows),) = parse(rotation_kit.timeline())

    times = {row["step / event"]: row["time"] for row in rows}
    assert times["RotationStarted"] == "2025-01-01 09:01:00"
    assert times["setSecret"] == "2025-01-01 09:02:00"
    assert times["RotationSucceeded"] == "2025-01-01 09:04:00"


# --- faults in the outcome ------------------------------------------------------------------------

STEP_FAULTS = [
    ("fail_step", "fail_step('setSecret')", "InjectedStepFailure"),
    ("crash_after_step", "crash_after_step('setSecret')", "InjectedCrash"),
    ("time_out_step", "time_out_step('setSecret')", "TaskTimedOut"),
]


@pytest.mark.parametrize(("kind", "described", "error"), STEP_FAULTS)
def test_a_step_fault_is_in_the_outcome_of_its_row_in_json(
    secretsmanager,
    secret,
    rotation_lambdas,
    rotation_faults,
    rotation_clock,
    rotation_kit,
    kind,
    described,
    error,
):
    getattr(rotation_faults, kind)("setSecret")
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    (table,) = json.loads(rotation_kit.timeline_json())
    failed = [r for r in table["rows"] if r["what"] == "setSecret" and r["attempt"] == 1]

    (row,) = failed
    assert row["outcome"].startswith(f"[fault {described}] {error}: ")


@pytest.mark.parametrize(("kind", "described", "error"), STEP_FAULTS)
def test_a_step_fault_is_in_the_outcome_of_its_row_in_text(
    secretsmanager,
    secret,
    rotation_lambdas,
    rotation_faults,
    rotation_clock,
    rotation_kit,
    kind,
    described,
    error,
):
    # Which fault fired must survive the shortening of long outcomes in the text table.
    getattr(rotation_faults, kind)("setSecret")
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    (outcome,) = [
        o
        for attempt, what, o in outline(rotation_kit.timeline())
        if (attempt, what) == ("1", "setSecret")
    ]

    assert outcome.startswith(f"[fault {described}] {error}")


def test_an_api_fault_is_in_the_outcome_of_its_row(
    secretsmanager, secret, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.fail_api("PutSecretValue")
    rotate(secretsmanager, rotation_lambdas.register(rotators.correct))

    (table,) = json.loads(rotation_kit.timeline_json())
    puts = [r["outcome"] for r in table["rows"] if r["what"].strip() == "PutSecretValue"]

    assert len(puts) == 2  # the SDK retried the server error
    assert puts[0] == "[fault fail_api('PutSecretValue')] InternalServiceError"
    assert puts[1] == "ok"


# --- JSON -----------------------------------------------------------------------------------------


def test_the_json_has_the_same_tables_and_rows_as_the_text(
    secretsmanager, secret, rotation_lambdas, rotation_faults, rotation_kit
):
    rotation_faults.fail_step("testSecret")
    arn = rotation_lambdas.register(rotators.correct)
    rotate(secretsmanager, arn)
    rotate(secretsmanager, arn)

    text_tables = parse(rotation_kit.timeline())
    json_tables = json.loads(rotation_kit.timeline_json())

    assert len(json_tables) == len(text_tables) == 2
    for (header, text_rows), table in zip(text_tables, json_tables, strict=True):
        assert header == f"rotation of app/db, token {short_id(table['token'])}"
        assert table["secret_arn"] == secret
        assert len(table["rows"]) == len(text_rows)
        for text_row, row in zip(text_rows, table["rows"], strict=True):
            assert set(row) == {"time", "attempt", "what", "outcome", "labels"}
            assert text_row["time"] == row["time"]
            assert text_row["try"] == str(row["attempt"] or "-")
            assert text_row["step / event"] == row["what"].strip()
            outcome = text_row["outcome"]
            assert row["outcome"].startswith(outcome.removesuffix("..."))
            assert text_row["labels after"] == row["labels"]


# --- the failure report ---------------------------------------------------------------------------

GENERATED = """
import json
import uuid
from pathlib import Path

import boto3
import pytest

from rotation_testkit.assertions import assert_rotated


def new_value():
    value = f"S3CR3T-VALUE-{uuid.uuid4()}"
    with Path("values.txt").open("a") as values:
        values.write(value + "\\n")
    return value


def rotator(same_value=False):
    def handler(event, context):
        client = boto3.client("secretsmanager")
        arn, token = event["SecretId"], event["ClientRequestToken"]
        if "AWSCURRENT" in client.describe_secret(SecretId=arn)["VersionIdsToStages"][token]:
            return
        if event["Step"] == "createSecret":
            current = client.get_secret_value(SecretId=arn)["SecretString"]
            client.put_secret_value(
                SecretId=arn,
                ClientRequestToken=token,
                SecretString=current if same_value else new_value(),
                VersionStages=["AWSPENDING"],
            )
        elif event["Step"] == "finishSecret":
            stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
            current = next(v for v, labels in stages.items() if "AWSCURRENT" in labels)
            client.update_secret_version_stage(
                SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
                RemoveFromVersionId=current,
            )

    return handler


def rotate(secretsmanager, rotation_lambdas, **kwargs):
    secretsmanager.create_secret(Name="app/db", SecretString=new_value())
    secretsmanager.rotate_secret(
        SecretId="app/db",
        RotationLambdaARN=rotation_lambdas.register(rotator(**kwargs)),
        RotationRules={"AutomaticallyAfterDays": 30},
    )
"""

FAILS_AFTER_ROTATING = """

@pytest.mark.rotation_testkit(disabled_invariants=["new-value-differs"])
def test_fails_in_the_test(secretsmanager, rotation_lambdas, rotation_faults):
    rotation_faults.fail_step("setSecret")
    rotate(secretsmanager, rotation_lambdas, same_value=True)
    assert_rotated(secretsmanager, "app/db")


def test_fails_by_its_violation(secretsmanager, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas, same_value=True)


def test_fails_with_a_violation(secretsmanager, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas, same_value=True)
    assert False, "deliberately"
"""


def written_values(pytester: pytest.Pytester) -> list[str]:
    values = (pytester.path / "values.txt").read_text().split()
    assert values
    assert all(v.startswith("S3CR3T-VALUE-") for v in values)
    return values


def test_a_failing_test_that_rotated_reports_its_timeline(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(GENERATED + FAILS_AFTER_ROTATING)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=3)
    output = result.stdout.str()
    # The test's own failure, then the section with what the rotations did.
    result.stdout.fnmatch_lines(
        [
            # The test's own failure, then the section with what the rotations did.
            "*_ test_fails_in_the_test _*",
            "E * expected a new value in *, but it is identical to the value of * (values not shown)*",
            "*- rotation timeline -*",
            "rotation of app/db, token *",
            "*time*try*step / event*outcome*labels after",
            "*1*setSecret*InjectedStepFailure: *",
            "*2*RotationSucceeded*ok*:AWSPREVIOUS*:AWSCURRENT",
            # A violation fails the test in its call phase, the timeline in the section.
            "*_ test_fails_by_its_violation _*",
            "invariant 'new-value-differs' violated after the finishSecret step during "
            "finishSecret (attempt 1) on *",
            "*- rotation timeline -*",
            "rotation of app/db, token *",
            # A failing test with a violation: both in the section.
            "*_ test_fails_with_a_violation _*",
            "*- rotation timeline -*",
            "rotation of app/db, token *",
            "invariant 'new-value-differs' violated*",
        ]
    )
    for value in written_values(pytester):
        assert value not in output


def test_a_failing_test_that_did_not_rotate_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
def test_fails(secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString="x")
    assert False
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*- rotation timeline -*", "(no rotation happened)"])


def test_a_passing_test_has_no_timeline_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GENERATED
        + """

def test_passes(secretsmanager, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas)
"""
    )
    result = pytester.runpytest("-rA", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    assert "rotation timeline" not in result.stdout.str()


def test_the_failure_report_shows_values_only_when_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        GENERATED
        + """

@pytest.mark.rotation_testkit(show_values=True)
def test_fails(secretsmanager, rotation_lambdas):
    rotate(secretsmanager, rotation_lambdas)
    assert False
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    section = result.stdout.str().split("rotation timeline", 1)[1]
    for value in written_values(pytester):
        assert repr(value) in section


# --- no secret value anywhere ---------------------------------------------------------------------


class Values:
    """Distinctive secret values, made on demand and remembered, to look for them in every output."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def new(self) -> str:
        value = f"S3CR3T-VALUE-{uuid.uuid4()}"
        self.made.append(value)
        return value

    def absent_from(self, name: str, text: str) -> None:
        assert text, f"{name} is empty: nothing was checked"
        found = [value for value in self.made if value in text]
        assert not found, f"{name} shows secret values: {found}"


def plain_rotator(values: Values, *, same_value: bool = False, fail_at: str | None = None):
    """A rotator of a plain string secret; every new value comes from ``values``."""

    def handler(event, context):
        client = boto3.client("secretsmanager")
        arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
        if step == fail_at:
            raise ConnectionError("the protected service is unreachable")
        if "AWSCURRENT" in client.describe_secret(SecretId=arn)["VersionIdsToStages"][token]:
            return
        if step == "createSecret":
            try:
                client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
                return
            except client.exceptions.ResourceNotFoundException:
                pass
            current = client.get_secret_value(SecretId=arn)["SecretString"]
            client.put_secret_value(
                SecretId=arn,
                ClientRequestToken=token,
                SecretString=current if same_value else values.new(),
                VersionStages=["AWSPENDING"],
            )
        elif step == "finishSecret":
            rotators.finish_secret(client, arn, token)

    return handler


def json_rotator(values: Values):
    """Rotates a JSON secret but drops its api_key: a pending-keeps-json-keys violation."""

    def create(client, arn, token):
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            return
        except client.exceptions.ResourceNotFoundException:
            pass
        current = rotators._value(client, arn, VersionStage="AWSCURRENT")
        pending = {"username": current["username"], "password": values.new()}
        client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=json.dumps(pending),
            VersionStages=["AWSPENDING"],
        )

    def nothing(client, arn, token):
        return None

    return rotators.make_rotator(
        "drops_api_key", createSecret=create, setSecret=nothing, testSecret=nothing
    )


def test_no_secret_value_appears_in_anything_the_toolkit_writes(
    secretsmanager, rotation_lambdas, rotation_faults, rotation_kit
):
    values = Values()
    secretsmanager.create_secret(
        Name="app/db",
        SecretString=json.dumps(
            {"username": "app", "password": values.new(), "api_key": values.new()}
        ),
    )
    secretsmanager.create_secret(Name="app/token", SecretString=values.new())
    secretsmanager.create_secret(Name="app/stuck", SecretString=values.new())

    def probe(value):
        # A probe whose error quotes the credentials it was given.
        raise PermissionError(f"login refused for password {value['password']}")

    # app/db: a retried rotation that drops a key, under a probe that refuses everything.
    rotation_kit.set_probe(probe)
    rotation_faults.fail_step("testSecret")
    rotate(secretsmanager, rotation_lambdas.register(json_rotator(values)), "app/db")
    rotation_kit.set_probe(None)
    # app/token: rotated twice, the second time to the same value.
    rotate(secretsmanager, rotation_lambdas.register(plain_rotator(values)), "app/token")
    same = plain_rotator(values, same_value=True)
    rotate(secretsmanager, rotation_lambdas.register(same), "app/token")
    # app/stuck: every attempt fails.
    failing = plain_rotator(values, fail_at="testSecret")
    rotate(secretsmanager, rotation_lambdas.register(failing), "app/stuck")

    violations = rotation_kit.violations
    assert {v.invariant for v in violations} == {
        "pending-keeps-json-keys",
        "current-accepted-by-service",
        "new-value-differs",
    }
    assert len(values.made) == 7  # 4 initial values, 3 made by rotations
    values.absent_from("timeline", rotation_kit.timeline())
    values.absent_from("timeline_json", rotation_kit.timeline_json())
    values.absent_from("history.to_json", rotation_kit.history.to_json())
    values.absent_from("the events' repr", repr(list(rotation_kit.history)))
    values.absent_from("the violations", "\n".join(v.render() for v in violations))
    values.absent_from("the violations' repr", repr(violations))
    messages = []
    for check, secret_id, kwargs in [
        (assert_rotated, "app/token", {}),
        (assert_rotated, "app/stuck", {}),
        (assert_not_stuck, "app/stuck", {}),
    ]:
        with pytest.raises(AssertionError) as raised:
            check(secretsmanager, secret_id, **kwargs)
        messages.append(str(raised.value))
    with pytest.raises(AssertionError) as raised:
        assert_retried(rotation_kit, "app/db", attempts=5)
    messages.append(str(raised.value))
    assert_valid_labels(secretsmanager, "app/db")
    values.absent_from("the assertion messages", "\n".join(messages))

    rotation_kit.world.invariants.violations.clear()  # provoked on purpose, checked above


@pytest.mark.rotation_testkit(show_values=True)
def test_show_values_puts_the_values_in_the_timeline(
    secretsmanager, rotation_lambdas, rotation_kit
):
    values = Values()
    first = secretsmanager.create_secret(Name="app/token", SecretString=values.new())["VersionId"]

    token = rotate(secretsmanager, rotation_lambdas.register(plain_rotator(values)), "app/token")

    old, new = values.made
    text = rotation_kit.timeline()
    assert f"{short_id(first)}:AWSCURRENT={old!r}" in text
    assert f"{short_id(token)}:AWSCURRENT={new!r}" in text
    (table,) = json.loads(rotation_kit.timeline_json())
    assert table["rows"][-1]["values"] == {short_id(first): old, short_id(token): new}
    assert new in rotation_kit.history.to_json()


def test_values_stay_hidden_by_default(secretsmanager, rotation_lambdas, rotation_kit):
    values = Values()
    secretsmanager.create_secret(Name="app/token", SecretString=values.new())

    rotate(secretsmanager, rotation_lambdas.register(plain_rotator(values)), "app/token")

    assert rotation_kit.config.show_values is False
    (table,) = json.loads(rotation_kit.timeline_json())
    assert all("values" not in row for row in table["rows"])
    values.absent_from("timeline", rotation_kit.timeline())
