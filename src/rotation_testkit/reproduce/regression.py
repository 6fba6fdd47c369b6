"""The incident's regression test: a self-contained pytest file that rebuilds the saved state and
asserts that the pending rotation *succeeds* when it is reattempted. It fails while the bug is there
and passes once the function recovers from that state; it needs nothing but this package."""

from __future__ import annotations

import json
import os
import pprint
from datetime import datetime
from pathlib import Path
from typing import Any

from .incident import Incident
from .outside import OutsideFault
from .rotator import Rotator, target_of
from .values import ReproduceError

__all__ = ["regression_test", "write_regression_test"]

_MAX_BYTES = 1_000_000


def _literal(value: Any) -> str:
    """A Python literal of JSON-like data (dates as text), laid out for reading."""
    plain = json.loads(json.dumps(value, default=str))
    return pprint.pformat(plain, sort_dicts=False, width=96)


def _import(target: str, alias: str) -> list[str]:
    """Lines that import 'module:attr' or 'path/to/file.py:attr' as ``alias``."""
    module, _, attr = target.rpartition(":")
    lines = []
    if module.endswith(".py"):
        path = Path(module).resolve()
        lines.append(f"sys.path.insert(0, {str(path.parent)!r})")
        module = path.stem
    head, _, rest = attr.partition(".")
    lines.append(f"from {module} import {head} as {alias}")
    if rest:
        lines.append(f"{alias} = {alias}.{rest}")
    return lines


def _handler_target(rotator: Rotator) -> str:
    target = target_of(rotator.handler)
    if target is None:
        raise ReproduceError(
            "the test cannot import the handler: give it as 'module:function' (a function "
            "defined at the top level of an importable module) to write the test."
        )
    module, _, attr = target.rpartition(":")
    if module.endswith(".py"):
        return f"{Path(module).resolve()}:{attr}"
    return target


def regression_test(
    incident: Incident, rotator: Rotator, outside: OutsideFault | None, now: datetime
) -> str:
    """The test file's text."""
    imports = ["import json", "import sys", "", "import pytest", ""]
    harness: list[str] = []
    for target, alias in ((rotator.setup, "setup"), (rotator.probe, "probe")):
        if target is None:
            continue
        found = target_of(target)
        if found is None:
            raise ReproduceError(
                f"the test cannot import the {alias} function: give it as 'module:function'."
            )
        harness += _import(found, alias)
    marker = {"clock_start": now.isoformat()}
    if incident.region:
        marker["region"] = incident.region
    if incident.account_id:
        marker["account_id"] = incident.account_id
    body = [
        "arn = rotation_kit.load_state(DESCRIBED, VERSIONS, values=VALUES)",
    ]
    if rotator.command is not None:
        body.append(
            f"rotation_kit.lambdas.register_command({rotator.command!r}, name={incident.function_name!r}, "
            f"timeout={rotator.timeout!r}, env={dict(rotator.env)!r}, cwd={_abs(rotator.cwd)!r})"
        )
    else:
        body.append(
            f"rotation_kit.lambdas.register({_handler_target(rotator)!r}, "
            f"name={incident.function_name!r}, timeout={rotator.timeout!r}, "
            f"env={dict(rotator.env)!r})"
        )
    if rotator.setup is not None and incident.current is not None:
        body.append(f"setup(_value(VALUES[{incident.current!r}]))")
    if rotator.probe is not None:
        body.append("rotation_kit.set_probe(probe)")
    if outside is not None:
        body += [
            f"# In production: {outside.describe()}",
            "# Fix that in AWS; this test checks the function once it is gone. To see it here:",
            f"# {outside.code()}",
        ]
    body += [
        "",
        "# Secrets Manager reattempts the pending rotation: the same token, from createSecret.",
        "assert rotation_kit.reattempt(arn)",
        'assert rotation_kit.events("RotationSucceeded", secret_id=arn), (',
        '    "the pending rotation still fails from the saved state:\\n"',
        "    + rotation_kit.timeline(arn)",
        "    + rotation_kit.function_logs()",
        ")",
        "assert_not_stuck(rotation_kit.secretsmanager, arn)",
    ]
    given = ", ".join(sorted(incident.given)) or "none"
    lines = [
        f'"""Regression test: the rotation of {incident.name} left stuck in production.',
        "",
        "Written by `rotation-testkit reproduce`. It rebuilds the secret as production saved it and",
        "reattempts the pending rotation with the rotation function: it fails while the bug is",
        'there and passes once the function recovers from this state."""',
        "",
        *imports,
        "from rotation_testkit.assertions import assert_not_stuck",
        "",
        *harness,
        *([""] if harness else []),
        "# What `aws secretsmanager describe-secret` printed in production.",
        f"DESCRIBED = {_literal(incident.described)}",
        "# What `aws secretsmanager list-secret-version-ids --include-deprecated` printed.",
        f"VERSIONS = {_literal(incident.versions)}",
        f"# Each version's value, by version id. Given: {given}; the others are made up in",
        "# the shape of a given value (production's values are never saved).",
        f"VALUES = {_literal(dict(incident.values))}",
        "",
        "",
        "def _value(text):",
        "    try:",
        "        parsed = json.loads(text)",
        "    except ValueError:",
        "        return text",
        "    return parsed if isinstance(parsed, dict) else text",
        "",
        "",
        f"@pytest.mark.rotation_testkit({', '.join(f'{k}={v!r}' for k, v in marker.items())})",
        "def test_the_pending_rotation_succeeds_from_the_saved_state(rotation_kit):",
        *(f"    {line}" if line else "" for line in body),
        "",
    ]
    return "\n".join(lines)


def _abs(path: str | None) -> str | None:
    return None if path is None else os.path.abspath(path)


def write_regression_test(path: str | os.PathLike[str], text: str) -> str:
    """Write the test; returns the path written."""
    target = Path(path)
    if target.suffix != ".py":
        raise ReproduceError(f"--write-test needs a .py file name, got {str(path)!r}.")
    if len(text.encode("utf-8")) > _MAX_BYTES:
        raise ReproduceError("the regression test would exceed 1 MB; the saved state is too big.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ReproduceError(f"cannot write the test to {str(path)!r}: {error.strerror}.") from None
    return str(target)
