"""Runs the contract checks, each in a fresh world: the library behind `rotation-testkit check`."""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..execution.function_thread import stops_the_caller
from ..foundations.config import KitConfig
from ..observation import function_logs
from ..world import World
from .checks import CHECK_NAMES, CHECKS, Check
from .scenario import ContractFailure, HarnessError, NotApplicable, RotatorUnderTest, Scenario
from .secrets import SecretSetupError
from .setup_note import shows_unprepared_service

#: How a check ended. "not applicable" and "harness error" are not passes: the first says why
#: the check cannot apply to this rotator, the second that the set-up (setup, probe) failed.
Status = Literal["passed", "failed", "not applicable", "harness error"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    summary: str
    passed: bool
    message: str
    seconds: float
    timeline: str = ""
    status: Status = "passed"
    #: Lines worth showing whatever the outcome (e.g. a single-user rotation's login downtime).
    info: tuple[str, ...] = ()
    #: What the function wrote, under the step that wrote it (failing checks only; masked).
    logs: str = ""
    #: The function hung past its timeout in real time (later checks are not run).
    hung: bool = False
    #: The failure shows the protected service was not prepared (see :mod:`.setup_note`).
    service_unprepared: bool = False


def select(names: Iterable[str] | None) -> list[Check]:
    wanted = list(names or [])
    unknown = [name for name in wanted if name not in CHECK_NAMES]
    if unknown:
        raise ValueError(
            f"unknown check(s) {', '.join(unknown)}; known checks: {', '.join(CHECK_NAMES)}."
        )
    return [check for check in CHECKS if not wanted or check.name in wanted]


def run_check(
    check: Check, rotator: RotatorUnderTest, config: KitConfig | None = None
) -> CheckResult:
    """One check in a fresh, hermetic world with the clock running."""
    from ..kit import RotationKit

    config = config or KitConfig()
    # A leak to the logs is reported once, by the no-secret-in-logs check, not by every check.
    config = config.updated(disabled_invariants=config.disabled_invariants | {"no-secret-in-logs"})
    world = World(config)
    # A function that hangs in real time is not run again in this check: the run ends soon.
    world.lambdas.rerun_stopped = False
    started = time.perf_counter()
    status: Status = "passed"
    message = "ok"
    with world.activate():
        world.start_clock()
        scenario = Scenario(world, rotator)
        try:
            scenario.prepare()
            check.run(scenario)
            scenario.require_no_violations()
        except (HarnessError, SecretSetupError) as error:
            status, message = "harness error", str(error)
        except NotApplicable as reason:
            status, message = "not applicable", str(reason)
        except ContractFailure as failure:
            status, message = "failed", str(failure)
        except BaseException as error:  # the rotator raised where it must not (SystemExit too)
            if stops_the_caller(error):
                raise  # Ctrl-C, or the test runner ending the test (a timeout plugin's failure)
            status = "failed"
            message = (
                f"{type(error).__name__}: {error}\n"
                + "".join(traceback.format_exception(error)[-3:]).rstrip()
            )
        problem = scenario.harness_problem() or _environment_problem(world)
        if problem is not None:
            status, message = "harness error", problem
        kit = RotationKit(world)
        if world.aws_stubs.missing and status == "failed":
            message += "\n" + world.aws_stubs.report()
        message = kit.mask(message)
        timeline = kit.timeline() if status == "failed" else ""
        logs = (
            function_logs.render(
                scenario.shown_invocations
                or function_logs.failing_attempt(world.lambdas.invocations()),
                world.masker(),
            )
            if status == "failed"
            else ""
        )
        hung = any(invocation.stopped for invocation in world.lambdas.invocations())
        service_unprepared = status == "failed" and shows_unprepared_service(
            world.lambdas.invocations(), world.history, message
        )
    return CheckResult(
        check.name,
        check.summary,
        status == "passed",
        message,
        time.perf_counter() - started,
        timeline,
        status,
        tuple(kit.mask(line) for line in scenario.info),
        logs,
        hung,
        service_unprepared,
    )


#: How a harness error starts when the function could not run at all.
FUNCTION_COULD_NOT_RUN = "the function could not run"


def _environment_problem(world: World) -> str | None:
    """A function that could not run at all (its program missing, its process never asking for
    an event): no verdict on the rotator can follow from that."""
    failures = world.lambdas.environment_failures()
    return f"{FUNCTION_COULD_NOT_RUN}: {failures[0]}" if failures else None


def run_checks(
    rotator: RotatorUnderTest, names: Iterable[str] | None = None, config: KitConfig | None = None
) -> list[CheckResult]:
    return [run_check(check, rotator, config) for check in select(names)]
