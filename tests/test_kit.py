"""rotation_kit holds every other fixture's object, under their own names too."""

from __future__ import annotations

import pytest

from rotation_testkit import active_kit
from rotation_testkit.runtime import NoActiveWorld


def test_the_kit_holds_the_other_fixtures(
    rotation_kit, secretsmanager, rotation_lambdas, rotation_clock, rotation_faults, protected_http
):
    assert rotation_kit.secretsmanager is secretsmanager
    assert rotation_kit.client is secretsmanager
    assert rotation_kit.lambdas is rotation_lambdas
    assert rotation_kit.rotation_lambdas is rotation_lambdas
    assert rotation_kit.clock is rotation_clock
    assert rotation_kit.rotation_clock is rotation_clock
    assert rotation_kit.faults is rotation_faults
    assert rotation_kit.rotation_faults is rotation_faults
    assert rotation_kit.protected_http is protected_http


def test_kit_invocations_are_the_registry_s(rotation_kit, secretsmanager, rotation_lambdas):
    arn = rotation_lambdas.register(lambda event, context: None, name="noop")
    secretsmanager.create_secret(Name="s", SecretString="v")
    secretsmanager.rotate_secret(SecretId="s", RotationLambdaARN=arn)

    assert rotation_kit.invocations() == rotation_lambdas.invocations()
    assert [i.step for i in rotation_kit.invocations(arn)][:1] == ["createSecret"]


def test_active_kit_reaches_the_test_s_world(rotation_kit):
    assert active_kit().world is rotation_kit.world


def test_active_kit_outside_a_world_says_what_to_do():
    with pytest.raises(NoActiveWorld, match="secretsmanager"):
        active_kit()
