"""The direct path answers every Secrets Manager operation exactly as moto's HTTP emulation does.

Each scenario runs twice, in a world with the direct path and in one without it (every call then
goes through moto's request emulation, as it does for ``rotation-testkit serve``), from the same
random seeds and the same fake clock. Everything a user can observe must be equal: each response
(status, headers, request id, body as botocore parsed it) or error, botocore's retries, the
history the world recorded and the invariants it found broken.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.moto_api._internal import mock_random

import rotators
from rotation_testkit import KitConfig, World
from rotation_testkit.aws import direct
from rotation_testkit.aws.api import FaithfulSecretsManagerResponse, _operation_method
from rotation_testkit.world.world import secretsmanager_operations

INITIAL = json.dumps({"username": "app", "password": "initial-password"})
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
)


class Transcript:
    """Calls a client's methods and writes down what each one answered."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.client = world.client()
        self.entries: list[tuple[Any, ...]] = []

    def __call__(self, method: str, **params: Any) -> Any:
        try:
            result = getattr(self.client, method)(**params)
        except ClientError as error:
            self.entries.append((method, params, "error", type(error).__name__, error.response))
            return None
        except NotImplementedError as error:
            self.entries.append((method, params, "not implemented", str(error)))
            return None
        self.entries.append((method, params, "ok", result))
        return result

    def arn(self, name: str = "app/db", **params: Any) -> str:
        """Create a JSON secret and return its ARN."""
        created = self("create_secret", Name=name, SecretString=INITIAL, **params)
        assert created is not None, self.entries[-1]
        return str(created["ARN"])


Scenario = Callable[[Transcript], None]
SCENARIOS: dict[str, tuple[Scenario, set[str]]] = {}


