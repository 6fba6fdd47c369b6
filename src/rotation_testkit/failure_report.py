"""What the pytest plugin adds to a failing test's report, read from the world's history.

Three things a user needs next to a failure: the last rotations in full (earlier ones counted, not
printed), a hint when RotateSecret named a function the test never registered, and the rotations
that ended failed although the test planned no fault for them (``assert_rotations_succeed``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .aws.rotation import CANNOT_INVOKE
from .foundations import history
from .foundations.history import Event
from .foundations.labels import short_id
from .observation import timeline
from .world import World

#: How many rotations a failure report prints in full; earlier ones are counted by outcome.
RECENT_ROTATIONS = 3


def recent_timeline(world: World, *, last: int = RECENT_ROTATIONS) -> str:
    """The last ``last`` rotations as tables, after one line counting the earlier ones."""
    tables = timeline.build(world.history)
    shown = tables[-last:] if last > 0 else []
    text = timeline.render(shown, names=_names(world)) if shown else ""
    earlier = tables[: len(tables) - len(shown)]
    if not earlier:
        return text or timeline.render([])
    outcomes = Counter(_outcome(table) for table in earlier)
    counted = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    return (
        f"{len(earlier)} earlier rotation(s) not shown ({counted}); "
        f"the last {len(shown)} follow. rotation_kit.timeline() shows every one.\n\n{text}"
    )


def _outcome(table: timeline.RotationTable) -> str:
    last = table.rows[-1].what if table.rows else ""
    for name, outcome in (
        (history.ROTATION_SUCCEEDED, "succeeded"),
        (history.TEST_ROTATION_SUCCEEDED, "succeeded"),
        (history.ROTATION_ABANDONED, "abandoned"),
        (history.ROTATION_FAILED, "failed"),
        (history.TEST_ROTATION_FAILED, "failed"),
    ):
        if last.startswith(name):
            return outcome
    return "unfinished"


def _names(world: World) -> dict[str, str]:
    return {secret.arn: secret.name for secret in world.backend.secrets.values()}


# --- RotateSecret with a function nobody registered ------------------------------------------------


def unregistered_function_hint(world: World) -> str | None:
    """A hint naming the unregistered function ARNs the service could not invoke, if any."""
    missing: list[str] = []
    for event in world.history:
        arn = _uninvokable_arn(world, event)
        if arn and world.lookup_function(arn) is None and arn not in missing:
            missing.append(arn)
    if not missing:
        return None
    registered = ", ".join(f.arn for f in world.lambdas.functions()) or "none"
    return (
        f"Secrets Manager could not invoke {', '.join(missing)}: no function with "
        f"{'this ARN' if len(missing) == 1 else 'these ARNs'} is registered in this test "
        f"(registered: {registered}).\nDid you forget rotation_lambdas.register(handler)? Pass "
        "the ARN it returns as RotationLambdaARN."
    )


def _uninvokable_arn(world: World, event: Event) -> str | None:
    # RotateSecret refused, or a scheduled rotation that could not start, for that reason.
    if event.name == "RotateSecret" and event.error == "AccessDeniedException":
        given = event.detail.get("parameters", {}).get("RotationLambdaARN")
        if isinstance(given, str):
            return given
    elif not (event.name == history.ROTATION_FAILED and CANNOT_INVOKE in (event.error or "")):
        return None
    secret = world.find_secret(event.secret_arn) if event.secret_arn else None
    return secret.rotation_lambda_arn if secret is not None else None


# --- rotations that ended failed although no fault was planned -------------------------------------


def unexpected_failed_rotations(world: World) -> list[Event]:
    """Final failures of rotations during which no fault the test planned fired."""
    events = list(world.history)
    unexpected = []
    for index, event in enumerate(events):
        if event.name != history.ROTATION_FAILED or not event.detail.get("final"):
            continue
        start = _rotation_start(events, index)
        if not any(
            e.secret_arn == event.secret_arn and e.detail.get("fault")
            for e in events[start : index + 1]
        ):
            unexpected.append(event)
    return unexpected


def _rotation_start(events: Sequence[Event], end: int) -> int:
    failure = events[end]
    for index, event in enumerate(events[:end]):
        if (
            event.name == history.ROTATION_STARTED
            and event.secret_arn == failure.secret_arn
            and event.version_id == failure.version_id
        ):
            return index
    return end


def failed_rotations_report(world: World, failures: Sequence[Event]) -> str:
    names = _names(world)
    lines = []
    for event in failures:
        name = names.get(event.secret_arn or "", event.secret_arn or "a secret")
        where = f"attempt {event.attempt}, {event.step}" if event.attempt else "before any step"
        token = f", token {short_id(event.version_id)}" if event.version_id else ""
        lines.append(f"  - {name}{token} ({where}): {event.error}")
    return (
        "a rotation ended failed after every attempt, and no fault this test planned fired during "
        "it:\n" + "\n".join(lines) + "\nAWS reports such a rotation as no error (the secret keeps "
        "AWSPENDING and is retried later); this test asked to fail instead with "
        "assert_rotations_succeed=True. If the failure is what the test means, plan it with "
        "rotation_faults, or turn the setting off for this test with "
        "@pytest.mark.rotation_testkit(assert_rotations_succeed=False)."
    )
