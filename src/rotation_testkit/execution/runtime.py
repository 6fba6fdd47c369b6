"""What Lambda's runtime gives a function: its context object, its variables, its own errors."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from ..foundations.config import KitConfig


class TaskTimedOut(Exception):
    """The error Lambda reports for a function that ran past its timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"Task timed out after {timeout:.2f} seconds")
        self.timeout = timeout


class RuntimeExited(Exception):
    """The error Lambda reports when a handler exits the runtime (sys.exit)."""

    def __init__(self, code: object) -> None:
        super().__init__(
            f"Runtime exited with error: exit status {code if code is not None else 0}"
        )


@dataclass
class LambdaContext:
    """The subset of Lambda's context object rotation functions use."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int
    timeout: float
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def service_endpoint(region: str) -> str:
    return f"https://secretsmanager.{region}.amazonaws.com"


def lambda_variables(
    config: KitConfig, name: str, env: Mapping[str, str], memory_limit_in_mb: int = 128
) -> dict[str, str]:
    """The variables Lambda sets for a function, with the function's own ``env`` on top."""
    return {
        "SECRETS_MANAGER_ENDPOINT": service_endpoint(config.region),
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_limit_in_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        **env,
    }


class HarnessFault(Exception):
    """An invocation that failed because of the kit, not the function: a verdict on the
    function cannot rest on it."""


class HandlerCallError(HarnessFault, TypeError):
    """The handler could not be called as ``handler(event, context)``."""
