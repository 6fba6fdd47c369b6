"""The results of `rotation-testkit check` as JUnit XML, for CI systems that show test reports."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from .runner import CheckResult


def require_writable(path: str) -> None:
    """Refuse, before any check runs, a report path that could not be written at the end."""
    target = Path(path)
    if target.is_dir():
        raise ValueError(
            f"--junit-xml {path!r} is a directory: give a file path, such as "
            f"{str(target / 'rotation-testkit.xml')!r}."
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(
            f"--junit-xml {path!r}: cannot create its folder ({error.strerror}); give a path in "
            "a folder you can write to."
        ) from None
    if not os.access(target.parent, os.W_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        raise ValueError(f"--junit-xml {path!r} is not writable; give a path you can write to.")


def write_junit(results: Sequence[CheckResult], path: str, *, suite: str) -> None:
    failures = sum(r.status == "failed" for r in results)
    errors = sum(r.status == "harness error" for r in results)
    skipped = sum(r.status == "not applicable" for r in results)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            root,
            "testcase",
            classname="rotation_testkit.contract",
            name=result.name,
            time=f"{result.seconds:.3f}",
        )
        first_line = result.message.splitlines()[0][:200] if result.message else ""
        if result.status == "failed":
            failure = ET.SubElement(case, "failure", message=first_line)
            failure.text = result.message + ("\n\n" + result.timeline if result.timeline else "")
        elif result.status == "harness error":
            error = ET.SubElement(case, "error", message=first_line)
            error.text = result.message
        elif result.status == "not applicable":
            ET.SubElement(case, "skipped", message=f"not applicable: {first_line}")
        output = "\n".join(result.info)
        if result.logs:
            output += ("\n\n" if output else "") + result.logs
        if output:
            ET.SubElement(case, "system-out").text = output
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
