"""Functions run out of process, from a command, through the Lambda Runtime API (any language).

A :class:`CommandFunction` is registered like any handler: the registry calls it with the event
and the context, and it hands the event to an execution environment (a process started from the
command), waits for the runtime's answer and returns the result or raises the function's error.
Warm environments are reused as Lambda reuses them; ``cold_starts="every"`` starts a new process
for every invocation.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal

from ..foundations.config import KitConfig
from .aws_endpoint import EndpointAccess, lock_lent
from .environment import EnvironmentStartError, ExecutionEnvironment, Outcome
from .sandbox import hermetic_environ

ColdStarts = Literal["first", "every"]
COLD_STARTS: tuple[ColdStarts, ...] = ("first", "every")

#: The session token the kit's fake credentials carry in a Lambda environment (Lambda's
#: credentials are temporary ones, so SDKs there always see a token).
FAKE_SESSION_TOKEN = "rotation-testkit-fake-session-token"


class FunctionTimedOut(Exception):
    """The function ran past its timeout; its process was killed (the registry reports it as
    Lambda does, ``TaskTimedOut``)."""


class FunctionError(Exception):
    """An error a function reported through the Runtime API.

    Each ``errorType`` gets a subclass of its own name, so the history and the timeline show the
    function's error as Lambda reports it, e.g. ``ResourceNotFoundException: ...``.
    """

    error_type: str = "Error"

    def __init__(self, message: str, *, stack_trace: Any = None, document: Any = None) -> None:
        super().__init__(message)
        self.error_message = message
        self.stack_trace = stack_trace
        self.document = document


class InitError(FunctionError):
    """The runtime could not load the function (reported to /runtime/init/error)."""


class RuntimeExitError(FunctionError):
    """The process ended before answering the invocation."""

    error_type = "Runtime.ExitError"


class EnvironmentFailure(RuntimeExitError):
    """The function's environment could not run it at all: its program is missing, or its process
    never asked for an event (it hung or exited while starting). Nothing the function does when it
    runs is judged by such an invocation, so callers treat it as a failure of the harness."""


#: How an init error's message starts (the command line recognises it in check results).
INIT_FAILURE = "the function failed to initialise"

_ERROR_CLASSES: dict[tuple[str, type[FunctionError]], type[FunctionError]] = {}


def function_error(
    document: Mapping[str, Any], *, kind: type[FunctionError] = FunctionError
) -> FunctionError:
    """The exception for a reported error, its class named after the errorType."""
    error_type = str(document.get("errorType") or "Runtime.UnknownReason")
    cls = _ERROR_CLASSES.get((error_type, kind))
    if cls is None:
        cls = type(error_type, (kind,), {"error_type": error_type, "__module__": __name__})
        _ERROR_CLASSES[(error_type, kind)] = cls
    message = str(document.get("errorMessage") or "")
    if kind is InitError:
        message = f"{INIT_FAILURE}: {message}"
    return cls(message, stack_trace=document.get("stackTrace"), document=dict(document))


def _exit_error(message: str) -> FunctionError:
    return function_error(
        {"errorType": RuntimeExitError.error_type, "errorMessage": message}, kind=RuntimeExitError
    )


def _environment_failure(message: str) -> FunctionError:
    return function_error(
        {"errorType": RuntimeExitError.error_type, "errorMessage": message},
        kind=EnvironmentFailure,
    )


def _split(command: str) -> list[str]:
    try:
        words = shlex.split(command)
    except ValueError as error:
        raise ValueError(f"cannot split the command {command!r}: {error}.") from None
    if not words:
        raise ValueError("the command is empty: give the program that starts the runtime.")
    return words


def check_command(command: str, cwd: str | None = None) -> None:
    """Raise ValueError, saying what to do, when the command's program cannot be found."""
    words = _split(command)
    directory = os.path.abspath(cwd or os.getcwd())
    if not os.path.isdir(directory):
        raise ValueError(f"the working directory {directory!r} does not exist.")
    program = words[0]
    if os.sep in program:
        found = os.access(os.path.join(directory, program), os.X_OK)
    else:
        path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
        found = shutil.which(program, path=path) is not None
    if not found:
        raise ValueError(
            f"cannot run {program!r} (from the command {command!r}): it is not on PATH or not "
            "executable. Install it (Node.js for npx, the runtime interface client for "
            "python -m awslambdaric) or give its path."
        )
    if os.path.basename(program) == "npx":
        _require_npx_package(words[1:], directory)


def _require_npx_package(arguments: list[str], directory: str) -> None:
    """npx runs a package installed under node_modules, or else fetches it from the network:
    refuse the second, naming the package, before any check waits for it."""
    if any(a in ("-p", "--package") or a.startswith("--package=") for a in arguments):
        return
    name = next((a for a in arguments if not a.startswith("-")), None)
    if name is None or "/" in name.lstrip("@").split("@", 1)[0]:
        return
    binary = name.rsplit("@", 1)[0] if name.rfind("@") > 0 else name
    folder = directory
    while True:
        if os.access(os.path.join(folder, "node_modules", ".bin", binary), os.X_OK):
            return
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    raise ValueError(
        f"npx cannot find {binary!r} in node_modules under {directory!r} (it would download it). "
        f"Install the function's dependencies there first: cd {directory} && npm ci "
        f"(or npm install {binary})."
    )


