"""pytest's own report of a kit test holds no secret value: assertion explanations, -l locals,
-vv diffs, captured output and the warnings summary are masked; the test's own literals stay."""

from __future__ import annotations

import textwrap

import pytest

COMPARES_A_VALUE = textwrap.dedent(
    """
    import warnings


    def test_compares_the_rotated_password(secretsmanager):
        secretsmanager.create_secret(Name="app/db", SecretString="first-value-written-by-the-test")
        generated = secretsmanager.get_random_password(PasswordLength=24)["RandomPassword"]
        secretsmanager.put_secret_value(SecretId="app/db", SecretString=generated)
        value = secretsmanager.get_secret_value(SecretId="app/db")["SecretString"]
        with open("generated.txt", "w") as out:
            out.write(value)
        print("captured:", value)
        warnings.warn(f"the rotator saw {value}")
        assert value == "expected-value"
    """
)


def _run(pytester: pytest.Pytester, *args: str) -> tuple[str, str]:
    pytester.makepyfile(test_leaky=COMPARES_A_VALUE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly", *args)
    result.assert_outcomes(failed=1)
    generated = (pytester.path / "generated.txt").read_text()
    return result.stdout.str(), generated


@pytest.mark.parametrize("flags", [(), ("-l",), ("-vv",), ("-l", "-vv", "-rA")])
def test_a_failing_assertion_on_a_secret_value_prints_no_value(
    pytester: pytest.Pytester, flags: tuple[str, ...]
) -> None:
    output, generated = _run(pytester, *flags)

    assert len(generated) == 24
    assert generated not in output
    assert "***" in output
    # The test's own literals stay readable: the expected value and the first value it wrote.
    assert "expected-value" in output
    if "-l" in flags:
        assert "first-value-written-by-the-test" in output


def test_captured_output_and_warnings_are_masked(pytester: pytest.Pytester) -> None:
    output, generated = _run(pytester, "-rA")

    assert "captured: ***" in output
    assert "the rotator saw ***" in output
    assert generated not in output


def test_show_values_opts_in(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_leaky=COMPARES_A_VALUE.replace(
            "def test_compares",
            "import pytest\n\n\n@pytest.mark.rotation_testkit(show_values=True)\ndef test_compares",
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    generated = (pytester.path / "generated.txt").read_text()

    assert generated in result.stdout.str()
