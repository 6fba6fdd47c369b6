"""``reproduce(...)``: the Python entry point behind ``rotation_kit.reproduce`` and the command."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..diagnose.dates import parse_date
from ..foundations.config import ConfigError, KitConfig
from ..world import World
from .incident import read_incident
from .reproduction import Reproduction, reproduce_in
from .rotator import Rotator, Target
from .values import ReproduceError

__all__ = ["reproduce"]

State = str | os.PathLike[str] | Mapping[str, Any]


def reproduce(
    state: State,
    *evidence: str | os.PathLike[str],
    handler: Any = None,
    command: str | None = None,
    cwd: str | None = None,
    values: Mapping[str, str | Mapping[str, Any]] | None = None,
    setup: Target | None = None,
    probe: Target | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    now: datetime | str | None = None,
    write_test: str | os.PathLike[str] | None = None,
    world: World | None = None,
    rehearsals: bool = True,
) -> Reproduction:
    """Rebuild a saved stuck state, reattempt its pending rotation with the real rotator, say
    whether production's failure is reproduced, rehearse each unblock option, write a test.

    ``state`` is the saved describe-secret output (a file, or the parsed document); ``evidence``
    the files with list-secret-version-ids output, the function's logs and CloudTrail events.
    ``handler`` ('module:function', 'path/file.py:function' or a callable) or ``command`` (a
    Lambda runtime interface client, any language) is the rotation function. ``values`` maps a
    version id or staging label to that version's value (a SecretString, or a dict for JSON).
    ``world``: an active world to run in (a test's); without it, a world of its own in the saved
    region and account, its clock at ``now`` (default: the current time).
    Raises :class:`ReproduceError` for input that cannot be reproduced.
    """
    texts = {key: _text(key, value) for key, value in (values or {}).items()}
    incident = read_incident(state, evidence, values=texts)
    rotator = Rotator(
        handler=handler,
        command=command,
        cwd=cwd,
        setup=setup,
        probe=probe,
        env=dict(env or {}),
        timeout=timeout,
    )
    if world is not None:
        world.start_clock()
        return reproduce_in(world, incident, rotator, write_test=write_test, rehearsals=rehearsals)
    try:
        config = KitConfig(
            region=incident.region or KitConfig().region,
            account_id=incident.account_id or KitConfig().account_id,
            clock_start=_moment(now),
        )
    except ConfigError as error:
        raise ReproduceError(str(error)) from None
    own = World(config)
    own.lambdas.rerun_stopped = False  # a function that hangs in real time is not run again
    with own.activate():
        own.start_clock()
        return reproduce_in(own, incident, rotator, write_test=write_test, rehearsals=rehearsals)


def _text(key: str, value: str | Mapping[str, Any]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return json.dumps(dict(value))
    raise ReproduceError(
        f"values[{key!r}] must be a SecretString or a dict, got {type(value).__name__}."
    )


def _moment(now: datetime | str | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        moment = parse_date(now)
    except ValueError:
        moment = None
    if moment is None:
        raise ReproduceError(
            f"--now must be a date and time (ISO 8601, e.g. 2025-06-02T09:30:00Z, or epoch "
            f"seconds), got {now!r}."
        )
    return moment
