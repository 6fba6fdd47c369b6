"""Causes read from the sequence of attempts, not from one line: createSecret that is not
idempotent (its retries fail after a first failure elsewhere), and a deployment package that
lacks a module (every invocation fails before the handler runs)."""

from __future__ import annotations

import re
from dataclasses import replace

from .causes import Cause, Context
from .commands import cli, function_name, region_of
from .timeline import TIMED_OUT, Invocation

_TOKEN_IN_USE = "ResourceExistsException"
_NO_MODULE = re.compile(r"No module named '(?P<module>[\w.]+)'")
_HANDLER_MODULE = re.compile(r"Unable to import module '(?P<handler>[\w./-]+)'")


def not_idempotent(context: Context) -> list[Cause]:
    """Retries fail in createSecret with ResourceExistsException: createSecret stored a new value
    under the rotation's token although a value was already stored under it."""
    invocations = context.timeline.invocations
    rejected = [
        index
        for index, invocation in enumerate(invocations)
        if invocation.error_type == _TOKEN_IN_USE and invocation.step in ("createSecret", None)
    ]
    if not rejected:
        return []
    first = rejected[0]
    earlier = [invocation for invocation in invocations[:first] if invocation.failed]
    trigger = earlier[-1] if earlier else None
    retries = len(rejected)
    every = "every retry" if retries > 1 else "the retry"
    evidence = []
    if trigger is not None and trigger.error_line is not None:
        evidence.append(context.quote(trigger.error_line))
    first_line = invocations[first].error_line
    if first_line is not None:
        evidence.append(context.quote(first_line))
    trigger_text = _trigger_text(trigger) if trigger is not None else None
    opening = (
        f"{trigger_text}; {every} then failed"
        if trigger_text
        else f"{retries} attempt{'s' if retries > 1 else ''} failed"
    )
    return [
        Cause(
            code="create-secret-not-idempotent",
            title=(
                "createSecret is not idempotent: it stores a new value on each run instead of "
                "reusing the pending one"
            ),
            explanation=(
                opening
                + " in createSecret with ResourceExistsException. Secrets Manager retries a "
                "failed rotation from createSecret with the same token; a value is already "
                "stored under that token (AWSPENDING), and createSecret generated a new one and "
                "called PutSecretValue with it, which Secrets Manager refuses for a token in use."
                " The rotation can never get past createSecret again."
            ),
            fix=(
                "Make createSecret idempotent: first read the AWSPENDING value of this token "
                "(get_secret_value with VersionId=token and VersionStage=AWSPENDING) and return "
                "if it exists; generate and put a new value only when it does not. Then remove "
                "AWSPENDING (below) so that the next rotation starts afresh, or let the fixed "
                "function's retry finish this one."
                + (" Look into the first failure too: it will happen again." if trigger else "")
            ),
            evidence=tuple(evidence),
            trigger=trigger_text,
        )
    ]


def _trigger_text(invocation: Invocation) -> str:
    started = invocation.started
    when = f" (at {started:%Y-%m-%d %H:%M:%S} UTC)" if started is not None else ""
    if invocation.outcome == TIMED_OUT:
        return f"{invocation.step or 'a step'} timed out once{when}"
    return f"{invocation.describe()} once{when}"


def with_trigger(context: Context, causes: list[Cause]) -> list[Cause]:
    """The causes, the first established one told what set the failure off when the first
    failed attempt ended differently from the last one (a timeout, then a different error)."""
    failures = context.timeline.failures
    if len(failures) < 2 or not causes or not causes[0].certain or causes[0].trigger:
        return causes
    first, last = failures[0], failures[-1]
    if (first.step, first.error_type) == (last.step, last.error_type):
        return causes
    return [replace(causes[0], trigger=_trigger_text(first)), *causes[1:]]


def missing_module(context: Context) -> list[Cause]:
    """The deployment package lacks a module: the function fails when Lambda imports it."""
    for line in context.logs:
        match = _NO_MODULE.search(line.text)
        if match is None or not re.search(r"ModuleNotFoundError|ImportModuleError", line.text):
            continue
        module = match.group("module")
        top = module.split(".", 1)[0]
        handler = _HANDLER_MODULE.search(line.text)
        failures = sum(
            1
            for invocation in context.timeline.invocations
            if invocation.error_type in ("Runtime.ImportModuleError", "ModuleNotFoundError")
        )
        if handler is not None and handler.group("handler") == module:
            title = f"The function's handler module, {module}, is not in the deployment package"
            fix = (
                f"Put {module}.py at the root of the deployment package (or a folder the "
                "handler setting names), or correct the handler setting to the module that holds "
                "lambda_handler."
            )
        else:
            title = f"The deployment package lacks the module {top}"
            fix = (
                f"Add {top} to the deployment package (pip install --target into the package's "
                "root) or to a Lambda layer attached to the function, built for the function's "
                "runtime and architecture"
                + (
                    f": {module} is a compiled part of {top}, so build it on Amazon Linux or "
                    "install a wheel made for it (e.g. pip's --platform manylinux2014_x86_64 "
                    "--only-binary=:all:)"
                    if module != top
                    else ""
                )
                + ". Then let the rotation be reattempted, or remove AWSPENDING and rotate again."
            )
        commands: tuple[str, ...] = ()
        function = context.secret.rotation_lambda_arn
        if function and function_name(function):
            commands = (
                cli(
                    "lambda",
                    "get-function-configuration",
                    "--function-name",
                    function,
                    "--query",
                    "{Handler: Handler, Runtime: Runtime, Layers: Layers[].Arn}",
                    region=region_of(function),
                ),
            )
        return [
            Cause(
                code="missing-module",
                title=title,
                explanation=(
                    f"Lambda could not import {module} when it loaded the function"
                    + (f" ({failures} invocations failed so)" if failures > 1 else "")
                    + ": the handler never ran, so no step did. The module is not in the "
                    "deployment package nor in a layer, or was built for another platform."
                ),
                fix=fix + " The function's handler, runtime and layers:",
                evidence=(context.quote(line),),
                commands=commands,
            )
        ]
    return []


RULES = (missing_module, not_idempotent)
