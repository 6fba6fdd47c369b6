"""Every AWS CLI command diagnose prints runs as printed: a real operation of the service with
real parameters (checked against botocore's service models), the region of the resource, and no
placeholder for the user to replace."""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path

import botocore.session
import pytest

from rotation_testkit.diagnose import diagnose as run_diagnosis
from rotation_testkit.diagnose import read_evidence

EVIDENCE = Path(__file__).parent / "evidence"
CASES = [
    ("describe-stuck.json", "versions-placeholder.json", "logs-vpc-timeout.txt"),
    ("describe-stuck.json", "logs-endpoint-timeout.json"),
    ("describe-stuck.json", "logs-database-unreachable.json"),
    ("describe-kms.json", "logs-kms.json"),
    ("describe-kms.json",),
    ("describe-stuck.json", "logs-iam.json"),
    ("describe-cannot-invoke.json", "trail-cannot-invoke.json"),
    ("describe-stuck.json", "logs-missing-key.txt"),
    ("describe-stuck.json", "logs-password-policy.json"),
    ("describe-stuck.json", "versions-pending-value.json", "logs-propagation.json"),
    ("describe-never-held-value.json", "logs-never-held-value.txt"),
    ("describe-abandoned.json", "trail-abandoned.json"),
    ("describe-stuck.json",),
    ("describe-stuck.json", "versions-pending-value.json"),
    ("describe-stuck.json", "versions-pending-value.json", "logs-retry-story-tail.txt"),
    ("describe-stuck.json", "versions-placeholder.json", "logs-missing-module-console.txt"),
    ("describe-stuck.json", "versions-placeholder.json", "trail-function-missing.json"),
    ("describe-stuck.json", "versions-pending-value.json", "trail-records-reconfigured.json"),
]
# Options every AWS CLI command takes.
GLOBAL_OPTIONS = {"region", "query", "output"}
# Commands of the AWS CLI itself, not API operations (each printed with a v1 alternative).
CLI_ONLY = {("logs", "tail")}
_COMMAND = re.compile(r"`(aws [^`]+)`|^ {7}(aws .+)$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\bREGION\b|<[^>]+>")


def printed_commands() -> list[tuple[str, str]]:
    found = []
    for files in CASES:
        evidence = read_evidence([str(EVIDENCE / name) for name in files])
        ((described, versions),) = evidence.secrets
        result = run_diagnosis(
            described,
            versions,
            now="2025-06-02T09:30:00Z",
            logs=evidence.logs if evidence.logs_given else None,
            events=evidence.events if evidence.trail_given else None,
        )
        text_commands = [a or b for a, b in _COMMAND.findall(result.text)]
        for command in itertools.chain(result.commands, text_commands):
            found.append(("+".join(files), command))
    return sorted(set(found))


COMMANDS = printed_commands()
SESSION = botocore.session.get_session()


def test_there_are_commands_of_every_service() -> None:
    services = {shlex.split(command.split(" | ")[0].split(" > ")[0])[1] for _, command in COMMANDS}

    assert services >= {"secretsmanager", "logs", "cloudtrail", "lambda", "kms", "iam", "ec2"}


@pytest.mark.parametrize(("case", "command"), COMMANDS)
def test_each_command_names_a_real_operation_and_real_parameters(case: str, command: str) -> None:
    line = command.split(" | ")[0].split(" > ")[0]
    words = shlex.split(line)
    assert words[0] == "aws"
    service, operation = words[1], words[2]
    assert not _PLACEHOLDER.search(line), f"{case}: a placeholder in {command}"
    options = [word[2:] for word in words[3:] if word.startswith("--")]
    if (service, operation) in CLI_ONLY:
        assert options
        return
    model = SESSION.get_service_model(service)
    names = {_kebab(name): name for name in model.operation_names}
    assert operation in names, f"{case}: no operation {service} {operation}"
    members = model.operation_model(names[operation]).input_shape.members
    known = {_kebab(member) for member in members}
    unknown = set(options) - known - GLOBAL_OPTIONS
    assert not unknown, f"{case}: {command} has options {unknown} that {operation} lacks"


@pytest.mark.parametrize(("case", "command"), COMMANDS)
def test_each_command_runs_in_the_region_of_what_it_acts_on(case: str, command: str) -> None:
    words = shlex.split(command.split(" | ")[0].split(" > ")[0])
    service = words[1]
    if service == "iam":  # a global service
        assert "--region" not in words
        return
    region = words[words.index("--region") + 1]
    arns = [word for word in words if word.startswith("arn:aws:") and word.count(":") >= 5]
    for arn in arns:
        if arn.split(":")[2] != "sts":
            assert arn.split(":")[3] == region, f"{case}: {command}"


def _kebab(name: str) -> str:
    """An API name as the AWS CLI spells it: PutSecretValue -> put-secret-value."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()
