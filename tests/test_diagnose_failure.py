"""production_failure: the step that failed last in production, its error, and whether the cause
lies outside the function's code, for a command that replays the incident."""

from __future__ import annotations

from pathlib import Path

import pytest

from rotation_testkit.diagnose import (
    FUNCTION_MISSING_CAUSE,
    IAM_DENIED,
    KMS_DENIED,
    TIMEOUT_WITHOUT_PROGRESS,
    LogLine,
    ProductionFailure,
    build_timeline,
    production_failure,
    read_evidence,
)
from rotation_testkit.diagnose.log_text import from_text

EVIDENCE = Path(__file__).parent / "evidence"
REQUEST = "5b0f7a3e-2c1d-4e8f-9a6b-1c2d3e4f5a6b"


def paths(*names: str) -> list[str]:
    return [str(EVIDENCE / name) for name in names]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ("logs-retry-story-console.txt",),
            ("createSecret", "ResourceExistsException", None),
        ),
        (("logs-vpc-timeout.txt",), (None, "TaskTimedOut", TIMEOUT_WITHOUT_PROGRESS)),
        (("logs-kms.json",), ("createSecret", "AccessDeniedException", KMS_DENIED)),
        (("logs-iam.json",), ("createSecret", "AccessDeniedException", IAM_DENIED)),
        (
            ("trail-function-missing.json",),
            ("createSecret", "ResourceNotFoundException", FUNCTION_MISSING_CAUSE),
        ),
        (("logs-missing-key.txt",), ("createSecret", "KeyError", None)),
        (("logs-propagation.json",), ("testSecret", "ValueError", None)),
        (
            ("logs-missing-module-console.txt",),
            ("createSecret", "Runtime.ImportModuleError", None),
        ),
    ],
    ids=["retry-story", "silent-timeout", "kms", "iam", "no-function", "key", "test", "module"],
)
def test_production_failure_is_the_last_failed_step_and_its_error(
    names: tuple[str, ...], expected: tuple[str | None, str, str | None]
) -> None:
    evidence = read_evidence(paths(*names, "describe-stuck.json"))

    failure = production_failure(evidence)

    assert isinstance(failure, ProductionFailure)
    step, error_type, _message, outside = failure
    assert (step, error_type, outside) == expected


def test_production_failure_gives_the_functions_own_message_masked() -> None:
    secret_line = (
        f"START RequestId: {REQUEST} Version: $LATEST\n"
        "[ERROR] ValueError: setSecret: login failed with password hunter2Xy9\n"
        f"END RequestId: {REQUEST}\n"
    )
    timeline = build_timeline(read_evidence_lines(secret_line))

    failure = production_failure(timeline)

    assert failure == ProductionFailure(
        "setSecret", "ValueError", "setSecret: login failed with password ****", None
    )


def test_production_failure_is_none_without_a_failure() -> None:
    quiet = f"START RequestId: {REQUEST} Version: $LATEST\nEND RequestId: {REQUEST}\n"

    assert production_failure(build_timeline(read_evidence_lines(quiet))) is None


def test_a_function_deployed_after_it_went_missing_is_judged_by_its_own_failure() -> None:
    evidence = read_evidence(
        paths("trail-function-missing.json", "logs-retry-story.json", "describe-stuck.json")
    )
    # The logs are older than the RotateSecret that found no function: that one is the last.
    assert production_failure(evidence) == ProductionFailure(
        "createSecret",
        "ResourceNotFoundException",
        "Resource not found for ARN 'arn:aws:lambda:eu-west-1:111122223333:function:rotate-app-db'",
        FUNCTION_MISSING_CAUSE,
    )
    later = build_timeline(
        read_evidence_lines(
            f"2025-06-01T10:00:00Z START RequestId: {REQUEST} Version: $LATEST\n"
            "2025-06-01T10:00:01Z [ERROR] KeyError: 'engine'\n"
            f"2025-06-01T10:00:01Z END RequestId: {REQUEST}\n"
        ),
        evidence.events,
    )
    assert production_failure(later) == ProductionFailure(None, "KeyError", "'engine'", None)


def read_evidence_lines(text: str) -> list[LogLine]:
    return from_text(text)
