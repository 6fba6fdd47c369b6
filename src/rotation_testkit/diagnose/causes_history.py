"""Causes in the secret's history: a rotation that started before the secret had any value, and
values written by other code (infrastructure tools) while a rotation ran, which abandons it."""

from __future__ import annotations

import re
from datetime import timedelta

from .causes import Cause, Context
from .commands import function_name, secret_command
from .trail import TrailEvent

_NO_CURRENT_VALUE = re.compile(
    r"can't find the specified secret value for staging label: AWSCURRENT|"
    r"can.t find the specified secret value for VersionStage: AWSCURRENT",
    re.IGNORECASE,
)
_VALUE_PARAMETERS = frozenset({"secretString", "secretBinary"})
#: Calls that change a secret's settings or labels, and what each changes.
_CHANGES = {
    "UpdateSecret": "its settings were updated",
    "RotateSecret": "its rotation was started or reconfigured",
    "CancelRotateSecret": "its rotation was cancelled",
    "UpdateSecretVersionStage": "its staging labels were moved",
}
_INFRASTRUCTURE = re.compile(
    r"terraform|cloudformation|aws-cdk|pulumi|cdk/|crossplane|ansible", re.IGNORECASE
)


def first_value(context: Context) -> list[Cause]:
    """A rotation started before the secret held any value."""
    lines = context.log_matches(_NO_CURRENT_VALUE)
    events = context.event_matches(_NO_CURRENT_VALUE)
    if not lines and not events and not context.no_current_value():
        return []
    evidence = [context.quote(line) for line in lines[:1]]
    evidence += [context.quote_event(event) for event in events[:1]]
    if context.no_current_value() and context.pending is not None:
        evidence.append(
            f"describe-secret: the only version, {context.pending}, is the AWSPENDING "
            "placeholder; no version carries AWSCURRENT"
        )
    tool = context.secret.managed_by
    store = secret_command(
        "put-secret-value",
        context.secret.secret_id,
        "--secret-string",
        "file://secret.json",
        region=context.region,
    )
    return [
        Cause(
            code="rotation-before-value",
            title="A rotation started before the secret had any value",
            explanation=(
                "createSecret reads the AWSCURRENT value to build the new one, and there was "
                "none: the secret was created empty and rotation was turned on (with an "
                "immediate rotation) before a first value was stored"
                + (f", as {tool} does when both are in one deployment" if tool else "")
                + "."
            ),
            fix=(
                "Store the first value (write it to secret.json first); that ends the pending "
                "rotation, and the next one starts from it."
                + (
                    f" In {tool}, make the rotation depend on the secret's first version."
                    if tool
                    else ""
                )
            ),
            evidence=tuple(evidence),
            commands=(store,),
        )
    ]


def abandonment(context: Context) -> list[Cause]:
    """A value was written while the rotation ran, so Secrets Manager abandoned the rotation."""
    abandoned = context.events_named("RotationAbandoned")
    writes = [
        event
        for event in context.events_named("PutSecretValue", "UpdateSecret", "RotateSecret")
        if event.error_code is None
        and (
            _INFRASTRUCTURE.search(event.user_agent or "")
            or (_writes_value(event) and not _by_rotation(context, event))
        )
    ]
    if not abandoned and not writes:
        return []
    started = context.events_named("RotationStarted")
    evidence = [context.quote_event(event) for event in abandoned[:1]]
    overlapping = [
        event for event in writes if event.name != "RotateSecret" and _during(event, started)
    ]
    evidence += [
        f"{context.quote_event(event)} [user agent: {_agent(event.user_agent)}]"
        for event in overlapping[:2]
    ]
    if not abandoned and not overlapping:
        return []
    tool = _tool(overlapping) or context.secret.managed_by
    return [
        Cause(
            code="rotation-abandoned",
            title="A value was written while the rotation ran, so the rotation was abandoned",
            explanation=(
                "Storing a new value (PutSecretValue or UpdateSecret) while a rotation is "
                "pending makes Secrets Manager abandon the rotation (RotationAbandoned)"
                + (
                    f"; here {tool} wrote the value while the rotation it had just turned on ran"
                    if tool
                    else ""
                )
                + ". The value written may not be the one the database has."
            ),
            fix=(
                "Do not let infrastructure code write the secret's value once rotation owns it"
                + (
                    " (Terraform: lifecycle { ignore_changes = [secret_string] } on the secret "
                    "version; set rotate_immediately = false on the rotation)"
                    if tool == "Terraform"
                    else " (CloudFormation: keep SecretString/GenerateSecretString unchanged "
                    "after the first deployment)"
                    if tool == "CloudFormation"
                    else ""
                )
                + ". Then check that the AWSCURRENT credentials work, and rotate again."
            ),
            evidence=tuple(evidence),
        )
    ]


