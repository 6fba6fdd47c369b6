"""`rotation-testkit diagnose` never prints a traceback: unreadable or absurd input gets a clear
message and exit 2; exit 1 stays reserved for a stuck or inconsistent secret."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotation_testkit import cli
from rotation_testkit.diagnose import (
    IN_PROGRESS,
    INCONSISTENT,
    STATES,
    STUCK,
    UnreadableInput,
    diagnose,
    run_diagnose_command,
)

ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3"
SAVED_AT = "2025-06-02T09:30:00Z"


def described(**fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "ARN": ARN,
        "Name": "prod/app/db",
        "RotationEnabled": True,
        "RotationLambdaARN": "arn:aws:lambda:eu-west-1:111122223333:function:rotate-app-db",
        "RotationRules": {"AutomaticallyAfterDays": 30},
        "LastChangedDate": "2025-05-31T03:05:10+00:00",
        "VersionIdsToStages": {"c8a3e1f0": ["AWSCURRENT"], "4e5f6a7b": ["AWSPENDING"]},
    }
    document.update(fields)
    return document


def run_text(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> tuple[int, str, str]:
    code = cli.main(["diagnose", str(path), "--now", SAVED_AT, *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"ARN": ' + "9" * 5000 + "}", "a number too long"),
        ("[" * 100_000 + "]" * 100_000, "nests JSON too deeply"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nests JSON too deeply"),
        ("\x00\x01\x02binary\x00", "binary data"),
        ('{"ARN": 5, "Name": ["x"], "VersionIdsToStages": {}}', "lacks ARN and Name"),
        (json.dumps(described(VersionIdsToStages=["AWSCURRENT"])), "VersionIdsToStages is not"),
        (
            json.dumps(described(VersionIdsToStages={"v": "AWSCURRENT"})),
            "VersionIdsToStages is not",
        ),
        (json.dumps({"Versions": [5], "ARN": ARN, **described()}), "an entry of 'Versions'"),
        (json.dumps({"SecretList": [5]}), "entry 1 of SecretList is a JSON int"),
        (json.dumps({"SecretList": []}), "no describe-secret or list-secrets output"),
    ],
    ids=[
        "huge-number",
        "deep-array",
        "deep-object",
        "binary",
        "wrong-id-types",
        "stages-list",
        "stages-string",
        "version-entry",
        "list-entry",
        "empty-list",
    ],
)
def test_absurd_input_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, fragment: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(content, encoding="utf-8")

    code, out, err = run_text(capsys, path)

    assert (code, out) == (2, "")
    assert err.startswith("rotation-testkit diagnose: ")
    assert fragment in err
    assert "Traceback" not in err


def test_bytes_that_are_not_text_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(bytes(range(128, 256)))

    code, _, err = run_text(capsys, path)

    assert code == 2
    assert "is not text in UTF-8 or UTF-16" in err


@pytest.mark.parametrize(
    "date",
    [
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+01:00",
        1e20,
        -1e20,
        "not a date",
        True,
        [2025, 6, 1],
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_ignored_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], date: object
) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(described(LastChangedDate=date, NextRotationDate=date)))

    code, out, err = run_text(capsys, path)

    assert (code, err) == (1, "")
    assert "Could not read LastChangedDate; it was ignored." in out
    assert "State: STUCK" in out


@pytest.mark.parametrize("now", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_now_at_the_ends_of_the_calendar_still_diagnoses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], now: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(described()))

    code = cli.main(["diagnose", str(path), "--now", now, "--format", "json"])

    assert code in (0, 1)
    assert json.loads(capsys.readouterr().out)["secrets"][0]["state"] in STATES


def test_lone_surrogates_in_names_print_as_replacement_characters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.json"
    # json.dumps escapes the surrogate as \ud800, which json.loads turns back into one.
    path.write_text(json.dumps(described(Name="prod/\ud800db")), encoding="utf-8")

    code, out, err = run_text(capsys, path)

    assert (code, err) == (1, "")
    assert "Secret: prod/\ufffddb" in out
    out.encode("utf-8")  # printable as UTF-8


def test_wrong_types_in_optional_fields_are_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps(
            described(
                RotationEnabled="yes",
                RotationRules={"AutomaticallyAfterDays": "ten", "Duration": 5},
                RotationLambdaARN=17,
                KmsKeyId=["k"],
                Tags={"Key": "a"},
                OwningService=False,
            )
        )
    )

    code, out, err = run_text(capsys, path)

    assert (code, err) == (1, "")
    assert "State: STUCK" in out


def test_logs_and_trail_documents_with_wrong_types_are_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(described()))
    logs = tmp_path / "logs.json"
    logs.write_text(
        json.dumps({"events": [{"message": 5}, {"message": "[ERROR] x", "timestamp": 1e30}]})
    )
    trail = tmp_path / "trail.json"
    trail.write_text(
        json.dumps(
            {
                "Events": [
                    {
                        "EventName": "RotationFailed",
                        "CloudTrailEvent": "{not json",
                        "EventTime": "?",
                    },
                    7,
                ]
            }
        )
    )

    code = cli.main(["diagnose", str(state), str(logs), str(trail), "--now", SAVED_AT])

    captured = capsys.readouterr()
    assert (code, captured.err) == (1, "")
    assert "[ERROR] x" in captured.out


# --- property-based: describe-secret-shaped documents ---------------------------------------------

_LABELS = st.sampled_from(["AWSCURRENT", "AWSPENDING", "AWSPREVIOUS", "custom", ""])
_DATES = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(
        ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00", "2025-06-01T10:00:00Z"]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=12),
)
_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**300), max_value=10**300),
        st.floats(),
        st.text(max_size=12),
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
_IDS = st.text(min_size=1, max_size=10)
_DOCUMENTS = st.fixed_dictionaries(
    {"ARN": st.one_of(st.just(ARN), st.text(max_size=40), _JSON)},
    optional={
        "Name": st.one_of(st.text(max_size=20), _JSON),
        "VersionIdsToStages": st.one_of(
            st.dictionaries(_IDS, st.lists(_LABELS, max_size=3), max_size=4), _JSON
        ),
        "RotationEnabled": st.one_of(st.booleans(), _JSON),
        "RotationLambdaARN": st.one_of(
            st.just("arn:aws:lambda:eu-west-1:111122223333:function:f"), _JSON
        ),
        "RotationRules": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "AutomaticallyAfterDays": _JSON,
                    "ScheduleExpression": _JSON,
                    "Duration": _JSON,
                },
            ),
            _JSON,
        ),
        "LastRotatedDate": _DATES,
        "LastChangedDate": _DATES,
        "NextRotationDate": _DATES,
        "DeletedDate": _DATES,
        "CreatedDate": _DATES,
        "KmsKeyId": _JSON,
        "Tags": st.one_of(
            st.lists(st.fixed_dictionaries({"Key": _JSON, "Value": _JSON}), max_size=3), _JSON
        ),
        "OwningService": _JSON,
        "Versions": st.lists(
            st.fixed_dictionaries(
                {"VersionId": st.one_of(_IDS, _JSON)},
                optional={"VersionStages": st.lists(_LABELS, max_size=2), "CreatedDate": _DATES},
            ),
            max_size=3,
        ),
        "NextToken": _JSON,
    },
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=_DOCUMENTS)
def test_any_describe_secret_shaped_document_is_diagnosed_or_refused_clearly(
    document: dict[str, Any],
) -> None:
    try:
        result = diagnose(document, now=SAVED_AT)
    except UnreadableInput as refused:
        assert str(refused).strip()  # noqa: PT017 - the message of a refusal says what is wrong
    else:
        assert result.state in STATES
        # A rotation that may still be running exits 0, whatever else the diagnosis notes.
        assert (result.exit_code == 1) == (
            result.state in (STUCK, INCONSISTENT)
            or (result.state != IN_PROGRESS and bool(result.problems))
        )
        result.text.encode("utf-16", "surrogatepass")
    try:
        text = json.dumps(document)
    except ValueError:  # an integer too long for json to write
        return
    out, err = io.StringIO(), io.StringIO()

    code = run_diagnose_command(
        ["-"], stdin=io.StringIO(text), stdout=out, stderr=err, now=SAVED_AT
    )

    assert code in (0, 1, 2)
    assert (code == 2) == bool(err.getvalue())
    out.getvalue().encode("utf-8")
    err.getvalue().encode("utf-8")


_LOG_WORDS = st.sampled_from(
    [
        "START RequestId: 5b0f7a3e-2c1d-4e8f-9a6b-1c2d3e4f5a6b Version: $LATEST\n",
        "END RequestId: 5b0f7a3e-2c1d-4e8f-9a6b-1c2d3e4f5a6b\n",
        "[ERROR] KeyError: 'engine'\n",
        "Task timed out after 3.00 seconds\n",
        "setSecret: Successfully set password\n",
        "testSecret: Unable to log into database with pending secret\n",
        "is not authorized to perform: secretsmanager:PutSecretValue on resource: arn:x\n",
        "Access to KMS is not allowed",
        "{'password': 'x'}",
        "2025-05-31T03:05:41.733Z\t",
        "9999-12-31T23:59:59-05:00 ",
        "[INFO]\t",
        "  File",
        "\ud800",
    ]
)
_LOG_TEXT = st.lists(st.one_of(_LOG_WORDS, st.text(max_size=8)), max_size=10).map("".join)
_LOG_DOCUMENTS = st.fixed_dictionaries(
    {
        "events": st.lists(
            st.fixed_dictionaries(
                {}, optional={"timestamp": st.one_of(st.integers(), _JSON), "message": _LOG_TEXT}
            ),
            max_size=5,
        )
    }
)
_RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "eventName": st.one_of(
            st.sampled_from(["RotationFailed", "RotationAbandoned", "PutSecretValue"]), _JSON
        ),
        "eventTime": _DATES,
        "errorMessage": st.one_of(_LOG_TEXT, _JSON),
        "errorCode": _JSON,
        "userAgent": st.one_of(st.just("Terraform/1.7.5"), _JSON),
        "requestParameters": _JSON,
        "additionalEventData": _JSON,
        "userIdentity": _JSON,
    },
)
_TRAIL_DOCUMENTS = st.fixed_dictionaries(
    {
        "Events": st.lists(
            st.one_of(
                _RECORDS.map(
                    lambda r: {"EventName": "RotationFailed", "CloudTrailEvent": json.dumps(r)}
                ),
                _RECORDS,
            ),
            min_size=1,
            max_size=4,
        )
    }
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(logs=st.one_of(_LOG_TEXT, _LOG_DOCUMENTS), events=_TRAIL_DOCUMENTS)
def test_any_logs_and_cloudtrail_events_are_diagnosed_without_an_error(
    logs: Any, events: Any
) -> None:
    try:
        result = diagnose(described(), now=SAVED_AT, logs=logs, events=events)
    except UnreadableInput as refused:  # e.g. {"events": [{}]}: no log event in it
        assert "output" in str(refused)  # noqa: PT017 - the refusal names what was expected
        return

    assert result.state == STUCK
    json.dumps(result.as_dict())
    result.text.encode("utf-16", "surrogatepass")


# --- property-based: every saved shape of logs and CloudTrail, through the command line ----------

_STAMPS = st.sampled_from(
    [
        "2025-05-31T03:05:11.310000+00:00 2025/05/31/[$LATEST]7c3a9e1f0b2d ",  # aws logs tail
        "2025-05-31T03:05:11 ",  # aws logs tail --format short
        "  | 2025-05-31T03:05:11.310+00:00 | ",  # a console row
        "  |                               | ",  # a console continuation row
        "2025-05-31T03:05:11.310Z\t",  # the console's copy
        "9999-12-31T23:59:59.999999+14:00 ",
        "\x1b[32m2025-05-31T03:05:11\x1b[0m ",
        "",
    ]
)
_SAVED_TEXT = st.lists(st.tuples(_STAMPS, _LOG_TEXT), max_size=8).map(
    lambda rows: "\n".join(stamp + text for stamp, text in rows) + "\nRequestId: x\n"
)
_API_RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "eventName": st.one_of(
            st.sampled_from(
                [
                    "RotateSecret",
                    "UpdateSecret",
                    "PutSecretValue",
                    "RotationStarted",
                    "UpdateSecretVersionStage",
                ]
            ),
            _JSON,
        ),
        "eventTime": _DATES,
        "errorCode": st.one_of(st.just("ResourceNotFoundException"), _JSON),
        "errorMessage": st.one_of(
            st.just("Resource not found for ARN 'arn:aws:lambda:eu-west-1:1:function:f'"),
            _LOG_TEXT,
            _JSON,
        ),
        "userAgent": _JSON,
        "userIdentity": st.one_of(
            st.fixed_dictionaries({"arn": st.one_of(st.text(max_size=30), _JSON)}), _JSON
        ),
        "requestParameters": st.one_of(
            st.dictionaries(st.sampled_from(["secretId", "kmsKeyId", "secretString"]), _JSON),
            _JSON,
        ),
    },
)
_TRAIL_FILES = st.one_of(
    st.fixed_dictionaries({"Records": st.lists(_API_RECORDS, max_size=4)}),
    _TRAIL_DOCUMENTS,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(logs=_SAVED_TEXT, trail=_TRAIL_FILES)
def test_any_saved_log_text_and_cloudtrail_file_never_ends_in_a_traceback(
    tmp_path: Path, logs: str, trail: Any
) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(described()))
    log_file = tmp_path / "logs.txt"
    log_file.write_text(logs, encoding="utf-8", errors="surrogatepass")
    trail_file = tmp_path / "trail.json"
    try:
        trail_file.write_text(json.dumps(trail))
    except ValueError:  # an integer too long for json to write
        return
    out, err = io.StringIO(), io.StringIO()

    code = run_diagnose_command(
        [str(state), str(log_file), str(trail_file)], stdout=out, stderr=err, now=SAVED_AT
    )

    assert code in (0, 1, 2)
    if code == 2:
        assert err.getvalue().count("\n") == 1
    else:
        assert err.getvalue() == ""
        assert "State: STUCK" in out.getvalue()
    out.getvalue().encode("utf-8")
