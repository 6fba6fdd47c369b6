"""Causes of the access family: the function cannot reach Secrets Manager or the database, or
cannot use the secret's KMS key."""

from __future__ import annotations

import re

from .causes import Cause, Context, step_text
from .commands import cli, function_name, region_of
from .timeline import TIMED_OUT

# botocore's texts when an endpoint does not answer: "Connect timeout on endpoint URL:
# "https://secretsmanager.eu-west-1.amazonaws.com/"", "Could not connect to the endpoint URL: ...".
_ENDPOINT = re.compile(
    r"(?:Connect timeout|Read timeout|Could not connect to the endpoint URL|"
    r"EndpointConnectionError|ConnectTimeoutError)[^\n]*?(https?://[^\s\"']+)"
)
_TIMED_OUT = re.compile(r"Task timed out after ([\d.]+) seconds")
DATABASE_UNREACHABLE = re.compile(
    r"could not connect to server|Connection timed out|Connection refused|"
    r"Can't connect to (?:MySQL|MariaDB) server|\(2003,|timeout expired|No route to host|"
    r"could not translate host name|Name or service not known|Login timeout expired|"
    r"Can't create a connection to host|server closed the connection unexpectedly|"
    r"Unable to establish SSL/TLS handshake",
    re.IGNORECASE,
)
KMS = re.compile(
    r"Access to KMS is not allowed|kms:(?:Decrypt|GenerateDataKey\w*|Encrypt|ReEncrypt\w*)|"
    r"KMSAccessDenied|KMSInvalidState|KMS\.\w+Exception|DisabledException|"
    r"customer master key|KMS key[^\n]*(?:disabled|pending deletion)",
    re.IGNORECASE,
)


def network(context: Context) -> list[Cause]:
    """Timeouts and connection errors: the endpoint, or the database, does not answer."""
    causes: list[Cause] = []
    region = context.region or region_of(context.secret.rotation_lambda_arn)
    endpoint_lines = context.log_matches(_ENDPOINT)
    secretsmanager = [line for line in endpoint_lines if "secretsmanager" in line.text]
    # A timeout followed by attempts that failed otherwise set the failure off; the later
    # failures say what keeps the rotation failing (see causes_story).
    last = context.timeline.last_failure()
    timeouts = context.log_matches(_TIMED_OUT) if last is None or last.outcome == TIMED_OUT else []
    database = context.log_matches(DATABASE_UNREACHABLE)
    check_vpc = _vpc_commands(context)
    if secretsmanager or (timeouts and not database and _silent_timeout(context)):
        evidence = [context.quote(line) for line in (secretsmanager or timeouts)[:2]]
        certain = bool(secretsmanager)
        causes.append(
            Cause(
                code="cannot-reach-secretsmanager",
                title="The function cannot reach the Secrets Manager endpoint",
                explanation=(
                    "Its calls to Secrets Manager never got an answer"
                    + ("." if certain else ": the function timed out before logging anything.")
                    + " A function attached to a VPC reaches AWS endpoints only through a NAT "
                    "gateway or a VPC interface endpoint for Secrets Manager."
                ),
                fix=(
                    "Give the function's subnets a route to Secrets Manager: a VPC interface "
                    f"endpoint com.amazonaws.{region or 'REGION'}.secretsmanager with private DNS "
                    "on, whose security group allows HTTPS (443) from the function's security "
                    "group, or a NAT gateway. See which VPC the function runs in, and whether "
                    "such an endpoint exists:"
                ),
                evidence=tuple(evidence),
                commands=check_vpc,
                certain=certain,
                settle=None
                if certain
                else "the function's log lines before the timeout: a botocore 'Connect timeout "
                "on endpoint URL' line confirms it",
            )
        )
    if database:
        step = context.step_of(database[0])
        causes.append(
            Cause(
                code="cannot-reach-database",
                title="The function cannot connect to the database",
                explanation=(
                    f"In {step_text(step)} the connection to the database failed: the "
                    "database's security group does not allow the function's security group on "
                    "its port, the function runs outside the database's VPC, the host in the "
                    "secret's JSON is wrong, or the database requires TLS the function does "
                    "not use."
                ),
                fix=(
                    "Allow the function's security group on the database's port in the "
                    "database's security group, and run the function in subnets that route to "
                    "the database. The function's network settings:"
                ),
                evidence=tuple(context.quote(line) for line in database[:2]),
                commands=check_vpc[:1],
            )
        )
    elif timeouts and not causes:
        line = timeouts[0]
        step = context.step_of(line)
        causes.append(
            Cause(
                code="function-timed-out",
                title="The function timed out",
                explanation=(
                    f"The invocation for {step_text(step)} ran until Lambda stopped it. After "
                    "logging some progress, a timeout usually means the database or an API did "
                    "not answer (a network path that drops packets), rather than slow work."
                ),
                fix=(
                    "Find the last line the function logged before the timeout: the call after "
                    "it is the one that hung. Check the network path to that service, and the "
                    "function's timeout:"
                ),
                evidence=(context.quote(line),),
                commands=check_vpc[:1],
                certain=True,
            )
        )
    return causes


