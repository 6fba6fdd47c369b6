"""Causes of the permissions family: the function's role lacks an IAM permission, or Secrets Manager
cannot invoke the function at all (its resource policy, or it was deleted)."""

from __future__ import annotations

import re

from .causes import Cause, Context
from .causes_access import KMS
from .commands import cli, region_of

NOT_AUTHORIZED = re.compile(
    r"(?:User:\s*(?P<principal>arn:[^\s]+)\s+)?is not authorized to perform:\s*"
    r"(?P<action>[A-Za-z0-9-]+:[A-Za-z0-9*]+)(?:\s+on resource:\s*(?P<resource>[^\s]+))?"
)
ACCESS_DENIED = re.compile(
    r"\(AccessDenied(?:Exception)?\) when calling the (?P<operation>\w+) operation"
)
CANNOT_INVOKE = re.compile(r"cannot invoke the specified Lambda function", re.IGNORECASE)
FUNCTION_MISSING = re.compile(
    r"Function not found|function[^\n]*does not exist|"
    r"Resource not found for ARN '?arn:aws[a-z-]*:lambda:",
    re.IGNORECASE,
)
_LAMBDA_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d+:function:[A-Za-z0-9_-]+(?::[\w$-]+)?"
)
_ROLE = re.compile(r"^arn:(aws[a-z-]*):sts::(\d+):assumed-role/([^/]+)/")


def permissions(context: Context) -> list[Cause]:
    """A secretsmanager (or other) action the function's role is not allowed to perform."""
    causes: list[Cause] = []
    for line in context.log_matches(NOT_AUTHORIZED):
        match = NOT_AUTHORIZED.search(line.text)
        if match is None or match.group("action").lower().startswith("kms:"):
            continue
        causes.append(_permission_cause(context, match, context.quote(line)))
        break
    if not causes:
        for event in context.events:
            match = NOT_AUTHORIZED.search(event.error_message or "")
            if match is not None and not match.group("action").lower().startswith("kms:"):
                causes.append(_permission_cause(context, match, context.quote_event(event)))
                break
    if not causes:
        for line in context.log_matches(ACCESS_DENIED):
            if KMS.search(line.text):
                continue
            operation = ACCESS_DENIED.search(line.text)
            assert operation is not None
            action = "secretsmanager:" + operation.group("operation")
            causes.append(
                Cause(
                    code="missing-permission",
                    title=f"The function's role may not call {action}",
                    explanation=(
                        f"{action} was denied, without saying by which policy: the role's "
                        "policy lacks it, or a resource policy on the secret, a permissions "
                        "boundary or an organisation policy denies it."
                    ),
                    fix=(
                        f"Allow {action} on the secret in the function's role, and check the "
                        "secret's resource policy:"
                    ),
                    evidence=(context.quote(line),),
                    commands=(
                        (
                            cli(
                                "secretsmanager",
                                "get-resource-policy",
                                "--secret-id",
                                context.secret.secret_id,
                                region=context.region,
                            ),
                        )
                    ),
                )
            )
            break
    return causes


def _permission_cause(context: Context, match: re.Match[str], evidence: str) -> Cause:
    action = match.group("action")
    resource = match.group("resource")
    principal = match.group("principal")
    role = _ROLE.match(principal or "")
    who = f"role {role.group(3)}" if role else "the function's role"
    commands: tuple[str, ...] = ()
    if role and resource:
        role_arn = f"arn:{role.group(1)}:iam::{role.group(2)}:role/{role.group(3)}"
        commands = (
            cli(
                "iam",
                "simulate-principal-policy",
                "--policy-source-arn",
                role_arn,
                "--action-names",
                action,
                "--resource-arns",
                resource,
                "--query",
                "EvaluationResults[].[EvalActionName,EvalDecision]",
                "--output",
                "text",
            ),
        )
    return Cause(
        code="missing-permission",
        title=f"The function's role lacks {action}",
        explanation=(
            f"{who[0].upper() + who[1:]} is not allowed {action}"
            + (f" on {resource}" if resource else "")
            + ". A rotation function needs secretsmanager:DescribeSecret, GetSecretValue, "
            "PutSecretValue and UpdateSecretVersionStage on the secret (GetRandomPassword on *), "
            "and GetSecretValue on any other secret it reads, such as a master secret."
        ),
        fix=(
            f"Add {action}"
            + (f" on {resource}" if resource else "")
            + f" to the policy of {who}"
            + (". Check the fix with:" if commands else ".")
        ),
        evidence=(evidence,),
        commands=commands,
    )


def invocation(context: Context) -> list[Cause]:
    """Secrets Manager cannot invoke the function: its resource policy, or it was deleted."""
    function = context.secret.rotation_lambda_arn
    region = region_of(function)
    causes: list[Cause] = []
    denied = context.event_matches(CANNOT_INVOKE)
    denied_lines = context.log_matches(CANNOT_INVOKE)
    if denied or denied_lines:
        commands: tuple[str, ...] = ()
        if function:
            commands = (
                cli(
                    "lambda",
                    "add-permission",
                    "--function-name",
                    function,
                    "--statement-id",
                    "SecretsManagerAccess",
                    "--action",
                    "lambda:InvokeFunction",
                    "--principal",
                    "secretsmanager.amazonaws.com",
                    region=region,
                ),
            )
        causes.append(
            Cause(
                code="cannot-invoke-function",
                title="Secrets Manager cannot invoke the rotation function",
                explanation=(
                    "The function's resource policy does not allow the principal "
                    "secretsmanager.amazonaws.com to invoke it, so no step ran and the function "
                    "logged nothing."
                ),
                fix="Allow Secrets Manager to invoke the function:",
                evidence=tuple(
                    [context.quote_event(event) for event in denied[:1]]
                    + [context.quote(line) for line in denied_lines[:1]]
                ),
                commands=commands,
            )
        )
    missing = [context.quote_event(event) for event in context.event_matches(FUNCTION_MISSING)]
    missing += [context.quote(line) for line in context.log_matches(FUNCTION_MISSING)]
    if missing:
        quote = missing[0]
        named = _LAMBDA_ARN.search(quote)
        function = function or (named.group(0) if named else None)
        region = region or region_of(function)
        causes.append(
            Cause(
                code="function-not-found",
                title="The rotation function does not exist",
                explanation=(
                    f"The secret's RotationLambdaARN, {function or '(unknown)'}, names a "
                    "function that was deleted, or lives in another region or account."
                ),
                fix=(
                    "Deploy the function again under that name, or point the secret at the "
                    "function that exists (rotate-secret --rotation-lambda-arn with its ARN). "
                    "Check whether it exists:"
                ),
                evidence=(quote,),
                commands=(
                    (
                        cli(
                            "lambda",
                            "get-function",
                            "--function-name",
                            function,
                            "--query",
                            "Configuration.FunctionArn",
                            region=region,
                        ),
                    )
                    if function
                    else ()
                ),
            )
        )
    return causes


RULES = (invocation, permissions)
