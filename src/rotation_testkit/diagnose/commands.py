"""The AWS CLI commands diagnose prints, built so that they run as printed.

Every command names the region it must run in (taken from the ARN of the resource it acts on), uses
real identifiers (the secret's ARN, or its name when no ARN is known; real version ids), and is
quoted for a POSIX shell. Where AWS CLI v2 has a convenient command that v1 lacks (``aws logs
tail``), the v1 form is offered beside it.
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta, timezone

_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d+):")
_LAMBDA_NAME = re.compile(r"^arn:aws[a-z-]*:lambda:[^:]+:\d+:function:([A-Za-z0-9_-]{1,140})")


def region_of(arn: str | None) -> str | None:
    """The region in an ARN (``arn:aws:SERVICE:REGION:...``), if it has one."""
    match = _ARN_REGION.match(arn or "")
    return match.group(1) if match else None


def function_name(function_arn: str | None) -> str | None:
    """The name of a Lambda function, from its ARN."""
    match = _LAMBDA_NAME.match(function_arn or "")
    return match.group(1) if match else None


def cli(service: str, operation: str, *arguments: str, region: str | None = None) -> str:
    """``aws SERVICE OPERATION ARGUMENTS... [--region REGION]``, quoted for a shell."""
    parts = ["aws", service, operation, *arguments]
    if region:
        parts += ["--region", region]
    return " ".join(shlex.quote(part) for part in parts)


def secret_command(
    operation: str, secret_id: str, *arguments: str, region: str | None = None
) -> str:
    """``aws secretsmanager OPERATION --secret-id SECRET_ID ... --region REGION``."""
    return cli(
        "secretsmanager",
        operation,
        "--secret-id",
        secret_id,
        *arguments,
        region=region if region is not None else region_of(secret_id),
    )


def stage_command(
    secret_id: str,
    label: str,
    *,
    remove_from: str | None = None,
    move_to: str | None = None,
    region: str | None = None,
) -> str:
    """The ``aws secretsmanager update-secret-version-stage`` command for one label change.

    The region defaults to the one in ``secret_id`` when it is an ARN.
    """
    arguments = ["--version-stage", label]
    if move_to is not None:
        arguments += ["--move-to-version-id", move_to]
    if remove_from is not None:
        arguments += ["--remove-from-version-id", remove_from]
    return secret_command("update-secret-version-stage", secret_id, *arguments, region=region)


def log_commands(function_arn: str, since: datetime, now: datetime) -> tuple[str, str] | None:
    """How to save the function's logs since a moment: (AWS CLI v2 ``logs tail``, v1-compatible
    ``logs filter-log-events``), or None when the ARN names no function."""
    name = function_name(function_arn)
    if name is None:
        return None
    region = region_of(function_arn)
    group = f"/aws/lambda/{name}"
    start = _hour_before(since)
    days = max(1, (now - start).days + 1)
    tail = cli("logs", "tail", group, "--since", f"{days}d", region=region)
    milliseconds = str(int(start.astimezone(timezone.utc).timestamp()) * 1000)
    save = cli(
        "logs",
        "filter-log-events",
        "--log-group-name",
        group,
        "--start-time",
        milliseconds,
        "--output",
        "json",
        region=region,
    )
    return tail, save + " > logs.json"


def trail_command(secret_arn: str | None, since: datetime) -> str:
    """How to save the secret's CloudTrail events since a moment (last 90 days only)."""
    start = _hour_before(since).astimezone(timezone.utc)
    return (
        cli(
            "cloudtrail",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventSource,AttributeValue=secretsmanager.amazonaws.com",
            "--start-time",
            f"{start:%Y-%m-%dT%H:%M:%SZ}",
            "--output",
            "json",
            region=region_of(secret_arn),
        )
        + " > trail.json"
    )


def _hour_before(moment: datetime) -> datetime:
    """An hour before the moment (a little slack for clocks), or the moment at the calendar's start."""
    try:
        return moment - timedelta(hours=1)
    except OverflowError:
        return moment
