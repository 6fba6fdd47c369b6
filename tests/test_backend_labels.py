"""Versions and staging labels (ROTATION-SEMANTICS section 1) and abandonment (section 4.1).

Most of these fail on plain moto, which enforces the one-version-per-label rule only for AWSCURRENT,
replaces versions that carry AWSPENDING, keeps every version forever and dates them all "now".
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError
from freezegun import freeze_time

import rotators
from rotators import holder, stages

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


def tok(name: str) -> str:
    """A ClientRequestToken (32-64 characters) that reads as its name."""
    return f"{name}-".ljust(36, "0")


V1, V2, V3 = tok("v1"), tok("v2"), tok("v3")


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


@pytest.fixture
def v0(secretsmanager) -> str:
    """A secret 'labels' with one version, 'zero'; returns that version's id."""
    secretsmanager.create_secret(Name="labels", SecretString="zero", ClientRequestToken=tok("v0"))
    return tok("v0")


def put(client, token: str, value: str, stages_: list[str] | None = None) -> None:
    kwargs = {} if stages_ is None else {"VersionStages": stages_}
    client.put_secret_value(
        SecretId="labels", ClientRequestToken=token, SecretString=value, **kwargs
    )


# --- every label on at most one version ----------------------------------------------------------


@pytest.mark.parametrize("label", ["AWSPENDING", "BLUE"])
def test_put_with_a_label_held_elsewhere_moves_it(secretsmanager, v0, label):
    put(secretsmanager, V1, "one", [label])
    put(secretsmanager, V2, "two", [label])

    assert stages(secretsmanager, "labels") == {v0: ["AWSCURRENT"], V2: [label]}


@pytest.mark.parametrize("label", ["AWSPENDING", "BLUE"])
def test_update_version_stage_moves_a_label_off_its_old_version(secretsmanager, v0, label):
    put(secretsmanager, V1, "one", [label])
    put(secretsmanager, V2, "two", ["OTHER"])

    secretsmanager.update_secret_version_stage(
        SecretId="labels", VersionStage=label, MoveToVersionId=V2, RemoveFromVersionId=V1
    )

    assert holder(secretsmanager, "labels", label) == V2
    assert label not in stages(secretsmanager, "labels", include_deprecated=True)[V1]


def test_a_label_given_twice_is_attached_once(secretsmanager, v0):
    put(secretsmanager, V1, "one", ["BLUE", "BLUE"])

    assert stages(secretsmanager, "labels")[V1] == ["BLUE"]


# --- RemoveFromVersionId --------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["AWSCURRENT", "AWSPENDING", "BLUE"])
def test_moving_a_label_attached_elsewhere_requires_remove_from_version_id(
    secretsmanager, v0, label
):
    put(secretsmanager, V1, "one", ["BLUE", "AWSPENDING"] if label != "AWSCURRENT" else ["X"])
    put(secretsmanager, V2, "two", ["Y"])
    source = v0 if label == "AWSCURRENT" else V1
    before = stages(secretsmanager, "labels", include_deprecated=True)

    with pytest.raises(ClientError) as excinfo:
        secretsmanager.update_secret_version_stage(
            SecretId="labels", VersionStage=label, MoveToVersionId=V2
        )

    assert error_code(excinfo) == "InvalidParameterException"
    assert holder(secretsmanager, "labels", label) == source
    assert stages(secretsmanager, "labels", include_deprecated=True) == before


@pytest.mark.parametrize("label", ["AWSCURRENT", "AWSPENDING", "BLUE"])
def test_a_wrong_remove_from_version_id_is_refused(secretsmanager, v0, label):
    put(secretsmanager, V1, "one", ["BLUE", "AWSPENDING"] if label != "AWSCURRENT" else ["X"])
    put(secretsmanager, V2, "two", ["Y"])
    source = v0 if label == "AWSCURRENT" else V1
    wrong = V2 if label == "AWSCURRENT" else v0
    before = stages(secretsmanager, "labels", include_deprecated=True)

    with pytest.raises(ClientError) as excinfo:
        secretsmanager.update_secret_version_stage(
            SecretId="labels", VersionStage=label, MoveToVersionId=V2, RemoveFromVersionId=wrong
        )

    assert error_code(excinfo) == "InvalidParameterException"
    assert holder(secretsmanager, "labels", label) == source
    assert stages(secretsmanager, "labels", include_deprecated=True) == before