def _writes_value(event: TrailEvent) -> bool:
    """Whether a call stores a value (an UpdateSecret may change only settings)."""
    if event.name == "PutSecretValue":
        return True
    return event.name == "UpdateSecret" and (
        not event.parameters or bool(_VALUE_PARAMETERS.intersection(event.parameters))
    )


def _by_rotation(context: Context, event: TrailEvent) -> bool:
    """Whether the call came from the rotation itself: Secrets Manager or the function."""
    caller = event.caller or ""
    if caller == "secretsmanager.amazonaws.com" or "exec-env/AWS_Lambda" in (
        event.user_agent or ""
    ):
        return True
    name = function_name(context.secret.rotation_lambda_arn)
    return bool(name and caller.endswith("/" + name))


def changed_during_rotation(context: Context) -> list[Cause]:
    """The secret's settings or labels were changed by someone else while a rotation ran."""
    started = context.events_named("RotationStarted")
    changes = [
        event
        for event in context.events_named(*_CHANGES)
        if event.error_code is None
        and not _by_rotation(context, event)
        and not _writes_value(event)
        and started
        and _during(event, started)
    ]
    if not changes:
        return []
    event = changes[0]
    what = _CHANGES[event.name]
    settings = [name for name in event.parameters if name not in ("secretId", "clientRequestToken")]
    if settings:
        what += f" ({', '.join(settings[:4])})"
    return [
        Cause(
            code="secret-changed-during-rotation",
            title=f"The secret was changed while the rotation ran: {what}",
            explanation=(
                f"{event.name} by {event.caller or 'someone'} came while a rotation was pending. "
                "The rotation function reads the secret's settings and labels at each step; a "
                "key, function or label changed in between makes a later step fail or work on "
                "another version than the one the rotation created."
            ),
            fix=(
                "Change a secret's settings only when no rotation is pending (AWSPENDING on no "
                "version but AWSCURRENT's). Remove AWSPENDING, check the settings are the ones "
                "you want, and rotate again."
            ),
            evidence=(f"{context.quote_event(event)} [user agent: {_agent(event.user_agent)}]",),
            certain=False,
            settle=(
                "the function's log lines after this change: an error that names the key, the "
                "function or the version confirms it"
            ),
        )
    ]


def _during(event: TrailEvent, started: list[TrailEvent]) -> bool:
    """Whether the write came within an hour after a rotation started (or no start is known)."""
    if not started or event.time is None:
        return True
    for start in started:
        if start.time is not None and start.time <= event.time <= start.time + timedelta(hours=1):
            return True
    return False


def _agent(agent: str | None) -> str:
    return (agent or "unknown")[:120]


def _tool(events: list[TrailEvent]) -> str | None:
    for event in events:
        agent = (event.user_agent or "").lower()
        if "terraform" in agent:
            return "Terraform"
        if "cloudformation" in agent or "aws-cdk" in agent:
            return "CloudFormation"
        if "pulumi" in agent:
            return "Pulumi"
    return None


RULES = (first_value, abandonment, changed_during_rotation)
