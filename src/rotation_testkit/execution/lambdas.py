"""The registry of in-process Lambda functions the service invokes, and one invocation's life.

A real Lambda runs in its own process with its own environment; here the handler runs in the test's
process (in the caller's thread, or a worker thread: :mod:`.function_thread`), with the variables
Lambda sets, its output captured as CloudWatch Logs keeps it (:mod:`.logs`), in a warm or a new
execution environment (:mod:`.cold_start`). What a function and an invocation are is in
:mod:`.lambda_function`; the context object and the runtime's errors in :mod:`.runtime`. An
invocation's steps (environment, init, run, log) read best in one place, which keeps this module
past 400 lines.
"""

from __future__ import annotations

import copy
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ..foundations.config import KitConfig
from .aws_endpoint import EndpointAccess, lock_lent
from .cold_start import fresh_handler
from .commands import COLD_STARTS, ColdStarts, CommandFunction, FunctionTimedOut
from .environment_ledger import LEDGER
from .faults import Fault
from .function_thread import Killed, Workers, is_function_thread, run_with_timeout
from .handler_location import (
    ColdStartUnavailable,
    deployment_package,
)
from .lambda_function import (
    Handler,
    Invocation,
    LambdaFunction,
    LambdaRegistrationError,
    function_environment,
    import_handler,
    with_imported_handler,
    with_location,
)
from .logs import LogBuffer, capture_thread, captured_output, end_of_log, release_thread
from .runtime import (
    HandlerCallError,
    LambdaContext,
    RuntimeExited,
    TaskTimedOut,
    lambda_variables,
    service_endpoint,
)

__all__ = [
    "COLD_STARTS",
    "ColdStarts",
    "Handler",
    "Invocation",
    "LambdaContext",
    "LambdaFunction",
    "LambdaRegistrationError",
    "LambdaRegistry",
    "RuntimeExited",
    "TaskTimedOut",
    "function_environment",
    "import_handler",
    "lambda_variables",
    "service_endpoint",
]

_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([A-Za-z0-9_-]{1,64})(:[^:]+)?$"
)


