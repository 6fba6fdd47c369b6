"""`rotation-testkit reproduce` and `rotation_kit.reproduce`: a saved stuck state replayed with the
real rotator, the verdict against production's failure, the rehearsed unblock options and the
regression test it writes."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rotation_testkit.cli import main
from rotation_testkit.reproduce import ReproduceError, Reproduction, reproduce
from rotation_testkit.reproduce.values import shaped_placeholder

HERE = Path(__file__).resolve().parent
EVIDENCE = HERE / "evidence"
ROTATORS = HERE / "reproduce_rotators"
STATE = str(EVIDENCE / "describe-stuck.json")
PENDING_HELD_A_VALUE = str(EVIDENCE / "versions-pending-value.json")
# setSecret timed out once, then every createSecret retry failed with ResourceExistsException.
RETRY_STORY = str(EVIDENCE / "logs-retry-story.json")
# setSecret failed on every attempt with KeyError: 'host' (the pending value has no "host").
MISSING_HOST = str(EVIDENCE / "reproduce" / "logs-pending-missing-host.txt")
PENDING = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
CURRENT = {"username": "app", "password": "current-password-1", "host": "db.internal"}
NOW = "2025-06-02T09:30:00Z"


@pytest.fixture(autouse=True)
def rotators_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROTATORS))


def _retry_story(handler: str, **options: Any) -> Reproduction:
    return reproduce(
        STATE,
        PENDING_HELD_A_VALUE,
        RETRY_STORY,
        handler=handler,
        setup="stuck_service:setup",
        values={"AWSCURRENT": CURRENT},
        now=NOW,
        **options,
    )


def _rehearsed(result: Reproduction) -> dict[str, dict[str, Any]]:
    return {r.action: r.as_dict() for r in result.rehearsals}


# --- the retry story: createSecret that always stores a new value ---------------------------------


def test_a_create_secret_that_always_stores_a_new_value_is_reproduced_at_create_secret() -> None:
    result = _retry_story("stuck_rotators:always_new_value")

    assert result.reproduced
    assert result.exit_code == 0
    assert (result.local.step, result.local.error_type) == (
        "createSecret",
        "ResourceExistsException",
    )
    assert result.local.attempts == 3  # retried from createSecret with the same token
    assert result.outside is None  # the timeout that started it left no outside cause behind
    rehearsed = _rehearsed(result)
    assert rehearsed["remove-pending"]["next_rotation"] == "succeeded"
    assert rehearsed["remove-pending"]["commands"] == [
        "aws secretsmanager update-secret-version-stage --secret-id "
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/app/db-a1B2c3 "
        f"--version-stage AWSPENDING --remove-from-version-id {PENDING} --region eu-west-1"
    ]
    # Leaving the labels alone with the function unfixed fails the same way again.
    assert rehearsed["reattempt"]["next_rotation"] == "failed"
    assert rehearsed["reattempt"]["step"] == "createSecret"


def test_the_correct_rotator_recovers_so_the_failure_is_not_reproduced() -> None:
    result = _retry_story("stuck_rotators:correct")

    assert not result.reproduced
    assert result.exit_code == 1
    assert result.local.succeeded
    assert "recovers from the saved state" in result.explanation
    assert result.rehearsals == ()  # nothing is stuck locally: nothing to unblock


def _run_written_test(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROTATORS)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            str(path),
        ],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_written_test_fails_while_the_bug_is_there_and_passes_once_fixed(
    tmp_path: Path,
) -> None:
    buggy = _retry_story("stuck_rotators:always_new_value", write_test=tmp_path / "a" / "test_a.py")
    fixed = _retry_story("stuck_rotators:correct", write_test=tmp_path / "b" / "test_b.py")
    assert buggy.test_file == str(tmp_path / "a" / "test_a.py")

    failing = _run_written_test(tmp_path / "a" / "test_a.py")
    passing = _run_written_test(tmp_path / "b" / "test_b.py")

    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "1 failed" in failing.stdout
    assert "ResourceExistsException" in failing.stdout  # the timeline says why
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "1 passed" in passing.stdout
    written = Path(fixed.test_file or "").read_text()
    assert "rotation_kit.load_state(DESCRIBED, VERSIONS, values=VALUES)" in written
    assert "name='rotate-app-db'" in written  # the saved function's name
    assert "region='eu-west-1'" in written
    assert "account_id='111122223333'" in written


# --- a pending value without a key the rotator requires ------------------------------------------


def _missing_host(handler: str) -> Reproduction:
    pending = {"username": "app", "password": "pending-password-1"}  # no "host"
    return reproduce(
        STATE,
        PENDING_HELD_A_VALUE,
        MISSING_HOST,
        handler=handler,
        setup="stuck_service:setup",
        values={"AWSCURRENT": CURRENT, "AWSPENDING": pending},
        now=NOW,
    )


def test_a_pending_value_without_a_required_key_is_reproduced_with_the_functions_own_error() -> (
    None
):
    result = _missing_host("stuck_rotators:needs_host")

    assert result.reproduced
    assert result.production is not None
    assert (result.production.step, result.production.error_type) == ("setSecret", "KeyError")
    assert (result.local.step, result.local.error_type, result.local.message) == (
        "setSecret",
        "KeyError",
        "'host'",
    )
    # The invariant broken on the way explains the failure; it does not crash the reproduction.
    assert any("pending-keeps-json-keys" in v for v in result.local.violations)
    assert _rehearsed(result)["remove-pending"]["next_rotation"] == "succeeded"


def test_a_failure_at_another_step_is_not_reproduced_and_says_where() -> None:
    result = _missing_host("stuck_rotators:always_new_value")

    assert not result.reproduced
    assert result.local.step == "createSecret"
    assert "failed elsewhere: at createSecret" in result.explanation


def test_a_failure_the_service_names_has_no_error_type_of_its_own() -> None:
    result = _retry_story("stuck_rotators:never_finishes")

    assert not result.reproduced
    assert (result.local.step, result.local.error_type) == ("finishSecret", "RotationFailed")
    assert "AWSCURRENT is not on version" in (result.local.message or "")
    assert "failed elsewhere: at finishSecret" in result.explanation


# --- causes outside the function's code -----------------------------------------------------------


def test_an_outside_cause_is_applied_as_a_fault_and_said() -> None:
    result = reproduce(
        str(EVIDENCE / "describe-kms.json"),
        str(EVIDENCE / "logs-kms.json"),
        handler="stuck_rotators:correct",
        setup="stuck_service:setup",
        values={"AWSCURRENT": CURRENT},
        now=NOW,
    )

    assert result.reproduced
    assert result.outside is not None
    assert result.outside.operation == "GetSecretValue"
    assert (result.local.step, result.local.error_type) == ("createSecret", "AccessDeniedException")
    assert "applied as a fault" in (result.as_dict()["applied_fault"] or "")


def test_a_secret_that_never_held_a_value_rehearses_storing_its_first_value() -> None:
    first = {"username": "app", "password": "first-password-1"}
    result = reproduce(
        str(EVIDENCE / "describe-never-held-value.json"),
        str(EVIDENCE / "logs-never-held-value.txt"),
        handler="stuck_rotators:correct",
        setup="stuck_service:setup",
        values={"AWSCURRENT": first},
        now=NOW,
    )

    assert result.reproduced
    assert result.local.error_type == "ResourceNotFoundException"
    assert [r.as_dict()["action"] for r in result.rehearsals] == ["store-first-value"]
    assert result.rehearsals[0].outcome.succeeded
    assert "put-secret-value" in result.rehearsals[0].commands[0]


# --- the command line -------------------------------------------------------------------------------


def test_the_command_prints_json_and_exits_0_when_reproduced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(
        [
            "reproduce",
            STATE,
            PENDING_HELD_A_VALUE,
            RETRY_STORY,
            "stuck_rotators:always_new_value",
            "--setup",
            "stuck_service:setup",
            "--value",
            f"AWSCURRENT={json.dumps(CURRENT)}",
            "--now",
            NOW,
            "--format",
            "json",
            "--write-test",
            str(tmp_path / "test_incident.py"),
        ]
    )
    out, err = capsys.readouterr()

    assert code == 0, err
    document = json.loads(out)
    assert document["reproduced"] is True
    assert document["exit_code"] == 0
    assert document["production"]["step"] == "createSecret"
    assert document["local"]["step"] == "createSecret"
    assert document["local"]["attempts"] == 3
    assert document["test_file"] == str(tmp_path / "test_incident.py")
    actions = [r["action"] for r in document["rehearsals"]]
    assert actions == ["remove-pending", "finish-by-hand", "reattempt"]
    assert set(document["rehearsals"][0]) == {
        "action",
        "commands",
        "next_rotation",
        "step",
        "error",
    }
    assert CURRENT["password"] not in out


def test_the_command_prints_text_and_exits_1_when_not_reproduced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "reproduce",
            STATE,
            PENDING_HELD_A_VALUE,
            RETRY_STORY,
            "stuck_rotators:correct",
            "--setup",
            "stuck_service:setup",
            "--value",
            f"AWSCURRENT={json.dumps(CURRENT)}",
            "--now",
            NOW,
        ]
    )
    out, _ = capsys.readouterr()

    assert code == 1
    assert "Result: NOT REPRODUCED" in out
    assert "the rotation succeeded" in out
    assert CURRENT["password"] not in out


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ([STATE, RETRY_STORY], "TARGET"),
        ([str(EVIDENCE / "missing.json"), "stuck_rotators:correct"], "missing.json"),
        ([STATE, "stuck_rotators:correct", "--value", "AWSNOPE={}"], "AWSNOPE"),
        ([STATE, "stuck_rotators:correct", "--now", "yesterday"], "--now"),
        (
            [str(EVIDENCE / "describe-abandoned.json"), "stuck_rotators:correct"],
            "nothing to reattempt",
        ),
        ([STATE, "no_such_module_here:handler"], "no_such_module_here"),
        ([STATE, "--command", "no-such-program-here handler"], "no-such-program-here"),
        ([STATE, "stuck_rotators:correct", "--value", 'AWSCURRENT{"password": "x"}'], "--value"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], arguments: list[str], says: str
) -> None:
    code = main(["reproduce", *arguments])
    out, err = capsys.readouterr()

    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert says in err
    assert "Traceback" not in err
    assert '"password": "x"' not in err


# --- --command: a function in any language, through the Lambda Runtime API -----------------------


def test_a_function_run_from_a_command_is_reproduced_as_check_runs_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "reproduce",
            STATE,
            PENDING_HELD_A_VALUE,
            RETRY_STORY,
            "--command",
            f"{sys.executable} -m awslambdaric stuck_rotators.always_new_value",
            "--cwd",
            str(ROTATORS),
            "--value",
            f"AWSCURRENT={json.dumps(CURRENT)}",
            "--now",
            NOW,
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()

    assert code == 0, out + err
    document = json.loads(out)
    assert document["local"]["step"] == "createSecret"
    assert "ResourceExistsException" in document["local"]["error"]
    assert document["reproduced"] is True
    # Run out of process, the function cannot reach the in-process stand-in of the service that
    # --setup prepares, so only the verdict is checked here, not the rehearsals' outcomes.
    assert document["rehearsals"][0]["action"] == "remove-pending"


# --- values and placeholders ------------------------------------------------------------------------


def test_a_placeholder_has_the_given_values_keys_with_its_credentials_made_up() -> None:
    shaped = json.loads(shaped_placeholder(CURRENT, "7d0c1a52-6f7e-4b8e-9a51-2f4c8b0e1d11"))

    assert set(shaped) == set(CURRENT)
    assert shaped["username"] == CURRENT["username"]
    assert shaped["host"] == CURRENT["host"]
    assert shaped["password"] != CURRENT["password"]


def test_a_value_for_an_unknown_version_is_refused() -> None:
    with pytest.raises(ReproduceError, match="neither a version id nor a staging label"):
        reproduce(STATE, handler="stuck_rotators:correct", values={"no-such-version": "x"})


# --- the Python API in a test ------------------------------------------------------------------------


@pytest.mark.rotation_testkit(region="eu-west-1", account_id="111122223333", clock_start=NOW)
def test_rotation_kit_reproduce_runs_in_the_tests_world_and_leaves_it_as_it_was(
    rotation_kit: Any,
) -> None:
    result = rotation_kit.reproduce(
        STATE,
        PENDING_HELD_A_VALUE,
        RETRY_STORY,
        handler="stuck_rotators:always_new_value",
        setup="stuck_service:setup",
        values={"AWSCURRENT": CURRENT},
    )

    assert result.reproduced
    assert result.local.step == "createSecret"
    assert _rehearsed(result)["remove-pending"]["next_rotation"] == "succeeded"
    # The reproduction's faults, violations and secret are its own: the test ends clean.
    assert rotation_kit.faults.faults == []
    assert rotation_kit.violations == []
    assert rotation_kit.world.find_secret("prod/app/db") is None


@pytest.mark.rotation_testkit(
    region="eu-west-1", account_id="111122223333", clock_start=NOW, rotation_mode="deferred"
)
def test_rotation_kit_reproduce_reattempts_to_the_end_in_a_deferred_world(
    rotation_kit: Any,
) -> None:
    result = rotation_kit.reproduce(
        STATE,
        PENDING_HELD_A_VALUE,
        RETRY_STORY,
        handler="stuck_rotators:correct",
        setup="stuck_service:setup",
        values={"AWSCURRENT": CURRENT},
    )

    assert result.local.succeeded
    assert rotation_kit.config.rotation_mode == "deferred"


# --- the documentation's example ----------------------------------------------------------------


def test_the_sample_output_in_the_documentation_is_what_the_command_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (HERE.parent / "docs" / "stuck-pending.md").read_text()
    for name, content in re.findall(r'```(?:json|python) title="([a-z_.]+)"\n(.*?)```', page, re.S):
        if not name.startswith("test_"):
            (tmp_path / name).write_text(content)
    command = re.search(r"```sh\n(rotation-testkit reproduce .*?)```", page, re.S)
    sample = re.search(r"```text\n(Stuck rotation of .*?)```", page, re.S)
    assert command is not None
    assert sample is not None
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in ("app_db", "rotate_app_db"):  # the page's own, not a copy imported earlier
        monkeypatch.delitem(sys.modules, module, raising=False)

    code = main(shlex.split(command.group(1).replace("\\\n", " "))[1:])
    out, err = capsys.readouterr()

    assert code == 0, err
    assert out == sample.group(1)
    assert (tmp_path / "tests" / "test_incident_prod_app_db.py").is_file()