def scenario(*operations: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario and the operations it exercises."""

    def register(function: Scenario) -> Scenario:
        SCENARIOS[function.__name__] = (function, set(operations))
        return function

    return register


@scenario("CreateSecret", "GetSecretValue", "DescribeSecret")
def create_read_describe(call: Transcript) -> None:
    arn = call.arn(Description="the app's database", Tags=[{"Key": "team", "Value": "db"}])
    call("create_secret", Name="app/db", SecretString="again")
    call("create_secret", Name="app/bin", SecretBinary=b"\x00\x01binary\xff")
    call("create_secret", Name="app/empty")
    call("get_secret_value", SecretId="app/bin")
    call("get_secret_value", SecretId="app/empty")
    current = call("get_secret_value", SecretId=arn)
    call("get_secret_value", SecretId=arn, VersionId=current["VersionId"])
    call(
        "get_secret_value", SecretId=arn, VersionId=current["VersionId"], VersionStage="AWSPENDING"
    )
    call("get_secret_value", SecretId=arn, VersionStage="AWSPREVIOUS")
    call("get_secret_value", SecretId=arn, VersionId="0" * 32)
    call("get_secret_value", SecretId="app/missing")
    call("get_secret_value", SecretId=arn[:-7])  # a partial ARN
    call("describe_secret", SecretId=arn)
    call("describe_secret", SecretId="app/missing")
    call("create_secret", Name="x" * 600, SecretString="too long a name")


@scenario("PutSecretValue", "UpdateSecret", "UpdateSecretVersionStage", "ListSecretVersionIds")
def versions_and_labels(call: Transcript) -> None:
    arn = call.arn()
    token = "11111111-2222-3333-4444-555555555555"
    pending = dict(SecretId=arn, ClientRequestToken=token, VersionStages=["AWSPENDING"])
    call("put_secret_value", SecretString="pending", **pending)
    call("put_secret_value", SecretString="pending", **pending)  # an idempotent retry
    call("put_secret_value", SecretString="another value", **pending)
    call("put_secret_value", SecretId=arn, SecretBinary=base64.b64decode("AAEC"))
    current = call("describe_secret", SecretId=arn)["VersionIdsToStages"]
    holder = next(vid for vid, labels in current.items() if "AWSCURRENT" in labels)
    call(
        "update_secret_version_stage",
        SecretId=arn,
        VersionStage="AWSCURRENT",
        MoveToVersionId=token,
    )
    call(
        "update_secret_version_stage",
        SecretId=arn,
        VersionStage="AWSCURRENT",
        MoveToVersionId=token,
        RemoveFromVersionId=holder,
    )
    call(
        "update_secret_version_stage",
        SecretId=arn,
        VersionStage="AWSPENDING",
        RemoveFromVersionId=token,
    )
    call("update_secret_version_stage", SecretId=arn, VersionStage="AWSPENDING")
    call("update_secret_version_stage", SecretId=arn, VersionStage="MINE", MoveToVersionId="f" * 32)
    call("update_secret", SecretId=arn, Description="only the description")
    call("update_secret", SecretId=arn, SecretString="updated", ClientRequestToken="9" * 36)
    call("update_secret", SecretId="app/missing", SecretString="x")
    call("list_secret_version_ids", SecretId=arn)
    call("list_secret_version_ids", SecretId=arn, IncludeDeprecated=True)
    first = call("list_secret_version_ids", SecretId=arn, IncludeDeprecated=True, MaxResults=2)
    call(
        "list_secret_version_ids",
        SecretId=arn,
        IncludeDeprecated=True,
        NextToken=first["NextToken"],
    )
    call("list_secret_version_ids", SecretId="app/missing")


@scenario("ListSecrets", "BatchGetSecretValue")
def listing(call: Transcript) -> None:
    for name in ("a/one", "a/two", "b/three"):
        call.arn(name, Tags=[{"Key": "group", "Value": name[0]}])
    call("list_secrets")
    page = call("list_secrets", MaxResults=2)
    call("list_secrets", MaxResults=2, NextToken=page["NextToken"])
    call("list_secrets", Filters=[{"Key": "name", "Values": ["a/"]}])
    call("list_secrets", Filters=[{"Key": "tag-value", "Values": ["b"]}])
    call("list_secrets", Filters=[{"Key": "owning-service", "Values": ["x"]}])
    call("list_secrets", SortOrder="desc", IncludePlannedDeletion=True)
    call.world.clock.advance(days=1)
    call("get_secret_value", SecretId="a/two")
    call("put_secret_value", SecretId="a/one", SecretString="changed")
    for sort_by in ("name", "created-date", "last-accessed-date", "last-changed-date", "size"):
        call("list_secrets", SortBy=sort_by)
        call("list_secrets", SortBy=sort_by, SortOrder="desc", MaxResults=2)
    call("list_secrets", SortOrder="sideways")
    call("batch_get_secret_value", SecretIdList=["a/one", "b/three", "c/missing"])
    call("batch_get_secret_value", Filters=[{"Key": "name", "Values": ["a/"]}])
    call(
        "batch_get_secret_value", SecretIdList=["a/one"], Filters=[{"Key": "name", "Values": ["a"]}]
    )


@scenario(
    "TagResource", "UntagResource", "PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy"
)
def tags_and_policies(call: Transcript) -> None:
    arn = call.arn(Tags=[{"Key": "keep", "Value": "1"}])
    call("tag_resource", SecretId=arn, Tags=[{"Key": "team", "Value": "db"}])
    call("untag_resource", SecretId=arn, TagKeys=["keep"])
    call("tag_resource", SecretId="app/missing", Tags=[{"Key": "k", "Value": "v"}])
    call("describe_secret", SecretId=arn)
    call("get_resource_policy", SecretId=arn)
    call("put_resource_policy", SecretId=arn, ResourcePolicy=POLICY)
    call("get_resource_policy", SecretId=arn)
    call("delete_resource_policy", SecretId=arn)
    call("get_resource_policy", SecretId=arn)
    call("put_resource_policy", SecretId="app/missing", ResourcePolicy=POLICY)


@scenario("DeleteSecret", "RestoreSecret")
def deletion(call: Transcript) -> None:
    arn = call.arn()
    call("delete_secret", SecretId=arn, RecoveryWindowInDays=3)
    call("get_secret_value", SecretId=arn)
    call("put_secret_value", SecretId=arn, SecretString="while deleted")
    call("describe_secret", SecretId=arn)
    call("restore_secret", SecretId=arn)
    call("get_secret_value", SecretId=arn)
    call("delete_secret", SecretId=arn, RecoveryWindowInDays=3, ForceDeleteWithoutRecovery=True)
    call("delete_secret", SecretId=arn, RecoveryWindowInDays=1)
    call("delete_secret", SecretId=arn, ForceDeleteWithoutRecovery=True)
    call("describe_secret", SecretId=arn)
    call("restore_secret", SecretId="app/missing")
    call.world.clock.advance(days=40)


@scenario("ReplicateSecretToRegions", "RemoveRegionsFromReplication")
def replication(call: Transcript) -> None:
    arn = call.arn(AddReplicaRegions=[{"Region": "eu-west-1"}])
    call("replicate_secret_to_regions", SecretId=arn, AddReplicaRegions=[{"Region": "eu-west-2"}])
    call("describe_secret", SecretId=arn)
    call("remove_regions_from_replication", SecretId=arn, RemoveReplicaRegions=["eu-west-1"])
    call("describe_secret", SecretId=arn)
    call(
        "replicate_secret_to_regions",
        SecretId="app/missing",
        AddReplicaRegions=[{"Region": "eu-west-1"}],
    )


@scenario("GetRandomPassword")
def random_passwords(call: Transcript) -> None:
    call("get_random_password")
    call(
        "get_random_password",
        PasswordLength=12,
        ExcludePunctuation=True,
        RequireEachIncludedType=True,
    )
    call("get_random_password", PasswordLength=8, ExcludeCharacters="abc", IncludeSpace=True)
    call("get_random_password", PasswordLength=5000)


@scenario("RotateSecret", "CancelRotateSecret")
def rotation(call: Transcript) -> None:
    rotators.reset_protected({"app": "initial-password"})
    arn = call.arn()
    function = call.world.lambdas.register(rotators.correct, name="correct")
    rules = {"AutomaticallyAfterDays": 7}
    call("rotate_secret", SecretId=arn, RotationLambdaARN=function, RotationRules=rules)
    call("rotate_secret", SecretId=arn)
    call("rotate_secret", SecretId=arn, RotateImmediately=False)
    call("rotate_secret", SecretId=arn, RotationRules={"ScheduleExpression": "rate(10 days)"})
    call(
        "rotate_secret",
        SecretId=arn,
        RotationRules={"AutomaticallyAfterDays": 1, "ScheduleExpression": "rate(1 days)"},
    )
    call("rotate_secret", SecretId=arn, RotationLambdaARN=function + "-unknown")
    call("describe_secret", SecretId=arn)
    call.world.clock.advance(days=15)
    call("cancel_rotate_secret", SecretId=arn)
    call("describe_secret", SecretId=arn)
    call("cancel_rotate_secret", SecretId="app/missing")
    call("rotate_secret", SecretId=call.arn("app/other"))


@scenario("CreateSecret", "UpdateSecret", "RotateSecret", "DescribeSecret", "ListSecrets")
def managed_external_secrets(call: Transcript) -> None:
    rotators.reset_protected({"app": "initial-password"})
    arn = call.arn(Type="SalesforceClientSecret")
    call("update_secret", SecretId=arn, Type="BigIDClientSecret")
    call("update_secret", SecretId=arn, Type="x" * 300)
    external = dict(
        ExternalSecretRotationMetadata=[{"Key": "apiVersion", "Value": "v65.0"}],
        ExternalSecretRotationRoleArn="arn:aws:iam::123456789012:role/external-rotation",
    )
    call("rotate_secret", SecretId=arn, **external)
    function = call.world.lambdas.register(rotators.correct, name="correct")
    call("rotate_secret", SecretId=arn, RotationLambdaARN=function, **external)
    call("describe_secret", SecretId=arn)
    call("list_secrets")


@scenario("RotateSecret", "CancelRotateSecret")
def failing_rotation(call: Transcript) -> None:
    rotators.reset_protected({"app": "initial-password"})
    arn = call.arn()
    broken = call.world.lambdas.register(rotators.fails_at("setSecret"), name="broken")
    call("rotate_secret", SecretId=arn, RotationLambdaARN=broken)
    call("rotate_secret", SecretId=arn)
    call("describe_secret", SecretId=arn)
    call("cancel_rotate_secret", SecretId=arn)
    call("describe_secret", SecretId=arn)


@scenario("RotateSecret")
def broken_invariants(call: Transcript) -> None:
    rotators.reset_protected({"app": "initial-password"})
    for name, handler in (
        ("forgets", rotators.forgets_remove_from_version),
        ("early", rotators.puts_current_early),
    ):
        arn = call.arn(f"app/{name}")
        function = call.world.lambdas.register(handler, name=name)
        call("rotate_secret", SecretId=arn, RotationLambdaARN=function)
        rotators.reset_protected({"app": "initial-password"})


@scenario("GetSecretValue", "PutSecretValue", "RotateSecret")
def api_faults_and_retries(call: Transcript) -> None:
    rotators.reset_protected({"app": "initial-password"})
    arn = call.arn()
    faults = call.world.faults
    faults.fail_api("GetSecretValue")  # botocore retries the 500 and succeeds
    call("get_secret_value", SecretId=arn)
    faults.fail_api("GetSecretValue", code="ThrottlingException", times=2)
    call("get_secret_value", SecretId=arn)
    faults.fail_api("GetSecretValue", times=5, secret_id="app/db")  # outlasts botocore's retries
    call("get_secret_value", SecretId=arn)
    faults.fail_api("PutSecretValue", code="AccessDeniedException", message="no")
    call("put_secret_value", SecretId=arn, SecretString="x")
    function = call.world.lambdas.register(rotators.correct, name="correct")
    faults.fail_api("PutSecretValue", code="InternalServiceError", times=4)
    call("rotate_secret", SecretId=arn, RotationLambdaARN=function)
    call("describe_secret", SecretId=arn)


@scenario("ValidateResourcePolicy")
def unsupported_operation(call: Transcript) -> None:
    call("validate_resource_policy", ResourcePolicy=POLICY)


# --- running and comparing ---------------------------------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _canonical(value: Any) -> Any:
    """The same structure with each random UUID (idempotency tokens botocore makes, rotation
    tokens), and the short form messages use, replaced by its order of first appearance, so two
    runs can be compared."""
    names: dict[str, str] = {}
    for text in _strings(value):
        for found in _UUID.findall(text):
            names.setdefault(found, f"<uuid {len(names)}>")
    short = {uuid[:8]: name for uuid, name in names.items()}
    pattern = re.compile("|".join([*names, *short])) if names else None

    def rewrite(item: Any) -> Any:
        if isinstance(item, str):
            if pattern is None:
                return item
            return pattern.sub(lambda m: names.get(m.group(0)) or short[m.group(0)], item)
        if isinstance(item, dict):
            return {rewrite(k): rewrite(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return type(item)(rewrite(v) for v in item)
        return item

    return rewrite(value)


def run(body: Scenario, *, direct_path: bool) -> tuple[Any, int]:
    """What a scenario shows, and how many calls took the direct path."""
    random.seed(14)
    mock_random.seed(14)
    taken = 0
    respond = direct._respond

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal taken
        taken += 1
        return respond(*args, **kwargs)

    world = World(KitConfig(direct_path=direct_path))
    direct._respond = counting  # type: ignore[assignment]
    try:
        with world.activate():
            world.start_clock()
            transcript = Transcript(world)
            body(transcript)
            seen = {
                "calls": transcript.entries,
                "history": [dataclasses.asdict(event) for event in world.history.events()],
                "violations": [dataclasses.asdict(v) for v in world.invariants.violations],
            }
    finally:
        direct._respond = respond  # type: ignore[assignment]
    return _canonical(seen), taken


@pytest.fixture(autouse=True)
def _protected_reset() -> Iterator[None]:
    yield
    rotators.reset_protected()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_direct_path_answers_as_moto_does(name: str) -> None:
    body, _ = SCENARIOS[name]

    through_moto, direct_calls_without = run(body, direct_path=False)
    directly, direct_calls_with = run(body, direct_path=True)

    assert direct_calls_without == 0
    assert direct_calls_with >= len(directly["calls"])  # every call of the scenario, and more
    for index, (expected, got) in enumerate(
        zip(through_moto["calls"], directly["calls"], strict=True)
    ):
        assert got == expected, f"call {index} differs"
    assert directly["history"] == through_moto["history"]
    assert directly["violations"] == through_moto["violations"]


def test_the_scenarios_cover_every_operation_the_kit_supports() -> None:
    supported = set()
    for operation in secretsmanager_operations():
        try:
            _operation_method(FaithfulSecretsManagerResponse, operation)
        except NotImplementedError:
            continue
        supported.add(operation)
    covered = set().union(*(operations for _, operations in SCENARIOS.values()))

    assert supported - covered == set()
    assert "RotateSecret" in supported
    assert "GetSecretValue" in supported


def test_the_scenarios_meet_errors_retries_and_broken_invariants() -> None:
    """The comparison is only as good as what it compares: it must see the hard cases."""
    seen, _ = run(SCENARIOS["api_faults_and_retries"][0], direct_path=True)
    retries = [entry[-1]["ResponseMetadata"]["RetryAttempts"] for entry in seen["calls"]]
    errors = {entry[-1]["Error"]["Code"] for entry in seen["calls"] if entry[2] == "error"}
    broken, _ = run(SCENARIOS["broken_invariants"][0], direct_path=True)

    assert max(retries) >= 2
    assert {"InternalServiceError", "AccessDeniedException"} <= errors
    assert broken["violations"]