def test_omitting_move_to_version_id_removes_the_label(secretsmanager, v0):
    put(secretsmanager, V1, "one", ["BLUE"])

    secretsmanager.update_secret_version_stage(
        SecretId="labels", VersionStage="BLUE", RemoveFromVersionId=V1
    )

    assert holder(secretsmanager, "labels", "BLUE") is None
    assert V1 not in stages(secretsmanager, "labels")  # no label left: deprecated


# --- AWSCURRENT and AWSPREVIOUS -------------------------------------------------------------------


def test_awsprevious_follows_awscurrent_on_a_stage_move(secretsmanager, v0):
    put(secretsmanager, V1, "one")  # v0 becomes AWSPREVIOUS
    put(secretsmanager, V2, "two", ["AWSPENDING"])

    secretsmanager.update_secret_version_stage(
        SecretId="labels", VersionStage="AWSCURRENT", MoveToVersionId=V2, RemoveFromVersionId=V1
    )

    assert stages(secretsmanager, "labels", include_deprecated=True) == {
        V2: ["AWSCURRENT", "AWSPENDING"],
        V1: ["AWSPREVIOUS"],
        v0: [],
    }


def test_awsprevious_follows_awscurrent_on_a_put(secretsmanager, v0):
    put(secretsmanager, V1, "one")
    put(secretsmanager, V2, "two")

    assert holder(secretsmanager, "labels", "AWSPREVIOUS") == V1
    assert holder(secretsmanager, "labels", "AWSCURRENT") == V2


def test_plain_get_secret_value_follows_a_stage_move(secretsmanager, v0):
    put(secretsmanager, V1, "one", ["AWSPENDING"])

    secretsmanager.update_secret_version_stage(
        SecretId="labels", VersionStage="AWSCURRENT", MoveToVersionId=V1, RemoveFromVersionId=v0
    )

    got = secretsmanager.get_secret_value(SecretId="labels")
    assert (got["VersionId"], got["SecretString"]) == (V1, "one")
    assert "AWSCURRENT" in got["VersionStages"]


def test_put_without_version_stages_moves_awscurrent(secretsmanager, v0):
    put(secretsmanager, V1, "one")

    got = secretsmanager.get_secret_value(SecretId="labels")
    assert (got["VersionId"], got["SecretString"]) == (V1, "one")
    assert stages(secretsmanager, "labels") == {V1: ["AWSCURRENT"], v0: ["AWSPREVIOUS"]}


def test_update_version_stage_is_atomic_when_the_target_is_invalid(secretsmanager, v0):
    put(secretsmanager, V1, "one", ["AWSPENDING"])
    before = stages(secretsmanager, "labels", include_deprecated=True)

    with pytest.raises(ClientError):
        secretsmanager.update_secret_version_stage(
            SecretId="labels",
            VersionStage="AWSCURRENT",
            MoveToVersionId=tok("no-such-version"),
            RemoveFromVersionId=v0,
        )

    assert stages(secretsmanager, "labels", include_deprecated=True) == before
    assert secretsmanager.get_secret_value(SecretId="labels")["SecretString"] == "zero"


# --- versions are immutable -----------------------------------------------------------------------


def test_an_existing_version_value_cannot_be_rewritten(secretsmanager, v0):
    put(secretsmanager, V1, "one")

    with pytest.raises(ClientError) as excinfo:
        put(secretsmanager, V1, "changed")

    assert error_code(excinfo) == "ResourceExistsException"
    got = secretsmanager.get_secret_value(SecretId="labels", VersionId=V1)
    assert got["SecretString"] == "one"


def test_a_pending_version_with_a_value_cannot_be_rewritten(secretsmanager, v0):
    put(secretsmanager, V1, "first-password", ["AWSPENDING"])

    with pytest.raises(ClientError) as excinfo:
        put(secretsmanager, V1, "second-password", ["AWSPENDING"])

    assert error_code(excinfo) == "ResourceExistsException"
    got = secretsmanager.get_secret_value(SecretId="labels", VersionStage="AWSPENDING")
    assert (got["VersionId"], got["SecretString"]) == (V1, "first-password")