def lambda_environment(
    config: KitConfig,
    *,
    name: str,
    handler: str,
    task_root: str,
    endpoint: EndpointAccess,
    memory_mb: int,
    env: Mapping[str, str],
) -> dict[str, str]:
    """The variables a Lambda environment has, hermetic, with the function's own ``env`` on top."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for key, value in hermetic_environ(config, environ).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    # "python" in a command is the kit's own interpreter (its virtualenv has the runtime client).
    bin_dir = os.path.dirname(sys.executable)
    environ["PATH"] = os.pathsep.join([bin_dir, environ.get("PATH", os.defpath)])
    environ.update(
        {
            # The endpoint's own keys: it serves no request signed with any other.
            "AWS_ACCESS_KEY_ID": endpoint.credentials.access_key_id,
            "AWS_SECRET_ACCESS_KEY": endpoint.credentials.secret_access_key,
            "AWS_SESSION_TOKEN": FAKE_SESSION_TOKEN,
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"$LATEST/{name}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_ENDPOINT_URL": endpoint.url,
            "SECRETS_MANAGER_ENDPOINT": endpoint.url,
            "LAMBDA_TASK_ROOT": task_root,
            "_HANDLER": handler,
            "TZ": ":UTC",
        }
    )
    environ.update(env)
    return environ


class CommandFunction:
    """The handler of a function run out of process: ``handler(event, context)`` as Lambda runs it."""

    def __init__(
        self,
        command: str,
        *,
        endpoint: Callable[[], EndpointAccess],
        config: Callable[[], KitConfig],
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        handler: str | None = None,
        cold_starts: ColdStarts = "first",
    ) -> None:
        words = _split(command)
        if cold_starts not in COLD_STARTS:
            raise ValueError(f"cold_starts must be 'first' or 'every', got {cold_starts!r}.")
        self.command = command
        self.cwd = os.path.abspath(cwd or os.getcwd())
        if not os.path.isdir(self.cwd):
            raise ValueError(f"the working directory {self.cwd!r} does not exist.")
        # Lambda's _HANDLER is the function's handler setting; runtime clients take it as their
        # last argument, so that is the default.
        self.handler = handler or words[-1]
        self.env = dict(env or {})
        self.cold_starts = cold_starts
        self._endpoint = endpoint
        self._config = config
        self._warm: ExecutionEnvironment | None = None
        #: Why the function cannot run here at all, once found: every later invocation fails
        #: at once with it instead of starting (and waiting for) another process.
        self.environment_failure: str | None = None
        self.cold_start_count = 0
        self.last_outcome: Outcome | None = None

    @property
    def __name__(self) -> str:  # the registry names a function after its handler
        return self.handler.rsplit(".", 1)[-1]

    def __repr__(self) -> str:
        return f"<CommandFunction {self.command!r}>"

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        if self.environment_failure is not None:
            raise _environment_failure(self.environment_failure)
        environment = self._environment(context)
        with lock_lent():  # the function's own requests must reach the world meanwhile
            outcome = environment.invoke(
                event,
                request_id=context.aws_request_id,
                function_arn=context.invoked_function_arn,
                timeout=context.timeout,
            )
        outcome.logs = _cloudwatch_log(context.aws_request_id, outcome, context.timeout)
        self.last_outcome = outcome
        if not environment.alive or self.cold_starts == "every":
            environment.close()
            self._warm = None
        if outcome.startup_failure is not None:
            self.environment_failure = outcome.startup_failure
            raise _environment_failure(outcome.startup_failure)
        if outcome.timed_out:
            raise FunctionTimedOut(context.timeout)
        if outcome.error is not None:
            kind = InitError if outcome.init_error else FunctionError
            raise function_error(outcome.error, kind=kind)
        if outcome.exit_status is not None:
            raise _exit_error(f"Runtime exited with error: exit status {outcome.exit_status}")
        return outcome.result

    def _environment(self, context: Any) -> ExecutionEnvironment:
        if self._warm is not None and self._warm.alive:
            return self._warm
        if self._warm is not None:
            self._warm.close()
        env = lambda_environment(
            self._config(),
            name=context.function_name,
            handler=self.handler,
            task_root=self.cwd,
            endpoint=self._endpoint(),
            memory_mb=context.memory_limit_in_mb,
            env=self.env,
        )
        try:
            self._warm = ExecutionEnvironment(self.command, cwd=self.cwd, env=env)
        except EnvironmentStartError as error:
            self.environment_failure = str(error)
            raise _environment_failure(str(error)) from None
        self.cold_start_count += 1
        return self._warm

    def discard_environment(self) -> None:
        """Kill the warm environment: the next invocation is a cold start (as after a timeout)."""
        if self._warm is not None:
            self._warm.close()
            self._warm = None

    def close(self) -> None:
        self.discard_environment()


def _cloudwatch_log(request_id: str, outcome: Outcome, timeout: float) -> str:
    """The invocation's log as CloudWatch Logs holds it: START, the output, END and REPORT."""
    lines = [f"START RequestId: {request_id} Version: $LATEST"]
    # Runtime clients end the lines of one multi-line entry with \r (one CloudWatch event each).
    text = outcome.logs.replace("\r", "\n").rstrip("\n")
    if text:
        lines.append(text)
    if outcome.timed_out:
        lines.append(f"{request_id} Task timed out after {timeout:.2f} seconds")
    lines.append(f"END RequestId: {request_id}")
    lines.append(
        f"REPORT RequestId: {request_id}\tDuration: {outcome.seconds * 1000:.2f} ms"
        + ("\tStatus: timeout" if outcome.timed_out else "")
    )
    return "\n".join(lines) + "\n"
