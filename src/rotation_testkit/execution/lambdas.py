"""In-process Lambda functions: the registry the service invokes, the context object, the environment.

A real Lambda runs in its own process with its own environment; here the handler runs in the test's
process, so the environment variables a rotation function reads are set for the duration of the call
and restored afterwards.
"""

from __future__ import annotations

import copy
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..foundations.config import KitConfig
from .commands import COLD_STARTS, ColdStarts, CommandFunction, FunctionTimedOut
from .faults import Fault
from .sandbox import patched_environ

Handler = Callable[[dict[str, Any], Any], Any]

_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]{1,64})(:[^:]+)?$"
)


class LambdaRegistrationError(ValueError):
    """A function that cannot be registered as given."""


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


class _Killed(BaseException):
    # Lambda stops a timed-out function from outside; a BaseException is the closest in-process
    # equivalent, since a handler's ``except Exception`` cannot swallow it.
    pass


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


@dataclass(frozen=True)
class LambdaFunction:
    name: str
    arn: str
    handler: Handler | str
    timeout: float
    env: Mapping[str, str]
    memory_limit_in_mb: int = 128

    def resolve(self) -> Handler:
        """The callable; a 'module:function' handler is imported on first use, inside the kit."""
        if callable(self.handler):
            return self.handler
        return import_handler(self.handler)


@dataclass
class Invocation:
    """One call of a function by the service: what it received and how it ended."""

    arn: str
    function_name: str
    event: dict[str, Any]
    request_id: str
    error: BaseException | None = None
    result: Any = None
    duration: float = 0.0
    fault: str | None = None
    attempt: int | None = None
    logs: str = ""

    @property
    def step(self) -> str | None:
        step = self.event.get("Step")
        return step if isinstance(step, str) else None

    @property
    def error_text(self) -> str | None:
        """The error as the history shows it, e.g. "TaskTimedOut: Task timed out after ..."."""
        if self.error is None:
            return None
        return f"{type(self.error).__name__}: {self.error}"

    @property
    def succeeded(self) -> bool:
        return self.error is None


def import_handler(target: str) -> Handler:
    """Import 'package.module:function' or 'path/to/file.py:function'."""
    from .loader import load_callable

    handler: Handler = load_callable(target)
    return handler


