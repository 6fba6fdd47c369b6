"""The index of labelled versions never drifts from the versions themselves.

Label look-ups, label snapshots and pruning read a secret's :class:`VersionTable` index instead of
scanning every version. Each test here drives random sequences of changes (through the table and
the label helpers, or through the API) and compares every indexed answer with the plain scan of
all versions after each change.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import pickle
import time
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rotators
from rotation_testkit.foundations import labels
from rotation_testkit.foundations.version_table import VersionTable

LABELS = ("AWSCURRENT", "AWSPENDING", "AWSPREVIOUS", "BLUE", "GREEN")
IDS = tuple(f"v{n}" for n in range(8))

# --- the plain computations the index must agree with -------------------------------------------


def scanned_labelled(versions: dict[str, dict[str, Any]]) -> list[str]:
    return [vid for vid, v in dict.items(versions) if v["version_stages"]]


def scanned_holder(versions: dict[str, dict[str, Any]], label: str) -> str | None:
    for vid, v in reversed(list(dict.items(versions))):
        if label in v["version_stages"]:
            return vid
    return None


def assert_index_agrees(versions: VersionTable) -> None:
    assert isinstance(versions, VersionTable)
    assert list(labels.labelled(versions)) == scanned_labelled(versions)
    snapshot = labels.snapshot(versions)
    assert list(snapshot.items()) == [
        (vid, tuple(v["version_stages"])) for vid, v in dict.items(versions) if v["version_stages"]
    ]
    for label in LABELS:
        assert labels.holder(versions, label) == scanned_holder(versions, label)
    assert labels.labels_in_use(versions) == {
        stage for v in dict.values(versions) for stage in v["version_stages"]
    }
    # The bound on creation dates may be low (pruning then looks), never high (it would skip).
    earliest = _earliest(versions)
    assert versions.may_hold_created_by(earliest) or not versions


def _earliest(versions: VersionTable) -> float:
    return min([v["createdate"] for v in dict.values(versions)], default=float("inf"))


# --- the table and the label helpers, directly --------------------------------------------------

_ID = st.sampled_from(IDS)
_LABEL = st.sampled_from(LABELS)
_OPERATIONS = st.one_of(
    st.tuples(st.just("set"), _ID, st.lists(_LABEL, max_size=3, unique=True), st.integers(0, 9)),
    st.tuples(st.just("delete"), _ID),
    st.tuples(st.just("pop"), _ID),
    st.tuples(st.just("popitem")),
    st.tuples(st.just("setdefault"), _ID, st.integers(0, 9)),
    st.tuples(st.just("update"), st.lists(st.tuples(_ID, st.integers(0, 9)), max_size=3)),
    st.tuples(st.just("attach"), _LABEL, _ID),
    st.tuples(st.just("detach"), _LABEL, _ID),
    st.tuples(st.just("move_current"), _ID),
    st.tuples(st.just("take_off"), _LABEL),
    st.tuples(st.just("replace_labels"), _ID, st.lists(_LABEL, max_size=2, unique=True)),
    st.tuples(st.just("clear")),
    st.tuples(st.just("earliest")),
    st.tuples(st.just("copy"), st.sampled_from(["copy", "deepcopy", "pickle", "assign"])),
)


def _record(vid: str, created: int, stages: list[str] | None = None) -> dict[str, Any]:
    return {"version_id": vid, "version_stages": list(stages or []), "createdate": created}


def _apply(table: VersionTable, operation: tuple[Any, ...]) -> VersionTable:
    kind, *args = operation
    present = args and isinstance(args[-1], str) and args[-1] in table
    if kind == "set":
        vid, stages, created = args
        table[vid] = _record(vid, created, stages)
    elif kind == "delete" and args[0] in table:
        del table[args[0]]
    elif kind == "pop":
        table.pop(args[0], None)
    elif kind == "popitem" and table:
        table.popitem()
    elif kind == "setdefault":
        table.setdefault(args[0], _record(args[0], args[1], ["BLUE"]))
    elif kind == "update":
        table.update({vid: _record(vid, created, ["GREEN"]) for vid, created in args[0]})
    elif kind in ("attach", "detach") and present:
        getattr(labels, kind)(table, *args)
    elif kind == "move_current" and present:
        labels.move_current(table, args[0])
    elif kind == "take_off":
        labels.take_off(table, args[0])
    elif kind == "replace_labels" and args[0] in table:
        labels.replace_labels(table, *args)
    elif kind == "clear":
        table.clear()
    elif kind == "earliest":
        assert table.earliest_created() == _earliest(table)
        assert not table.may_hold_created_by(_earliest(table) - 1) or not table
    elif kind == "copy":
        copies = {
            "copy": copy.copy,
            "deepcopy": copy.deepcopy,
            "pickle": lambda t: pickle.loads(pickle.dumps(t)),
            "assign": lambda t: VersionTable(dict(t)),
        }
        copied = copies[args[0]](table)
        assert_index_agrees(copied)
        return copied
    return table


@settings(max_examples=400, deadline=None)
@given(operations=st.lists(_OPERATIONS, max_size=40))
def test_the_index_agrees_with_a_scan_of_every_version_after_any_changes(
    operations: list[tuple[Any, ...]],
) -> None:
    table = VersionTable()
    for operation in operations:
        table = _apply(table, operation)
        assert_index_agrees(table)


def test_a_copy_has_an_index_of_its_own() -> None:
    table = VersionTable({"a": _record("a", 1, ["AWSCURRENT"]), "b": _record("b", 2)})
    for copied in (copy.copy(table), table.copy()):
        labels.attach(copied, "BLUE", "b")  # the copy shares the records, not the index
        assert list(labels.labelled(copied)) == ["a", "b"]
    fresh = copy.deepcopy(VersionTable({"a": _record("a", 1, ["AWSCURRENT"])}))
    labels.attach(fresh, "BLUE", "a")
    assert labels.holder(fresh, "BLUE") == "a"


def test_a_version_whose_labels_were_edited_in_place_is_not_reported_labelled() -> None:
    table = VersionTable({"a": _record("a", 1, ["AWSCURRENT"]), "b": _record("b", 2, ["BLUE"])})
    table["b"]["version_stages"].clear()  # not through the helpers: removal is still seen
    assert list(labels.labelled(table)) == ["a"]
    assert labels.holder(table, "BLUE") is None


# --- through the API: every road that adds, labels or removes versions ---------------------------


def _create_pending(client: Any, arn: str, token: str) -> None:
    try:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    except client.exceptions.ResourceNotFoundException:
        client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=f"rotated {token}",
            VersionStages=["AWSPENDING"],
        )


def _nothing(client: Any, arn: str, token: str) -> None:
    pass


_rotator = rotators.make_rotator(
    "value_only", createSecret=_create_pending, setSecret=_nothing, testSecret=_nothing
)
_names = itertools.count()

_TOKEN = st.integers(0, 11).map(lambda n: f"token-{n}".ljust(36, "0"))
_STAGES = st.lists(st.sampled_from(LABELS), max_size=2, unique=True)
_CALLS = st.one_of(
    st.tuples(st.just("put"), _TOKEN, _STAGES),
    st.tuples(st.just("update"), st.integers(0, 99)),
    st.tuples(st.just("move"), _LABEL, st.integers(0, 30), st.booleans()),
    st.tuples(st.just("remove"), _LABEL),
    st.tuples(st.just("rotate"), st.booleans()),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("create_on_pending")),
    st.tuples(st.just("hours"), st.integers(1, 30)),
)


def _call(world: Any, client: Any, name: str, arn: str, call: tuple[Any, ...]) -> None:
    kind, *args = call
    versions = world.find_secret(name).versions
    ids = list(dict.keys(versions))
    if kind == "put":
        kwargs = {"VersionStages": args[1]} if args[1] else {}
        client.put_secret_value(
            SecretId=name, ClientRequestToken=args[0], SecretString=f"put {args[0]}", **kwargs
        )
    elif kind == "update":
        client.update_secret(SecretId=name, SecretString=f"update {args[0]}")
    elif kind == "move":
        label, pick, remove_from_holder = args
        moved = {"MoveToVersionId": ids[pick % len(ids)]}
        holder = labels.holder(versions, label)
        if holder is not None and remove_from_holder:
            moved["RemoveFromVersionId"] = holder
        client.update_secret_version_stage(SecretId=name, VersionStage=label, **moved)
    elif kind == "remove":
        holder = labels.holder(versions, args[0])
        client.update_secret_version_stage(
            SecretId=name, VersionStage=args[0], RemoveFromVersionId=holder or ids[0]
        )
    elif kind == "rotate":
        client.rotate_secret(SecretId=name, RotationLambdaARN=arn, RotateImmediately=args[0])
    elif kind == "cancel":
        client.cancel_rotate_secret(SecretId=name)
    elif kind == "create_on_pending":
        # CreateSecret naming the secret with its pending version's token: moto's own road.
        pending = labels.holder(versions, "AWSPENDING")
        client.create_secret(
            Name=name, SecretString="created again", ClientRequestToken=pending or ids[0]
        )
    elif kind == "hours":
        world.clock.advance(timedelta(hours=args[0]))


def _assert_prunes_as_a_scan_would(world: Any, secret: Any) -> None:
    """The service's prune keeps exactly what the plain one (every old version looked at) keeps."""
    versions = dict(secret.versions)
    older = list(versions)[: max(0, len(versions) - world.config.version_retention)]
    cutoff = int(time.time()) - 24 * 60 * 60
    for vid in older:
        if not versions[vid]["version_stages"] and versions[vid]["createdate"] <= cutoff:
            del versions[vid]
    world.backend._prune(secret)
    assert list(dict.keys(secret.versions)) == list(versions)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calls=st.lists(_CALLS, min_size=1, max_size=25))
def test_the_index_agrees_with_a_scan_after_any_api_calls(
    rotation_kit: Any, calls: list[tuple[Any, ...]]
) -> None:
    world = rotation_kit.world
    rotation_kit.configure(version_retention=3)
    rotation_kit.clock  # noqa: B018 - started, so that versions age
    client = rotation_kit.secretsmanager
    name = f"indexed-{next(_names)}"
    arn = rotation_kit.lambdas.register(_rotator, name=f"rotator-{name}")
    client.create_secret(Name=name, SecretString="first")
    for call in calls:
        with contextlib.suppress(ClientError):  # a refused call must leave the index right too
            _call(world, client, name, arn, call)
        secret = world.find_secret(name)
        assert_index_agrees(secret.versions)
        assert client.describe_secret(SecretId=name)["VersionIdsToStages"] == {
            vid: v["version_stages"]
            for vid, v in dict.items(secret.versions)
            if v["version_stages"]
        }
        _assert_prunes_as_a_scan_would(world, secret)
        assert_index_agrees(secret.versions)
    rotation_kit.take_violations()  # random label moves break invariants; not what this checks
