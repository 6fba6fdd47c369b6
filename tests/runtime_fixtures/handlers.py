"""Handlers the tests run out of process with mini_runtime.py (or AWS's Python client)."""

from __future__ import annotations

import os
import sys
from typing import Any

import boto3

INVOCATIONS = 0  # per process: shows whether an environment was reused

LAMBDA_VARIABLES = (
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "SECRETS_MANAGER_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "_HANDLER",
    "LAMBDA_TASK_ROOT",
    "GREETING",
)


def describe(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """What the environment looks like from inside: variables, headers, process, reuse."""
    global INVOCATIONS
    INVOCATIONS += 1
    print(f"describe called with {event.get('Step')}")
    print("a line on stderr", file=sys.stderr)
    return {
        "event": event,
        "env": {name: os.environ.get(name) for name in LAMBDA_VARIABLES},
        "headers": {k.lower(): v for k, v in context.headers.items()},
        "pid": os.getpid(),
        "invocations": INVOCATIONS,
        "cwd": os.getcwd(),
    }


class SecretNotReady(Exception):
    pass


def fail(event: dict[str, Any], context: Any) -> None:
    print("about to fail")
    raise SecretNotReady("the pending version is not ready")


def exit_now(event: dict[str, Any], context: Any) -> None:
    print("exiting", flush=True)
    os._exit(3)


def chatty(event: dict[str, Any], context: Any) -> None:
    # More than a pipe holds (64 KiB): the kit must read while the function writes.
    for n in range(5000):
        print(f"line {n:05d} " + "x" * 40)


def list_secrets(event: dict[str, Any], context: Any) -> list[str]:
    client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])
    return [s["Name"] for s in client.list_secrets()["SecretList"]]


def get_value(event: dict[str, Any], context: Any) -> str:
    client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])
    value: str = client.get_secret_value(SecretId=event["SecretId"])["SecretString"]
    return value
