"""The ledger that tells rebinds from outside apart from a function's own, checked directly."""

from __future__ import annotations

import types

from rotation_testkit.execution.environment_ledger import EnvironmentLedger


def _module() -> types.ModuleType:
    module = types.ModuleType("ledger_probe")
    module.PENDING = {}
    module.LIMIT = 3
    module.helper = len
    return module


def test_a_rebind_to_an_equal_but_new_object_is_still_the_functions() -> None:
    module, ledger = _module(), EnvironmentLedger()
    ledger.watch([module], pristine=True)

    ledger.outside_changes([module])
    module.PENDING = {}  # the function's own: equal to what it replaced, yet another dict
    ledger.function_changes([module])
    module.LIMIT = 5  # then the test changes something else between invocations
    ledger.outside_changes([module])
    module.PENDING["token"] = {"password": "kept-in-memory"}  # the next invocation fills it
    ledger.function_changes([module])

    assert ledger.carried_over(module, _module()) == {"LIMIT": 5}


def test_a_rebind_from_outside_carries_over_and_unchanged_names_do_not() -> None:
    module, ledger = _module(), EnvironmentLedger()
    ledger.watch([module], pristine=True)
    fake = {"user": "from-the-test"}

    module.PENDING = fake
    ledger.outside_changes([module])
    ledger.function_changes([module])  # nothing rebound while the function ran

    carried = ledger.carried_over(module, _module())
    assert carried == {"PENDING": fake}
    assert carried["PENDING"] is fake


def test_an_outside_rebind_seen_after_a_quiet_invocation_keeps_its_origin() -> None:
    module, ledger = _module(), EnvironmentLedger()
    ledger.watch([module], pristine=True)
    ledger.outside_changes([module])
    ledger.function_changes([module])

    module.LIMIT = 5  # the test changes a constant between invocations
    ledger.outside_changes([module])
    module.PENDING = {"cached": "by the function"}
    ledger.function_changes([module])

    assert ledger.carried_over(module, _module()) == {"LIMIT": 5}