def test_putting_the_same_value_with_the_same_token_is_a_no_op(secretsmanager, v0):
    put(secretsmanager, V1, "one", ["AWSPENDING"])
    before = secretsmanager.list_secret_version_ids(SecretId="labels", IncludeDeprecated=True)

    response = secretsmanager.put_secret_value(
        SecretId="labels", ClientRequestToken=V1, SecretString="one", VersionStages=["AWSPENDING"]
    )

    assert response["VersionId"] == V1
    after = secretsmanager.list_secret_version_ids(SecretId="labels", IncludeDeprecated=True)
    assert after["Versions"] == before["Versions"]


def test_the_empty_pending_placeholder_can_be_filled(
    secretsmanager, rotation_lambdas, rotation_kit
):
    """createSecret fills the placeholder RotateSecret made; it stays the same version."""
    rotation_kit.configure(max_attempts=1)
    seen = {}

    def fill_then_fail(event, context):
        token = event["ClientRequestToken"]
        if event["Step"] == "createSecret":
            seen["placeholder"] = secretsmanager.describe_secret(SecretId="labels")[
                "VersionIdsToStages"
            ][token]
            secretsmanager.put_secret_value(
                SecretId="labels",
                ClientRequestToken=token,
                SecretString="filled",
                VersionStages=["AWSPENDING"],
            )
            return
        raise RuntimeError("stop here")

    secretsmanager.create_secret(Name="labels", SecretString="zero")
    arn = rotation_lambdas.register(fill_then_fail)
    token = secretsmanager.rotate_secret(
        SecretId="labels", RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 7}
    )["VersionId"]

    assert seen["placeholder"] == ["AWSPENDING"]
    assert rotation_lambdas.invocations(arn)[0].error is None
    got = secretsmanager.get_secret_value(SecretId="labels", VersionStage="AWSPENDING")
    assert (got["VersionId"], got["SecretString"]) == (token, "filled")


# --- deprecated versions, pruning and dates -------------------------------------------------------


def test_deprecated_versions_are_listed_only_on_request(secretsmanager, v0):
    put(secretsmanager, V1, "one")
    put(secretsmanager, V2, "two")  # v0 has no label left

    assert set(stages(secretsmanager, "labels")) == {V1, V2}
    everything = stages(secretsmanager, "labels", include_deprecated=True)
    assert set(everything) == {v0, V1, V2}
    assert everything[v0] == []


def test_describe_secret_omits_deprecated_versions(secretsmanager, v0):
    put(secretsmanager, V1, "one")
    put(secretsmanager, V2, "two")

    described = secretsmanager.describe_secret(SecretId="labels")["VersionIdsToStages"]
    assert described == {V1: ["AWSPREVIOUS"], V2: ["AWSCURRENT"]}


def test_each_version_keeps_its_own_created_date(secretsmanager):
    with freeze_time(T0) as frozen:
        secretsmanager.create_secret(Name="labels", SecretString="zero", ClientRequestToken=V1)
        frozen.tick(timedelta(hours=5))
        put(secretsmanager, V2, "two")

    dates = {
        v["VersionId"]: v["CreatedDate"]
        for v in secretsmanager.list_secret_version_ids(SecretId="labels")["Versions"]
    }
    assert dates == {V1: T0, V2: T0 + timedelta(hours=5)}
    got = secretsmanager.get_secret_value(SecretId="labels", VersionId=V1)
    assert got["CreatedDate"] == T0


