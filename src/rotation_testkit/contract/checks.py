"""The contract checks: named scenarios every rotation function must survive.

Each check runs in a fresh world with the clock running (so sleeps and retries cost no real time)
and the invariant checker on; any invariant violation fails the check too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..foundations import labels
from ..foundations.invariant_catalogue import INVARIANT_NAMES
from ..foundations.labels import STEPS, short_id
from .scenario import Scenario


@dataclass(frozen=True)
class Check:
    name: str
    summary: str
    run: Callable[[Scenario], None]
    settings: tuple[tuple[str, Any], ...] = ()


def _one_rotation(s: Scenario) -> None:
    old = s.current()
    assert old is not None
    s.rotate()
    s.require_rotated(old, "after one rotation")
    if s.rotator.strategy == "single-user" and s.rotator.probe is not None:
        s.info.append(_login_downtime(s))


def _login_downtime(s: Scenario) -> str:
    """When AWSCURRENT stopped working during the rotation, and when it worked again."""
    readings = [r for r in s.world.invariants.probe_readings if r.secret_arn == s.arn]
    refused_after = next((r.step for r in readings if not r.accepted), None)
    if refused_after is None:
        return "AWSCURRENT worked after every step of the rotation: no login downtime."
    first = next(i for i, r in enumerate(readings) if not r.accepted)
    back_after = next((r.step for r in readings[first:] if r.accepted), None)
    until = f"until the end of {back_after}" if back_after else "until the rotation ended"
    return (
        f"login downtime (single-user): the protected service refused the AWSCURRENT credentials "
        f"from the end of {refused_after} {until}; applications reading AWSCURRENT cannot log in "
        "during that window. An alternating-users rotator avoids it."
    )


def _several_rotations(s: Scenario) -> None:
    seen = []
    users = [_user_name(s, s.current())]
    for n in range(1, 4):
        old = s.current()
        assert old is not None
        seen.append(s.value(old))
        s.rotate()
        s.require_rotated(old, f"after rotation {n} of 3")
        users.append(_user_name(s, s.current()))
    if s.value(s.current()) in seen:
        s.fail("a later rotation produced a value that an earlier version already had.")
    if s.rotator.strategy == "alternating-users":
        for n, (before, after) in enumerate(itertools.pairwise(users), start=1):
            if before == after:
                s.fail(
                    f"alternating-users: rotation {n} of 3 kept the user name {after!r}; each "
                    "rotation must switch to the other user (the one AWSCURRENT did not name)."
                )


def _user_name(s: Scenario, version_id: str | None) -> Any:
    value = s.value(version_id)
    if s.rotator.strategy != "alternating-users":
        return None
    if not isinstance(value, dict) or "username" not in value:
        s.fail(
            "alternating-users: the secret must be a JSON object with a username field, so the "
            "check can see which user each rotation switched to."
        )
    assert isinstance(value, dict)
    return value["username"]


def _test_secret_tests_pending(s: Scenario) -> None:
    if s.rotator.probe is None:
        s.not_applicable(
            "needs a probe (--probe): the check asks the protected service whether the pending "
            "credentials work before setSecret ran."
        )
    # Deferred mode: RotateSecret returns at once and createSecret runs when the clock moves one
    # step; setSecret, due one step later, never runs.
    s.world.configure(rotation_mode="deferred")
    token = s.rotate()
    s.world.clock.advance(s.world.config.step_duration)
    pending = s.value(token)
    if pending is None or not labels.has_value(s.versions()[token]):
        s.fail("createSecret did not store a pending value, so testSecret had nothing to test.")
    if s.accepted(pending):
        s.not_applicable(
            "the protected service already accepts the pending secret without setSecret "
            "(nothing to set, e.g. a plain token), so a testSecret that tests it cannot be told "
            "apart from one that does not."
        )
    error = s.invoke_step("testSecret", token)
    if error is None:
        s.fail(
            "testSecret succeeded although setSecret never ran and the protected service refuses "
            "the pending credentials: testSecret does not test them. It must log in with the "
            "AWSPENDING value (get_secret_value(VersionId=token, VersionStage='AWSPENDING')) and "
            "raise when the login fails, so a bad password never becomes AWSCURRENT."
        )


def _steps_repeated(s: Scenario) -> None:
    # AWS may deliver a step more than once with the same token: the wrapped function runs
    # every step twice in a row, and the second run must succeed and change nothing.
    function = s.world.lambdas.lookup(s.function_arn)
    assert function is not None
    original = function.resolve()

    def twice(event: dict[str, Any], context: Any) -> Any:
        original(event, context)
        return original(event, context)

    s.function_arn = s.world.lambdas.register(
        twice, name="rotator-twice", timeout=s.rotator.timeout, env=s.rotator.env
    )
    old = s.current()
    assert old is not None
    s.rotate()
    s.require_rotated(old, "with every step invoked twice with the same token")


def _current_token_is_noop(s: Scenario) -> None:
    old = s.current()
    assert old is not None
    s.rotate()
    s.require_rotated(old, "after the rotation before the repeated steps")
    token = s.current()
    assert token is not None
    before, service = s.labels(), s.service_state()
    for step in STEPS:
        error = s.invoke_step(step, token)
        if error is not None:
            s.fail(
                f"{step} invoked with the token that is already AWSCURRENT ({short_id(token)}) raised "
                f"{type(error).__name__}: it must return quietly, as AWS may repeat a finished rotation's step."
            )
    if s.labels() != before:
        s.fail(
            f"steps invoked with the AWSCURRENT token changed the labels: {before} became {s.labels()}."
        )
    if service is not None and s.service_state() != service:
        s.fail(
            "steps invoked with the AWSCURRENT token changed what the protected service accepts."
        )


def _unknown_token_refused(s: Scenario) -> None:
    # Rotate once first, so rotation is enabled and only the token check can refuse the steps.
    old = s.current()
    assert old is not None
    s.rotate()
    s.require_rotated(old, "after the rotation before the unknown-token steps")
    before, service = s.labels(), s.service_state()
    unknown = "00000000-0000-4000-8000-000000000000"
    for step in STEPS:
        error = s.invoke_step(step, unknown)
        if error is None:
            s.fail(
                f"{step} accepted a token the secret does not know: every step must check that the "
                "token is in describe_secret's VersionIdsToStages and raise otherwise."
            )
    if s.labels() != before:
        s.fail("steps invoked with an unknown token changed the labels.")
    if service is not None and s.service_state() != service:
        s.fail("steps invoked with an unknown token changed what the protected service accepts.")


def _fault_then_retry(kind: str, step: str) -> Callable[[Scenario], None]:
    def run(s: Scenario) -> None:
        getattr(s.world.faults, kind)(step)
        old = s.current()
        assert old is not None
        s.rotate()
        s.require_rotated(old, f"after {kind}({step!r}) and the service's retry")

    return run


def _throttled(s: Scenario) -> None:
    for operation in (
        "DescribeSecret",
        "GetSecretValue",
        "PutSecretValue",
        "UpdateSecretVersionStage",
    ):
        s.world.faults.fail_api(operation, code="ThrottlingException", message="Rate exceeded")
    old = s.current()
    assert old is not None
    s.rotate()
    s.require_rotated(old, "with throttled Secrets Manager calls")


def _timeout(s: Scenario) -> None:
    s.world.faults.time_out_step("setSecret")
    old = s.current()
    assert old is not None
    s.rotate()
    s.require_rotated(old, "after setSecret timed out once")


def _test_rotation_leaves_nothing(s: Scenario) -> None:
    before_labels = s.labels()
    before_versions = set(s.versions())
    before_value = s.value(s.current())
    s.rotate(RotateImmediately=False)
    failed = s.world.history.events("TestRotationFailed")
    if failed:
        s.fail(
            f"RotateImmediately=false: testSecret failed on a copy of the current secret "
            f"({failed[-1].error}); the function must accept it."
        )
    if s.labels() != before_labels or set(s.versions()) != before_versions:
        s.fail(
            f"RotateImmediately=false left something behind: labels {before_labels} became {s.labels()}."
        )
    if s.value(s.current()) != before_value:
        s.fail("RotateImmediately=false changed the AWSCURRENT value.")


def _manual_change_during_rotation(s: Scenario) -> None:
    s.world.configure(rotation_mode="deferred")
    current = s.current()
    s.rotate()
    # Only createSecret runs: the protected service still has the current credentials.
    s.world.clock.advance(s.world.config.step_duration)
    # Someone stores the current credentials again by hand: AWS abandons the rotation.
    s.client.put_secret_value(
        SecretId=s.arn, SecretString=s.versions()[current or ""]["secret_string"]
    )
    s.world.clock.advance(minutes=10)
    if labels.pending_rotation(s.versions()) is not None:
        s.fail("after a manual change the abandoned rotation still holds AWSPENDING.")
    s.world.configure(rotation_mode="immediate")
    old = s.current()
    assert old is not None
    s.rotate()
    s.require_rotated(old, "the rotation after a manual change")


def _cold_start_every_step(s: Scenario) -> None:
    problem = s.cold_start_problem()
    if problem is not None:
        s.not_applicable(f"the function cannot be imported afresh for each invocation: {problem}.")
    s.function_arn = s.register_again("rotator-cold", cold_starts="every")
    old = s.current()
    assert old is not None
    s.rotate()
    s.require_rotated(old, "with a cold start at every invocation")
    for step in STEPS:
        # The step does its work, then the invocation fails; the retry starts from createSecret
        # in a new execution environment, with nothing left in memory from the failed attempt.
        s.world.faults.crash_after_step(step)
        old = s.current()
        assert old is not None
        s.rotate()
        s.require_rotated(
            old, f"with a cold start at every invocation, after {step} crashed once and the retry"
        )


def _no_secret_in_logs(s: Scenario) -> None:
    # Only leaks are judged here: other bugs have their own checks, so the invariants are off and a
    # rotation the rotator breaks does not end the scenario.
    s.world.invariants.disabled = INVARIANT_NAMES
    # The paths a function logs on: a rotation, a retry after each kind of failure, throttled
    # calls, and steps invoked with the current and an unknown token.
    s.try_rotate()
    s.world.faults.fail_step("testSecret")
    s.world.faults.crash_after_step("setSecret")
    s.world.faults.fail_api("GetSecretValue", code="ThrottlingException", message="Rate exceeded")
    s.try_rotate()
    token = s.current()
    assert token is not None
    for step in STEPS:
        s.invoke_step(step, token)
        s.invoke_step(step, "00000000-0000-4000-8000-000000000000")
    leak = s.log_leak()
    if leak is not None:
        # The scenario's own failures (planned faults, refused tokens) are no hint here.
        s.fail(leak, explain=False)


CHECKS: tuple[Check, ...] = (
    Check("one-rotation", "One rotation succeeds and leaves a valid state.", _one_rotation),
    Check(
        "several-rotations",
        "Three rotations in a row succeed, each with a new value.",
        _several_rotations,
    ),
    Check(
        "steps-repeated",
        "Every step invoked twice with the same token still rotates.",
        _steps_repeated,
    ),
    Check(
        "current-token-noop",
        "A step invoked with the AWSCURRENT token is a quiet no-op.",
        _current_token_is_noop,
    ),
    Check(
        "unknown-token-refused",
        "A step invoked with an unknown token fails and changes nothing.",
        _unknown_token_refused,
    ),
    *(
        Check(
            f"fail-{step}-then-retry",
            f"{step} fails once; the retry from createSecret succeeds.",
            _fault_then_retry("fail_step", step),
        )
        for step in STEPS
    ),
    *(
        Check(
            f"crash-after-{step}-then-retry",
            f"{step} does its work, then the invocation fails; the retry succeeds.",
            _fault_then_retry("crash_after_step", step),
        )
        for step in STEPS
    ),
    Check(
        "throttled-api", "Throttled Secrets Manager calls do not break the rotation.", _throttled
    ),
    Check("timeout", "A setSecret that times out once is retried to success.", _timeout),
    Check(
        "rotate-immediately-false",
        "RotateImmediately=false runs testSecret and leaves nothing behind.",
        _test_rotation_leaves_nothing,
    ),
    Check(
        "manual-change-during-rotation",
        "A manual change abandons the rotation; the next one succeeds.",
        _manual_change_during_rotation,
    ),
    Check(
        "no-secret-in-logs",
        "No invocation writes a known secret value to its logs.",
        _no_secret_in_logs,
    ),
    Check(
        "cold-start-every-step",
        "The rotation and its retries converge when every invocation is a cold start.",
        _cold_start_every_step,
    ),
    Check(
        "test-secret-tests-pending",
        "testSecret fails when setSecret did not apply the pending credentials.",
        _test_secret_tests_pending,
    ),
)
CHECK_NAMES = tuple(check.name for check in CHECKS)
