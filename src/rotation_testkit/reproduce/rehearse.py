"""Rehearse each way out of the stuck rotation that ``diagnose`` offers, on a copy of the
reproduced state: apply it, run the next rotation, and tell whether that rotation succeeds.

Each rehearsal rebuilds the saved state and reattempts the rotation first (so it starts where the
reproduction ended), with production's outside cause taken as fixed before the unblock: no label
change helps while it stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from ..diagnose.commands import secret_command, stage_command
from ..diagnose.saved import AWSCURRENT, AWSPENDING
from .incident import Incident
from .outside import OutsideFault
from .run import Outcome, Run

__all__ = ["ACTIONS", "Rehearsal", "rehearse"]

REMOVE_PENDING = "remove-pending"
FINISH_BY_HAND = "finish-by-hand"
STORE_FIRST_VALUE = "store-first-value"
REATTEMPT = "reattempt"
ACTIONS = (REMOVE_PENDING, FINISH_BY_HAND, STORE_FIRST_VALUE, REATTEMPT)

_SAYS = {
    REMOVE_PENDING: "remove AWSPENDING from the unfinished version",
    FINISH_BY_HAND: "finish the rotation by hand (move AWSCURRENT to the pending version, then "
    "remove AWSPENDING; the protected service set to the pending credentials, as this option "
    "assumes)",
    STORE_FIRST_VALUE: "store the secret's first value",
    REATTEMPT: "change no label and let Secrets Manager reattempt the rotation (with the "
    "function as it is now)",
}


@dataclass(frozen=True)
class Rehearsal:
    """One unblock option, the commands that apply it, and how the next rotation ended."""

    action: str
    commands: tuple[str, ...]
    outcome: Outcome

    @property
    def says(self) -> str:
        return _SAYS[self.action]

    def as_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "commands": list(self.commands),
            "next_rotation": "succeeded" if self.outcome.succeeded else "failed",
            "step": self.outcome.step,
            "error": self.outcome.error,
        }


def options(incident: Incident) -> list[tuple[str, tuple[str, ...]]]:
    """The unblock options diagnose prints for this state, with their AWS CLI commands."""
    saved = incident.saved
    secret_id = saved.secret_id
    pending = incident.pending
    assert pending is not None
    if incident.current is None:
        store = secret_command(
            "put-secret-value", secret_id, "--secret-string", "file://secret.json"
        )
        return [(STORE_FIRST_VALUE, (store,))]
    remove = stage_command(secret_id, AWSPENDING, remove_from=pending)
    found: list[tuple[str, tuple[str, ...]]] = [(REMOVE_PENDING, (remove,))]
    if saved.has_value(pending) is not False:
        move = stage_command(secret_id, AWSCURRENT, move_to=pending, remove_from=incident.current)
        found.append((FINISH_BY_HAND, (move, remove)))
    if saved.rotation_enabled:
        found.append((REATTEMPT, ()))
    return found


def rehearse(run: Run, outside: OutsideFault | None) -> list[Rehearsal]:
    """Every option, each on its own copy of the reproduced state."""
    rehearsals = []
    for action, commands in options(run.incident):
        run.rebuild(outside)
        run.reattempt()
        run.remove_outside_cause()
        rehearsals.append(Rehearsal(action, commands, _next_rotation(run, action)))
    return rehearsals


def _next_rotation(run: Run, action: str) -> Outcome:
    if action == REATTEMPT:
        return run.reattempt()
    steps: dict[str, Callable[[Run], None]] = {
        REMOVE_PENDING: _remove_pending,
        FINISH_BY_HAND: _finish_by_hand,
        STORE_FIRST_VALUE: _store_first_value,
    }
    try:
        steps[action](run)
    except ClientError as error:
        details = error.response.get("Error", {})
        return Outcome(
            False,
            None,
            str(details.get("Code", "ClientError")),
            "the unblock command itself failed: " + run.world.mask(str(details.get("Message"))),
        )
    return run.rotate()


def _remove_pending(run: Run) -> None:
    pending = run.incident.pending
    assert pending is not None
    run.world.client().update_secret_version_stage(
        SecretId=run.arn, VersionStage=AWSPENDING, RemoveFromVersionId=pending
    )


def _finish_by_hand(run: Run) -> None:
    client = run.world.client()
    pending, current = run.incident.pending, run.incident.current
    assert pending is not None
    assert current is not None
    client.update_secret_version_stage(
        SecretId=run.arn,
        VersionStage=AWSCURRENT,
        MoveToVersionId=pending,
        RemoveFromVersionId=current,
    )
    client.update_secret_version_stage(
        SecretId=run.arn, VersionStage=AWSPENDING, RemoveFromVersionId=pending
    )
    value = client.get_secret_value(SecretId=run.arn)["SecretString"]
    run.rotator.prepare_service(run.world, value)


def _store_first_value(run: Run) -> None:
    value = run.incident.first_value
    if value is None:
        raise ClientError(
            {
                "Error": {
                    "Code": "NoValueGiven",
                    "Message": "give the first value with --value AWSCURRENT=JSON",
                }
            },
            "PutSecretValue",
        )
    run.world.client().put_secret_value(SecretId=run.arn, SecretString=value)
    run.rotator.prepare_service(run.world, value)