def test_old_deprecated_versions_beyond_the_retention_count_are_pruned(
    secretsmanager, rotation_kit
):
    rotation_kit.configure(version_retention=3)
    versions = [tok(f"p{n}") for n in range(7)]
    with freeze_time(T0) as frozen:
        secretsmanager.create_secret(
            Name="labels", SecretString="p0", ClientRequestToken=versions[0]
        )
        secretsmanager.update_secret_version_stage(
            SecretId="labels", VersionStage="KEEP", MoveToVersionId=versions[0]
        )
        for n in range(1, 6):
            put(secretsmanager, versions[n], f"p{n}")
        # Within 24 hours nothing is pruned, whatever the count.
        assert set(stages(secretsmanager, "labels", include_deprecated=True)) == set(versions[:6])

        frozen.tick(timedelta(hours=25))
        put(secretsmanager, versions[6], "p6")

    left = stages(secretsmanager, "labels", include_deprecated=True)
    # The three most recent stay, and v0 because it carries a label.
    assert set(left) == {versions[0], versions[4], versions[5], versions[6]}
    assert left[versions[0]] == ["KEEP"]
    with pytest.raises(ClientError) as excinfo:
        secretsmanager.get_secret_value(SecretId="labels", VersionId=versions[1])
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_recent_deprecated_versions_are_kept_beyond_the_retention_count(
    secretsmanager, rotation_kit
):
    rotation_kit.configure(version_retention=2)
    versions = [tok(f"r{n}") for n in range(6)]
    with freeze_time(T0) as frozen:
        secretsmanager.create_secret(
            Name="labels", SecretString="r0", ClientRequestToken=versions[0]
        )
        for n in range(1, 6):
            frozen.tick(timedelta(hours=1))
            put(secretsmanager, versions[n], f"r{n}")

    assert set(stages(secretsmanager, "labels", include_deprecated=True)) == set(versions)


# --- abandonment --------------------------------------------------------------------------------


@pytest.fixture
def stuck_rotation(secret, secretsmanager, rotation_lambdas, rotation_kit) -> str:
    """A rotation of app/db that failed at setSecret and gave up: AWSPENDING left behind."""
    rotation_kit.configure(max_attempts=1)
    arn = rotation_lambdas.register(rotators.fails_at("setSecret"))
    token = secretsmanager.rotate_secret(
        SecretId=secret, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 30}
    )["VersionId"]
    assert holder(secretsmanager, secret, "AWSPENDING") == token
    return token


def test_a_manual_put_abandons_the_pending_rotation(
    secretsmanager, secret, stuck_rotation, rotation_kit
):
    secretsmanager.put_secret_value(
        SecretId=secret, SecretString=json.dumps({"username": "app", "password": "by-hand"})
    )

    assert holder(secretsmanager, secret, "AWSPENDING") is None
    abandoned = rotation_kit.events("RotationAbandoned")
    assert [event.version_id for event in abandoned] == [stuck_rotation]
    assert rotation_kit.history.names().count("RotationAbandoned") == 1


def test_a_manual_update_secret_abandons_the_pending_rotation(
    secretsmanager, secret, stuck_rotation, rotation_kit
):
    secretsmanager.update_secret(
        SecretId=secret, SecretString=json.dumps({"username": "app", "password": "by-hand"})
    )

    assert holder(secretsmanager, secret, "AWSPENDING") is None
    assert [e.version_id for e in rotation_kit.events("RotationAbandoned")] == [stuck_rotation]


def test_after_abandonment_the_next_rotation_succeeds(
    secretsmanager, secret, stuck_rotation, rotation_lambdas, protected
):
    secretsmanager.put_secret_value(
        SecretId=secret, SecretString=json.dumps({"username": "app", "password": "by-hand"})
    )
    protected["app"] = "by-hand"

    arn = rotation_lambdas.register(rotators.correct)
    secretsmanager.rotate_secret(SecretId=secret, RotationLambdaARN=arn)

    current = json.loads(secretsmanager.get_secret_value(SecretId=secret)["SecretString"])
    assert current["password"] not in ("initial-password", "by-hand")
    assert rotators.login("app", current["password"])


def test_no_abandonment_without_a_pending_rotation(secretsmanager, secret, rotation_kit):
    secretsmanager.put_secret_value(SecretId=secret, SecretString='{"username": "app"}')

    assert rotation_kit.events("RotationAbandoned") == []


def test_list_secrets_shows_only_labelled_versions(secretsmanager):
    secretsmanager.create_secret(Name="listed", SecretString="1")
    for value in ("2", "3", "4"):
        secretsmanager.put_secret_value(SecretId="listed", SecretString=value)

    (listed,) = secretsmanager.list_secrets()["SecretList"]

    stages = listed["SecretVersionsToStages"]
    assert sorted(sorted(labels) for labels in stages.values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]
