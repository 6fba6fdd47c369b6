"""Settings of the wrong type or range are refused by name, with the value and what is accepted.

Whichever way a setting comes: a marker, an ini file, pytest's native TOML table, or configure().
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from rotation_testkit.config import ConfigError, KitConfig

REFUSED = [
    ("max_attempts", "3", "a whole number of at least 1"),
    ("max_attempts", 0, "a whole number of at least 1"),
    ("max_attempts", 2.5, "a whole number of at least 1"),
    ("max_attempts", True, "a whole number of at least 1"),
    ("version_retention", -5, "a whole number of at least 1"),
    ("history_limit", "all", "None or a whole number of at least 1"),
    ("step_duration", math.nan, "a timedelta or a number of seconds"),
    ("step_duration", math.inf, "a timedelta or a number of seconds"),
    ("retry_interval", 10**30, "a timedelta or a number of seconds"),
    ("retry_interval", timedelta(seconds=-1), "not negative"),
    ("retry_interval", "5m", "a timedelta or a number of seconds"),
    ("reattempt_delay", -math.inf, "None or a timedelta"),
    ("show_values", "yes", "True or False"),
    ("assert_faults_fired", 0, "True or False"),
    ("assert_rotations_succeed", None, "True or False"),
    ("rotation_mode", "later", "'immediate' or 'deferred'"),
    ("region", 42, "an AWS region name"),
    ("region", "", "an AWS region name"),
    ("account_id", 123456789012, "a string of 12 digits"),
    ("seed", 1.5, "an int or a str"),
    ("clock_start", 1735722000, "an ISO 8601 string"),
    ("clock_start", "yesterday", "an ISO 8601 string"),
    ("clock_start", "9999-12-31T00:00:00Z", "between 1970-01-01 and 9990-01-01"),
    ("clock_start", datetime(1900, 1, 1, tzinfo=timezone.utc), "between 1970-01-01"),
    ("disabled_invariants", [1, 2], "invariant names"),
    ("disabled_invariants", 7, "invariant names"),
]


@pytest.mark.parametrize(("name", "value", "accepted"), REFUSED)
def test_configure_refuses_a_wrong_value_naming_setting_value_and_rule(
    rotation_kit, name, value, accepted
):
    before = rotation_kit.config

    with pytest.raises(ConfigError) as raised:
        rotation_kit.configure(**{name: value})

    message = str(raised.value)
    assert message.startswith(f"{name}={value!r} ({type(value).__name__}) is not accepted: ")
    assert accepted in message
    assert raised.value.setting == name
    assert rotation_kit.config is before  # nothing changed


@pytest.mark.parametrize(("name", "value", "accepted"), REFUSED)
def test_kit_config_refuses_the_same_values(name, value, accepted):
    with pytest.raises(ConfigError, match=accepted.replace("(", r"\(").replace(")", r"\)")):
        KitConfig(**{name: value})


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [
        ("step_duration", 2, timedelta(seconds=2)),
        ("retry_interval", 0.5, timedelta(seconds=0.5)),
        ("reattempt_delay", None, None),
        ("reattempt_delay", timedelta(hours=1), timedelta(hours=1)),
        ("disabled_invariants", "valid-end-state, new-value-differs", None),
        ("clock_start", "2030-06-01T00:00:00Z", "2030-06-01T00:00:00Z"),
        ("history_limit", None, None),
        ("seed", "payments", "payments"),
        ("region", "us-gov-west-1", "us-gov-west-1"),
    ],
)
def test_right_values_are_kept(name, value, kept):
    config = KitConfig(**{name: value})
    if name == "disabled_invariants":
        assert config.disabled_invariants == {"valid-end-state", "new-value-differs"}
    else:
        assert getattr(config, name) == kept


def test_a_wrong_marker_value_is_a_usage_error_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest


        @pytest.mark.rotation_testkit(max_attempts="5")
        def test_quoted(rotation_kit):
            pass


        @pytest.mark.rotation_testkit(step_duration=float("nan"))
        def test_nan(rotation_kit):
            pass


        def test_unaffected(rotation_kit):
            pass
        """
    )

    result = pytester.runpytest()

    result.assert_outcomes(passed=1, errors=2)
    output = result.stdout.str()
    assert "TypeError" not in output
    result.stdout.fnmatch_lines_random(
        [
            "*UsageError: rotation-testkit: max_attempts='5' (str) is not accepted: max_attempts "
            "takes a whole number of at least 1*",
            "*UsageError: rotation-testkit: step_duration=nan (float) is not accepted: "
            "step_duration takes a timedelta or a number of seconds*",
        ]
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rotation_testkit_max_attempts = three", "max_attempts='three' (str) is not accepted"),
        ("rotation_testkit_max_attempts = -2", "max_attempts=*-2* is not accepted"),
        ("rotation_testkit_assert_rotations_succeed = maybe", "assert_rotations_succeed='maybe'"),
        ("rotation_testkit_region = Europe", "region='Europe' (str) is not accepted"),
        ("rotation_testkit_clock_start = soon", "clock_start='soon' (str) is not accepted"),
    ],
)
def test_a_wrong_ini_value_names_the_ini_option(
    pytester: pytest.Pytester, line: str, expected: str
) -> None:
    pytester.makeini(f"[pytest]\n{line}\n")
    pytester.makepyfile("def test_it(rotation_kit):\n    pass\n")

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    option = line.split(" = ")[0]
    result.stdout.fnmatch_lines([f"*rotation-testkit: ini option {option}: {expected}*"])
    assert "TypeError" not in result.stdout.str()
    assert "invalid literal" not in result.stdout.str()


def test_ini_text_values_are_converted(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\n"
        "rotation_testkit_max_attempts = 5\n"
        "rotation_testkit_seed = 42\n"
        "rotation_testkit_assert_rotations_succeed = true\n"
    )
    pytester.makepyfile(
        """
        def test_it(rotation_kit):
            config = rotation_kit.config
            assert (config.max_attempts, config.seed, config.assert_rotations_succeed) == (
                5, 42, True
            )
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


needs_typed_ini = pytest.mark.skipif(
    tuple(int(p) for p in pytest.__version__.split(".")[:2]) < (9, 2),
    reason="pytest < 9.2 has no union-typed ini options",
)


@needs_typed_ini
def test_native_toml_values_arrive_typed_and_are_accepted(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        """
        [tool.pytest]
        rotation_testkit_max_attempts = 5
        rotation_testkit_seed = 7
        rotation_testkit_assert_rotations_succeed = true
        """
    )
    pytester.makepyfile(
        """
        def test_it(rotation_kit):
            config = rotation_kit.config
            assert (config.max_attempts, config.seed, config.assert_rotations_succeed) == (
                5, 7, True
            )
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@needs_typed_ini
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rotation_testkit_max_attempts = 0", "max_attempts=0 (int) is not accepted"),
        ("rotation_testkit_assert_rotations_succeed = 3", "rotation_testkit_assert_rotations_"),
        ("rotation_testkit_max_attempts = 2.5", "rotation_testkit_max_attempts"),
    ],
)
def test_a_wrong_native_toml_value_is_refused_by_name(
    pytester: pytest.Pytester, line: str, expected: str
) -> None:
    pytester.makepyprojecttoml(f"[tool.pytest]\n{line}\n")
    pytester.makepyfile("def test_it(rotation_kit):\n    pass\n")

    result = pytester.runpytest()

    assert result.ret != 0
    output = result.stdout.str() + result.stderr.str()
    assert expected in output
    assert "Traceback" not in output or "UsageError" in output
