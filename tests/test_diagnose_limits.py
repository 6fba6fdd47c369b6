"""diagnose stays bounded on careless input, and never repeats a credential quoted in the logs.

Every file (and standard input) is read with a size cap before it is parsed; a list-secrets output
is read in time linear in the number of secrets; each shape in which a log line may print a
credential is masked, with ``(masked)`` said once per quoted line.
"""

from __future__ import annotations

import io
import json
import sys
import tracemalloc
from pathlib import Path

import pytest

from rotation_testkit import cli
from rotation_testkit.diagnose import read_evidence, run_diagnose_command
from rotation_testkit.diagnose import reading as reading_module

EVIDENCE = Path(__file__).parent / "evidence"
SAVED_AT = "2025-06-02T09:30:00Z"
CAP = reading_module.MAX_INPUT_BYTES


# --- size caps ----------------------------------------------------------------------------------


def test_a_file_larger_than_the_cap_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as file:
        file.truncate(CAP + 1)  # sparse: no disk, no time

    code = cli.main(["diagnose", str(big)])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert f"{big} is larger than 64 MB" in err


def test_a_file_at_the_cap_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = (EVIDENCE / "describe-stuck.json").read_bytes()
    monkeypatch.setattr(reading_module, "MAX_INPUT_BYTES", len(state))
    path = tmp_path / "state.json"
    path.write_bytes(state)

    (secret,) = read_evidence([str(path)]).secrets

    assert secret[0]["Name"] == "prod/app/db"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused_without_reading_more_than_the_cap(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tracemalloc.start()
    try:
        code = cli.main(["diagnose", "/dev/zero"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "/dev/zero is larger than 64 MB" in err
    assert peak < 2 * CAP


def test_standard_input_is_capped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading_module, "MAX_INPUT_BYTES", 1000)
    err = io.StringIO()

    code = run_diagnose_command(
        ["-"], stdin=io.BytesIO(b" " * 5000), stdout=io.StringIO(), stderr=err
    )

    assert code == 2
    assert "standard input is larger than" in err.getvalue()


# --- linear in the number of secrets ----------------------------------------------------------


def _secret_list(count: int) -> str:
    return json.dumps(
        {
            "SecretList": [
                {
                    "ARN": f"arn:aws:secretsmanager:eu-west-1:111122223333:secret:s{n}-AbCdEf",
                    "Name": f"s{n}",
                    "VersionIdsToStages": {f"v{n}": ["AWSCURRENT"]},
                }
                for n in range(count)
            ]
        }
    )


# Counted in a fresh interpreter: a profile hook in a process that ran other tests (threads left
# behind, other hooks) may count their work too, or wait on them.
_COUNT_CALLS = """
import sys
from rotation_testkit.diagnose import read_evidence

def calls(path):
    count = 0
    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1
    sys.setprofile(profile)
    try:
        read_evidence([path], secret="s7")
    finally:
        sys.setprofile(None)
    return count

print(calls(sys.argv[2]) / calls(sys.argv[1]))
"""


def test_reading_a_list_of_secrets_is_linear_in_their_number(tmp_path: Path) -> None:
    import subprocess

    small, large = tmp_path / "small.json", tmp_path / "large.json"
    small.write_text(_secret_list(1000))
    large.write_text(_secret_list(4000))

    done = subprocess.run(
        [sys.executable, "-c", _COUNT_CALLS, str(small), str(large)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    ratio = float(done.stdout.strip())

    # Four times the secrets: about four times the work (a quadratic reading gives sixteen).
    assert ratio < 5


def test_one_secret_of_a_long_list_is_diagnosed(capsys: pytest.CaptureFixture[str]) -> None:
    path_text = _secret_list(16_000)
    code = run_diagnose_command(
        ["-"],
        stdin=io.StringIO(path_text),
        stdout=(out := io.StringIO()),
        stderr=io.StringIO(),
        secret="s15999",
        now=SAVED_AT,
    )

    assert code == 0
    assert "Secret: s15999" in out.getvalue()


# --- masking ------------------------------------------------------------------------------------

VALUE = "Zr8kP2wQ9xT4"
SHAPES = [
    f"setSecret: login failed with password {VALUE} for user app",
    f"password={VALUE} host=db",
    f"token: {VALUE}",
    f"using api key {VALUE}",
    f"Authorization: Bearer {VALUE}",
    f"connecting to postgres://app:{VALUE}@db.internal:5432/app",
    f"ALTER USER app WITH PASSWORD '{VALUE}'",
    f"ALTER USER 'app'@'%' IDENTIFIED BY '{VALUE}'",
    f"KeyError: '{VALUE}'",
    f'value {{"username": "app", "password": "{VALUE}"}}',
    f"{{'conn': {{'db_pass': '{VALUE}'}}}}",
    f'{{"creds": {{"secret_token": "{VALUE}"}}}}',
]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_credential_quoted_in_the_logs_is_masked_in_every_output(shape: str) -> None:
    from rotation_testkit.diagnose import diagnose

    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())
    request = "5b0f7a3e-2c1d-4e8f-9a6b-1c2d3e4f5a6b"
    logs = (
        f"START RequestId: {request} Version: $LATEST\n"
        f"[ERROR] ValueError: setSecret: {shape}\n"
        f"END RequestId: {request}\n"
    )

    result = diagnose(described, now=SAVED_AT, logs=logs)

    quoted = [quote for cause in result.causes for quote in cause.evidence]
    assert quoted, "the failing line is quoted"
    assert VALUE not in result.text
    assert VALUE not in json.dumps(result.as_dict())
    for quote in quoted:
        assert quote.count("(masked)") == 1
        assert quote.endswith("(masked)")


def test_names_and_sentences_stay_readable_and_unmarked() -> None:
    from rotation_testkit.diagnose.masking import mask_quote

    for line in (
        "[ERROR] KeyError: 'engine'",
        "KeyError: 'engine key is missing from secret JSON'",
        "createSecret: Successfully put secret for ARN arn:aws:secretsmanager:x:1:secret:a-b",
        'password authentication failed for user "app"',
        "Unable to import module 'lambda_function': No module named 'psycopg2'",
        "The secret token has expired",
    ):
        assert mask_quote(line) == line


def test_the_attempts_in_the_json_output_carry_the_error_message_masked() -> None:
    from rotation_testkit.diagnose import diagnose

    described = json.loads((EVIDENCE / "describe-stuck.json").read_text())
    request = "5b0f7a3e-2c1d-4e8f-9a6b-1c2d3e4f5a6b"
    logs = (
        f"START RequestId: {request} Version: $LATEST\n"
        f"[ERROR] ValueError: setSecret: login failed with password {VALUE}\n"
        f"END RequestId: {request}\n"
    )

    (attempt,) = diagnose(described, now=SAVED_AT, logs=logs).as_dict()["attempts"]

    assert attempt["error_message"] == "setSecret: login failed with password ****"
    assert attempt["step"] == "setSecret"