@dataclass(repr=False)
class LambdaRegistry:
    """The functions of one world, by ARN, and every invocation in order."""

    config: KitConfig
    _functions: dict[str, LambdaFunction] = field(default_factory=dict)
    _invocations: list[Invocation] = field(default_factory=list)
    _deadlines: list[float] = field(default_factory=list)  # of the functions running now
    # The warm execution environment of each function: its handler after the last init.
    _environments: dict[str, Handler] = field(default_factory=dict)
    # Each in-process function's deployment package, found at its first invocation.
    _packages: dict[str, tuple[list[str], list[ModuleType]]] = field(default_factory=dict)
    #: False: a function once stopped in real time is not run again in this registry (its next
    #: invocations time out at once), so a command-line run on a function that hangs ends soon.
    rerun_stopped: bool = True
    _stopped: set[str] = field(default_factory=set)
    #: The world's HTTP endpoint (started on first use) for functions run out of process.
    endpoint: Callable[[], EndpointAccess] | None = None
    # Threads that run handlers, kept from one invocation to the next.
    _workers: Workers = field(default_factory=Workers)

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
        cold_starts: ColdStarts | None = None,
        package_modules: Sequence[str] = (),
        environment_modules: Sequence[str] = (),
    ) -> str:
        """Register a rotation function and return the ARN to pass as RotationLambdaARN.

        ``cold_starts``: "first" keeps one warm execution environment after the first import;
        "every" imports the function's deployment package afresh for each invocation (default:
        the world's ``cold_starts`` setting, "first" unless changed). ``package_modules`` names
        more modules of the deployment package, imported afresh with it; ``environment_modules``
        names modules of the handler's folder or package that stand for the environment (a fake
        of the protected service) and are never imported afresh.
        """
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
        if cold_starts is not None and cold_starts not in COLD_STARTS:
            raise LambdaRegistrationError(
                f"cold_starts must be 'first' or 'every', got {cold_starts!r}."
            )
        function_name = name or self._default_name(handler)
        if not _FUNCTION_NAME.match(function_name):
            raise LambdaRegistrationError(
                f"function name {function_name!r} is not a valid Lambda name: "
                "use 1-64 letters, digits, '-' or '_'."
            )
        arn = self.arn_for(function_name)
        existing = self._functions.get(arn)
        if existing is not None and existing.handler is not handler and existing.handler != handler:
            raise LambdaRegistrationError(
                f"a different handler is already registered as {function_name!r}; "
                "pass name= to register this one under another name."
            )
        function = LambdaFunction(
            name=function_name,
            arn=arn,
            handler=handler,
            timeout=float(timeout),
            env={str(k): str(v) for k, v in (env or {}).items()},
            cold_starts=cold_starts,
            package_modules=tuple(package_modules),
            environment_modules=tuple(environment_modules),
        )
        if isinstance(handler, str):
            function = with_imported_handler(function, self.config)
        elif not isinstance(handler, CommandFunction):
            function = with_location(function)
        if self.cold_starts_of(function) == "every" and function.location_problem is not None:
            raise LambdaRegistrationError(
                f"cold_starts='every' was asked for {function_name!r}, but "
                f"{function.location_problem}. Pass cold_starts='first' for this function to "
                "keep one warm environment."
            )
        self._functions[arn] = function
        self._environments.pop(arn, None)
        self._packages.pop(arn, None)
        return arn

    def cold_start_problem(self, arn: str) -> str | None:
        """Why a registered function cannot have cold starts (None when it can)."""
        function = self.lookup(arn)
        if function is None or isinstance(function.handler, CommandFunction):
            return None
        return function.location_problem

    def _package(self, function: LambdaFunction) -> tuple[list[str], list[ModuleType]]:
        """The function's deployment package: its module names and (watched) modules."""
        known = self._packages.get(function.arn)
        if known is None:
            names: list[str] = []
            if function.location is not None:
                names = deployment_package(
                    function.location, function.package_modules, function.environment_modules
                )
            modules = [module for name in names if (module := sys.modules.get(name)) is not None]
            LEDGER.watch(modules)
            known = self._packages[function.arn] = (names, modules)
        return known

    def cold_starts_of(self, function: LambdaFunction) -> str:
        """The cold-start behaviour of a function: its own, else the world's setting."""
        own = function.cold_starts
        return own if own is not None else str(getattr(self.config, "cold_starts", "first"))

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
            event=_copied(event),
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
        buffer = LogBuffer(invocation.request_id)
        started = time.monotonic()
        context._deadline = started + function.timeout
        if fault is not None and fault.kind == "fail_step":
            buffer.line(f"START RequestId: {invocation.request_id} Version: $LATEST")
            invocation.error, invocation.ran = fault.step_error(), False
            self._end_logs(buffer, invocation, function, init_seconds=None)
            return invocation
        if not self.rerun_stopped and function.arn in self._stopped:
            buffer.line(f"START RequestId: {invocation.request_id} Version: $LATEST")
            buffer.line("(not run: the function hung past its timeout in an earlier invocation)")
            invocation.error, invocation.stopped = TaskTimedOut(function.timeout), True
            invocation.ran = False
            self._end_logs(buffer, invocation, function, init_seconds=None)
            return invocation
        init_seconds: float | None = None
        in_process = not isinstance(function.handler, CommandFunction)
        package = self._package(function)[1] if in_process else []
        # Rebinds made since the function last ran were made from outside (the test, a setup).
        LEDGER.outside_changes(package)
        self._deadlines.append(context._deadline)
        try:
            with captured_output(buffer), function_environment(function, self.config):
                init_started = time.perf_counter()
                try:
                    handler, invocation.cold_start = self._environment(function)
                except Exception as error:  # the init phase failed: no handler to call
                    handler, invocation.cold_start, invocation.error = None, True, error
                if invocation.cold_start:
                    init_seconds = time.perf_counter() - init_started
                buffer.line(f"START RequestId: {invocation.request_id} Version: $LATEST")
                if handler is not None:
                    self._run(handler, function, event, context, invocation, buffer)
        except Killed:
            # The function that invoked this one (in the same thread) was stopped at its own
            # deadline: this one stops with it, and its record says so.
            invocation.error, invocation.stopped = TaskTimedOut(function.timeout), True
            invocation.duration = time.monotonic() - started
            self._end_logs(buffer, invocation, function, init_seconds=init_seconds)
            raise
        finally:
            self._deadlines.pop()
            # Rebinds made while it ran are the function's own memory.
            LEDGER.function_changes(package)
        invocation.duration = time.monotonic() - started
        if invocation.error is None and invocation.duration > function.timeout:
            invocation.error = TaskTimedOut(function.timeout)
        if isinstance(invocation.error, (TaskTimedOut, RuntimeExited)):
            # Lambda discards an environment whose function timed out or exited.
            self._environments.pop(function.arn, None)
        if fault is not None and invocation.error is None:
            if fault.kind == "time_out_step":
                invocation.error = TaskTimedOut(function.timeout)
            elif fault.kind == "crash_after_step":
                invocation.error = fault.step_error()
            if fault.kind in ("time_out_step", "crash_after_step"):
                _discard_environment(function.handler)
        self._end_logs(buffer, invocation, function, init_seconds=init_seconds)
        return invocation

    def _environment(self, function: LambdaFunction) -> tuple[Handler, bool]:
        """The handler to call and whether this is a cold start (a new execution environment)."""
        if isinstance(function.handler, CommandFunction):
            # Its execution environments are processes; it starts them cold itself.
            return function.handler, False
        if self.cold_starts_of(function) == "every":
            if function.location is None:
                raise ColdStartUnavailable(function.location_problem or "no handler location")
            names, _ = self._package(function)
            return fresh_handler(function.location, package=names), True
        warm = self._environments.get(function.arn)
        if warm is not None:
            return warm, False
        handler = function.resolve()
        self._environments[function.arn] = handler
        return handler, True

    def _run(
        self,
        handler: Handler,
        function: LambdaFunction,
        event: Mapping[str, Any],
        context: LambdaContext,
        invocation: Invocation,
        buffer: LogBuffer,
    ) -> None:
        payload = _copied(event)
        out_of_process = isinstance(handler, CommandFunction)
        # The world lock is held by this thread when the call came through the HTTP endpoint; the
        # worker cannot lend it, so lend it here, for the function's own requests.
        with lock_lent() if out_of_process else nullcontext():
            outcome = run_with_timeout(
                lambda: handler(payload, context),
                # A function run out of process is timed out by its own runner, which kills it.
                function.timeout + (5.0 if out_of_process else 0.0),
                started=lambda ident: capture_thread(buffer, ident),
                ended=release_thread,
                workers=self._workers,
                in_caller=not out_of_process,
            )
        if out_of_process:
            invocation.logs = _out_of_process_logs(handler)  # START to REPORT, as it ran
        if outcome.timed_out or isinstance(outcome.error, FunctionTimedOut):
            invocation.error = TaskTimedOut(function.timeout)
            # A process that ran past its timeout was killed in real time: stopped as well.
            invocation.stopped = outcome.stopped or isinstance(outcome.error, FunctionTimedOut)
            if invocation.stopped:
                self._stopped.add(function.arn)
        elif isinstance(outcome.error, SystemExit):  # the handler ended the runtime process
            invocation.error = RuntimeExited(outcome.error.code)
        elif outcome.error is not None:
            invocation.error = _call_error(outcome.error) or outcome.error
        else:
            invocation.result = outcome.result

    def _end_logs(
        self,
        buffer: LogBuffer,
        invocation: Invocation,
        function: LambdaFunction,
        *,
        init_seconds: float | None,
    ) -> None:
        if isinstance(function.handler, CommandFunction) and invocation.logs:
            return  # its runner wrote the whole log
        error = invocation.error
        timed_out = error.timeout if isinstance(error, TaskTimedOut) else None
        invocation.logs = end_of_log(
            buffer,
            error=None if timed_out is not None else error,
            timed_out_after=timed_out,
            duration=invocation.duration,
            memory_mb=function.memory_limit_in_mb,
            init_seconds=init_seconds,
        )

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

    def environment_failures(self) -> list[str]:
        """Why functions run from a command could not run at all (see EnvironmentFailure)."""
        return [
            failure
            for function in self._functions.values()
            if (failure := getattr(function.handler, "environment_failure", None)) is not None
        ]

    def close_environments(self) -> None:
        """Kill every process a function runs in and end the worker threads (the world is
        ending)."""
        for function in self._functions.values():
            _discard_environment(function.handler)
        self._workers.close()

    def sleep_budget(self) -> float | None:
        """Seconds the running function may still sleep before Lambda stops it."""
        if not self._deadlines:
            return None
        return max(0.0, self._deadlines[-1] - time.monotonic())

    def owns_thread(self, ident: int) -> bool:
        """Is this thread running one of the handlers (whose sleeps follow the fake clock)?"""
        return bool(self._deadlines) and is_function_thread(ident)

    def budget_exhausted(self) -> None:
        """A fake sleep reached the running function's timeout: stop it as Lambda would."""
        if self._deadlines:
            raise Killed()


_FLAT = (str, int, float, bool, type(None))


def _copied(event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an event the function may change without changing the service's (flat, as the
    service's events are: a dict copy is enough)."""
    copied = dict(event)
    if all(isinstance(value, _FLAT) for value in copied.values()):
        return copied
    return copy.deepcopy(copied)


def _call_error(error: BaseException) -> HandlerCallError | None:
    """A TypeError raised by the call itself (the handler does not take (event, context)), not
    by the handler's code: its innermost frame is the kit's call."""
    if not isinstance(error, TypeError) or error.__traceback__ is None:
        return None
    innermost = error.__traceback__
    while innermost.tb_next is not None:
        innermost = innermost.tb_next
    if innermost.tb_frame.f_code.co_filename != __file__:
        return None
    called = HandlerCallError(
        f"the handler could not be called as handler(event, context): {error}. Lambda calls "
        "the object its handler setting names with two arguments; check the attribute the "
        "target names."
    )
    called.__cause__ = error
    return called


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