@dataclass(repr=False)
class LambdaRegistry:
    """The functions of one world, by ARN, and every invocation in order."""

    config: KitConfig
    _functions: dict[str, LambdaFunction] = field(default_factory=dict)
    _invocations: list[Invocation] = field(default_factory=list)
    _deadlines: list[float] = field(default_factory=list)  # of the functions running now
    #: The world's HTTP endpoint (started on first use) for functions run out of process.
    endpoint: Callable[[], str] | None = None

    def __repr__(self) -> str:
        names = ", ".join(f.name for f in self._functions.values()) or "none"
        return f"<LambdaRegistry functions: {names}; {len(self._invocations)} invocation(s)>"

    def register(
        self,
        handler: Handler | str,
        *,
        name: str | None = None,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Register a rotation function and return the ARN to pass as RotationLambdaARN."""
        if not callable(handler) and not (isinstance(handler, str) and ":" in handler):
            raise LambdaRegistrationError(
                f"expected a callable handler(event, context) or a 'module:function' string, "
                f"got {type(handler).__name__}."
            )
        # The chained comparison is False for NaN too; bool and text are refused before it.
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not 1 <= timeout <= 900
        ):
            raise LambdaRegistrationError(
                f"timeout must be a number of seconds within 1..900 as in Lambda, got {timeout!r}."
            )
        function_name = name or self._default_name(handler)
        if not _FUNCTION_NAME.match(function_name):
            raise LambdaRegistrationError(
                f"function name {function_name!r} is not a valid Lambda name: "
                "use 1-64 letters, digits, '-' or '_'."
            )
        arn = self.arn_for(function_name)
        existing = self._functions.get(arn)
        if existing is not None and existing.handler is not handler:
            raise LambdaRegistrationError(
                f"a different handler is already registered as {function_name!r}; "
                "pass name= to register this one under another name."
            )
        self._functions[arn] = LambdaFunction(
            name=function_name,
            arn=arn,
            handler=handler,
            timeout=float(timeout),
            env={str(k): str(v) for k, v in (env or {}).items()},
        )
        return arn

    def arn_for(self, name: str) -> str:
        return f"arn:aws:lambda:{self.config.region}:{self.config.account_id}:function:{name}"

    def _default_name(self, handler: Handler | str) -> str:
        if isinstance(handler, str):
            raw = handler.rsplit(":", 1)[-1]
        else:
            raw = getattr(handler, "__name__", type(handler).__name__)
        base = re.sub(r"[^A-Za-z0-9_-]", "-", raw)[:56] or "rotator"
        candidate, n = base, 2
        while (
            found := self._functions.get(self.arn_for(candidate))
        ) and found.handler is not handler:
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def lookup(self, arn: str) -> LambdaFunction | None:
        """The function an ARN (full, with a qualifier, or a bare name) designates, if registered."""
        if arn in self._functions:
            return self._functions[arn]
        match = _FUNCTION_ARN.match(arn)
        name = match.group(1) if match else arn
        return self._functions.get(self.arn_for(name))

    def functions(self) -> list[LambdaFunction]:
        return list(self._functions.values())

    def invocations(self, arn: str | None = None) -> list[Invocation]:
        """Invocations in order; with an ARN, only that function's."""
        if arn is None:
            return list(self._invocations)
        function = self.lookup(arn)
        wanted = function.arn if function else arn
        return [inv for inv in self._invocations if inv.arn == wanted]

    def invoke(
        self,
        function: LambdaFunction,
        event: Mapping[str, Any],
        *,
        attempt: int | None = None,
        fault: Fault | None = None,
    ) -> Invocation:
        """Run the handler synchronously, as the service's synchronous Invoke does."""
        invocation = Invocation(
            arn=function.arn,
            function_name=function.name,
            event=copy.deepcopy(dict(event)),
            request_id=str(uuid.uuid4()),
            attempt=attempt,
            fault=fault.describe() if fault is not None else None,
        )
        self._invocations.append(invocation)
        limit = self.config.history_limit
        if limit is not None and len(self._invocations) > limit:
            del self._invocations[: len(self._invocations) - limit]
        context = LambdaContext(
            function_name=function.name,
            invoked_function_arn=function.arn,
            aws_request_id=invocation.request_id,
            memory_limit_in_mb=function.memory_limit_in_mb,
            timeout=function.timeout,
            log_group_name=f"/aws/lambda/{function.name}",
        )
        started = time.monotonic()
        context._deadline = started + function.timeout
        if fault is not None and fault.kind == "fail_step":
            invocation.error = fault.step_error()
            return invocation
        self._deadlines.append(context._deadline)
        try:
            with function_environment(function, self.config):
                try:
                    invocation.result = function.resolve()(copy.deepcopy(dict(event)), context)
                except (_Killed, FunctionTimedOut):
                    invocation.error = TaskTimedOut(function.timeout)
                except Exception as error:  # a function error, as Lambda reports it
                    invocation.error = error
                except SystemExit as exit_:  # the handler ended the runtime process
                    invocation.error = RuntimeExited(exit_.code)
        finally:
            self._deadlines.pop()
            invocation.logs += _out_of_process_logs(function.handler)
        invocation.duration = time.monotonic() - started
        if invocation.error is None and invocation.duration > function.timeout:
            invocation.error = TaskTimedOut(function.timeout)
        if fault is not None and invocation.error is None:
            if fault.kind == "time_out_step":
                invocation.error = TaskTimedOut(function.timeout)
            elif fault.kind == "crash_after_step":
                invocation.error = fault.step_error()
            if fault.kind in ("time_out_step", "crash_after_step"):
                _discard_environment(function.handler)
        return invocation

    def register_command(
        self,
        command: str,
        *,
        name: str | None = None,
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
        cold_starts: ColdStarts = "first",
        cwd: str | None = None,
        handler: str | None = None,
    ) -> str:
        """Register a function run out of process from ``command`` (a runtime interface client, any
        language) through the Lambda Runtime API; returns the ARN to pass as RotationLambdaARN."""
        if self.endpoint is None:
            raise LambdaRegistrationError(
                "functions run from a command need the world's HTTP endpoint: register them "
                "through the rotation_lambdas fixture or an active World."
            )
        if cold_starts not in COLD_STARTS:
            raise LambdaRegistrationError(
                f"cold_starts must be 'first' or 'every', got {cold_starts!r}."
            )
        try:
            function = CommandFunction(
                command,
                endpoint=self.endpoint,
                config=lambda: self.config,
                env=env,
                cwd=cwd,
                handler=handler,
                cold_starts=cold_starts,
            )
        except ValueError as error:
            raise LambdaRegistrationError(str(error)) from None
        return self.register(function, name=name, timeout=timeout)

    def close_environments(self) -> None:
        """Kill every process a function runs in (the world is ending)."""
        for function in self._functions.values():
            _discard_environment(function.handler)

    def sleep_budget(self) -> float | None:
        """Seconds the running function may still sleep before Lambda stops it."""
        if not self._deadlines:
            return None
        return max(0.0, self._deadlines[-1] - time.monotonic())

    def budget_exhausted(self) -> None:
        """A fake sleep reached the running function's timeout: stop it as Lambda would."""
        if self._deadlines:
            raise _Killed()


def _out_of_process_logs(handler: object) -> str:
    # A function run out of process keeps its invocation's log (its stdout and stderr).
    if not isinstance(handler, CommandFunction) or handler.last_outcome is None:
        return ""
    logs, handler.last_outcome = handler.last_outcome.logs, None
    return logs


def _discard_environment(handler: object) -> None:
    # Lambda resets an environment whose invocation timed out or crashed.
    if isinstance(handler, CommandFunction):
        handler.discard_environment()


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


@contextmanager
def function_environment(function: LambdaFunction, config: KitConfig) -> Iterator[None]:
    """The variables Lambda and the AWS rotation templates rely on, for the duration of one call."""
    variables = lambda_variables(config, function.name, function.env, function.memory_limit_in_mb)
    with patched_environ(variables):
        yield