def _silent_timeout(context: Context) -> bool:
    """Whether the last failed invocation timed out without logging anything, and nothing shows
    that the function ever got an answer from Secrets Manager (that would rule the guess out)."""
    last = context.timeline.last_failure()
    if last is None or last.outcome != TIMED_OUT or last.logged_progress:
        return False
    return not context.timeline.reached_secretsmanager(
        function_name(context.secret.rotation_lambda_arn)
    )


def _vpc_commands(context: Context) -> tuple[str, ...]:
    function = context.secret.rotation_lambda_arn
    commands: list[str] = []
    if function_name(function):
        commands.append(
            cli(
                "lambda",
                "get-function-configuration",
                "--function-name",
                str(function),
                "--query",
                "{Vpc: VpcConfig, Timeout: Timeout}",
                region=region_of(function),
            )
        )
    region = context.region or region_of(function)
    if region:
        commands.append(
            cli(
                "ec2",
                "describe-vpc-endpoints",
                "--filters",
                f"Name=service-name,Values=com.amazonaws.{region}.secretsmanager",
                region=region,
            )
        )
    return tuple(commands)


def kms(context: Context) -> list[Cause]:
    """The function's role cannot use the customer managed key that encrypts the secret."""
    lines = context.log_matches(KMS)
    events = context.event_matches(KMS)
    key = context.secret.kms_key_id
    if not lines and not events:
        # Reading or storing a value uses the key: the function's successful call rules it out.
        used_key = context.timeline.function_called(
            ("GetSecretValue", "PutSecretValue"), function_name(context.secret.rotation_lambda_arn)
        )
        if key and context.pending is not None and not context.logs_given and not used_key:
            return [_kms_cause(context, key, (), certain=False)]
        return []
    evidence = [context.quote(line) for line in lines[:2]] + [
        context.quote_event(event) for event in events[:1]
    ]
    return [_kms_cause(context, key, tuple(evidence), certain=True)]


def _kms_cause(
    context: Context, key: str | None, evidence: tuple[str, ...], *, certain: bool
) -> Cause:
    key_text = f"the customer managed key {key}" if key else "the secret's KMS key"
    commands: tuple[str, ...] = ()
    if key:
        region = region_of(key) or context.region
        commands = (
            cli(
                "kms",
                "get-key-policy",
                "--key-id",
                key,
                "--policy-name",
                "default",
                "--output",
                "text",
                region=region,
            ),
        )
    return Cause(
        code="kms-access-denied",
        title="The function's role cannot use the secret's KMS key",
        explanation=(
            f"The secret is encrypted with {key_text}. Reading it needs kms:Decrypt and "
            "storing a new version needs kms:GenerateDataKey on that key, for the function's "
            "role; Secrets Manager's own permissions do not cover a customer managed key."
        ),
        fix=(
            f"Allow kms:Decrypt and kms:GenerateDataKey on {key_text} to the function's role: in "
            "the key policy, or in the role's policy if the key policy delegates to IAM. Read "
            "the key policy:"
        ),
        evidence=evidence,
        commands=commands,
        certain=certain,
        settle=None
        if certain
        else "the function's logs: an 'Access to KMS is not allowed' error confirms it",
    )


RULES = (kms, network)
