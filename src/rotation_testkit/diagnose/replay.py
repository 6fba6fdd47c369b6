"""Rebuild a secret's saved state (versions, staging labels, rotation settings) in a world.

A test can then replay what happened in production: register the rotation function, see
RotateSecret fail the way it failed there, apply the fix `rotation-testkit diagnose` printed, and
rotate again. The input is the same saved AWS CLI output :mod:`rotation_testkit.diagnose` reads.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..aws.scheduler import without_derived_days
from ..foundations.schedule import RotationSchedule, ScheduleError, parse_rotation_rules
from ..world import active_world, has_active_world
from .saved import AWSCURRENT, AWSPENDING, AWSPREVIOUS, SavedSecret, SavedVersion, parse_saved_state

if TYPE_CHECKING:
    from ..aws.secret import FaithfulSecret
    from ..world import World

__all__ = ["Saved", "StateError", "Values", "load_state", "placeholder_value"]

#: Parsed AWS CLI output (describe-secret, list-secret-version-ids), or boto3's response.
Saved = Mapping[str, Any]
#: Version values for load_state, by version id or staging label.
Values = Mapping[str, str]

# Insertion order is age order in the backend (oldest first): undated versions go by label.
_AGE_RANK = {AWSPREVIOUS: 1, AWSCURRENT: 3, AWSPENDING: 4}


class StateError(ValueError):
    """The saved state cannot be rebuilt as given."""


def placeholder_value(version_id: str) -> str:
    """The value a rebuilt version gets when ``values`` gives it none."""
    return f"value-of-{version_id[:8]}"


def load_state(
    world: World, described: Saved, versions: Saved | None = None, *, values: Values | None = None
) -> str:
    """Create the secret that saved describe-secret output shows, in an active world; return its ARN.

    ``described`` is the parsed output of ``aws secretsmanager describe-secret`` (or one object
    that also holds ``Versions``); ``versions`` the parsed output of ``list-secret-version-ids
    --include-deprecated``, which adds versions without labels and each version's dates.

    The secret gets the saved name, the saved version ids with exactly the saved staging labels,
    and the saved rotation settings (RotationEnabled, RotationLambdaARN, RotationRules) and dates.
    Values: ``values`` maps a version id, or a staging label, to the value of that version (a
    SecretString); every other version gets :func:`placeholder_value`, except an AWSPENDING
    version that is not AWSCURRENT and that ``versions`` does not list, which stays an empty
    placeholder, as a rotation leaves it when createSecret failed. (list-secret-version-ids lists
    only versions that hold a value: when it lists the AWSPENDING version, production's pending
    version held one, and so does the rebuilt one.)

    The ARN is the saved one when the world's region and account are the saved secret's;
    otherwise it has the world's region, account and a new suffix. Either way, use the ARN
    returned. With rotation on, the service schedules the secret's next rotation from its last
    rotation, so moving ``rotation_clock`` past it reattempts a stuck rotation. Register the
    rotation function under the saved function's name (``rotation_lambdas.register(handler,
    name=...)``) for the saved RotationLambdaARN to reach it.
    """
    if not (has_active_world() and active_world() is world):
        raise StateError(
            "load_state needs an active world: use it inside a test with the `rotation_kit` "
            "fixture, or inside `with world.activate():`."
        )
    saved = parse_saved_state(described, versions)
    name = saved.name or _name_from_arn(saved.arn)
    _refuse_impossible(saved)
    chosen = _values(saved, values or {})
    schedule = _schedule(saved)
    backend = world.backend
    if backend.find_secret(name) is not None:
        raise StateError(
            f"a secret named {name!r} already exists in this world: load the state into a "
            "world where it does not (each test starts with an empty one)."
        )
    description = described.get("Description")
    tags = described.get("Tags")
    backend.create_secret(
        name,
        secret_string=None,
        secret_binary=None,
        description=description if isinstance(description, str) else None,
        tags=list(tags) if isinstance(tags, list) and tags else None,
        kms_key_id=None,
        client_request_token=None,
        replica_regions=[],
        force_overwrite=False,
    )
    secret = backend.secret(name)
    if saved.arn and saved.arn.startswith(
        f"arn:aws:secretsmanager:{world.config.region}:{world.config.account_id}:secret:{name}-"
    ):
        secret.arn = saved.arn
    _install_versions(secret, saved, chosen)
    _install_rotation(secret, saved, schedule)
    backend._after_change(secret)
    if secret.rotation_enabled and schedule is not None and saved.deleted is None:
        last = saved.last_rotated or saved.last_changed or saved.created or world.now()
        world.control_plane.schedules.after_rotation(secret, last)
        if saved.next_rotation is not None:
            secret.next_rotation_date = int(saved.next_rotation.timestamp())
    return str(secret.arn)


def _name_from_arn(arn: str | None) -> str:
    # arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX
    if arn and ":secret:" in arn:
        tail = arn.split(":secret:", 1)[1]
        if len(tail) > 7 and tail[-7] == "-":
            return tail[:-7]
    raise StateError("the saved state has no Name, and its ARN does not contain one.")


def _refuse_impossible(saved: SavedSecret) -> None:
    holders: dict[str, list[str]] = {}
    for version_id, version in saved.versions.items():
        for label in dict.fromkeys(version.labels):
            holders.setdefault(label, []).append(version_id)
    doubled = {label: ids for label, ids in holders.items() if len(ids) > 1}
    if doubled:
        label, ids = next(iter(doubled.items()))
        raise StateError(
            f"{label} is on {len(ids)} versions ({', '.join(ids)}) in the saved state; Secrets "
            "Manager keeps each label on one version, so the output was edited or assembled "
            "from outputs saved at different times. Save it again."
        )


def _values(saved: SavedSecret, values: Mapping[str, str]) -> dict[str, str]:
    """The value of each version that gets one, by version id."""
    by_label = {label: vid for vid, v in saved.versions.items() for label in v.labels}
    chosen: dict[str, str] = {}
    for key, value in values.items():
        if not isinstance(value, str):
            raise StateError(
                f"values[{key!r}] must be a str (the version's SecretString), got "
                f"{type(value).__name__}: use json.dumps for a JSON secret."
            )
        version_id = key if key in saved.versions else by_label.get(key)
        if version_id is None:
            known = ", ".join([*saved.versions, *sorted(by_label)]) or "none"
            raise StateError(
                f"values names {key!r}, which is neither a version id nor a staging label of the "
                f"saved secret (known: {known})."
            )
        if chosen.get(version_id, value) != value:
            raise StateError(f"values gives version {version_id} two different values.")
        chosen[version_id] = value
    for version_id, version in saved.versions.items():
        # A pending version that list-secret-version-ids lists held a value in production.
        empty = _unfinished_pending(version) and saved.has_value(version_id) is not True
        if version_id not in chosen and not empty:
            chosen[version_id] = placeholder_value(version_id)
    return chosen


def _unfinished_pending(version: SavedVersion) -> bool:
    return AWSPENDING in version.labels and AWSCURRENT not in version.labels


def _schedule(saved: SavedSecret) -> RotationSchedule | None:
    rules = saved.rotation_rules
    if not rules:
        return None
    try:
        # DescribeSecret adds an AutomaticallyAfterDays derived from an expression: drop it.
        return parse_rotation_rules(without_derived_days(dict(rules)))
    except ScheduleError as error:
        raise StateError(f"the saved RotationRules are not valid: {error}") from None


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _install_versions(
    secret: FaithfulSecret, saved: SavedSecret, chosen: Mapping[str, str]
) -> None:
    now = int(time.time())

    def age(item: tuple[str, SavedVersion]) -> tuple[float, int]:
        version = item[1]
        rank = max((_AGE_RANK.get(label, 2) for label in version.labels), default=0)
        created = version.created.timestamp() if version.created else float("inf")
        return (created, rank)

    secret.versions = {}
    for version_id, version in sorted(saved.versions.items(), key=age):
        record: dict[str, Any] = {
            "version_id": version_id,
            "version_stages": list(dict.fromkeys(version.labels)),
            # An empty version is never listed with its date; creating it changed the secret.
            "createdate": _epoch(version.created or saved.last_changed) or now,
        }
        if version.last_accessed is not None:
            record["last_accessed"] = _epoch(version.last_accessed)
        if version_id in chosen:
            record["secret_string"] = chosen[version_id]
        secret.versions[version_id] = record


def _install_rotation(
    secret: FaithfulSecret, saved: SavedSecret, schedule: RotationSchedule | None
) -> None:
    configured = (
        saved.rotation_enabled is not None
        or saved.rotation_lambda_arn is not None
        or saved.rotation_rules is not None
    )
    secret.rotation_requested = configured
    secret.rotation_enabled = bool(saved.rotation_enabled)
    secret.rotation_lambda_arn = saved.rotation_lambda_arn or ""
    if schedule is not None:
        secret.rotation_rules = schedule.to_rules()
        secret.auto_rotate_after_days = schedule.described_days()
    secret.last_rotation_date = _epoch(saved.last_rotated)
    secret.next_rotation_date = _epoch(saved.next_rotation) if saved.rotation_enabled else None
    if saved.created is not None:
        secret.created_date = _epoch(saved.created)
    if saved.last_changed is not None:
        secret.last_changed_date = _epoch(saved.last_changed)
    if saved.deleted is not None:
        secret.deleted_date = saved.deleted.timestamp()
