"""The reproduction as text for the on-call engineer, or as JSON for programs."""

from __future__ import annotations

import json
import textwrap

from .reproduction import Reproduction

__all__ = ["as_json", "as_text"]

_WIDTH = 96


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(
        text,
        _WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
        break_long_words=False,
    )


def as_text(result: Reproduction) -> str:
    incident = result.incident
    production = result.production
    lines = [f"Stuck rotation of {incident.name}, pending on version {incident.pending}", ""]
    lines.append("In production:")
    if production is None or production.error_type is None:
        lines += _wrap(
            "the evidence shows no failure"
            + ("" if incident.evidence_given else " (no logs or CloudTrail events were given)")
            + "."
        )
    else:
        where = production.step or "an unknown step"
        lines += _wrap(f"failed last at {where}: {production.error_type}: {production.message}")
    if result.outside is not None:
        lines += _wrap(result.outside.describe())
    placeholders = sorted(set(incident.values) - set(incident.given))
    if placeholders:
        lines += _wrap(
            "made-up values (in the shape of a given one) for: " + ", ".join(placeholders)
        )
    local = result.local
    lines += ["", f"Reattempted here ({local.attempts} attempt(s), the same token):"]
    if local.succeeded:
        lines += _wrap("the rotation succeeded.")
    else:
        lines += _wrap(f"failed at {local.step or 'no step'}: {local.error}")
    if local.violations:
        lines.append("  invariants broken on the way:")
        for violation in local.violations:
            lines += _wrap(violation, "    - ")
    verdict = "REPRODUCED" if result.reproduced else "NOT REPRODUCED"
    lines += ["", f"Result: {verdict}"]
    lines += _wrap(result.explanation)
    if result.rehearsals:
        lines += ["", "Unblock options, each rehearsed on a copy of the reproduced state:"]
        for number, rehearsal in enumerate(result.rehearsals, 1):
            outcome = rehearsal.outcome
            lines += _wrap(f"{number}. {rehearsal.action}: {rehearsal.says}", "  ")
            lines += [f"       {command}" for command in rehearsal.commands]
            if outcome.succeeded:
                lines.append("     -> the next rotation succeeds.")
            else:
                where = f"at {outcome.step}" if outcome.step else "before any step"
                lines += _wrap(f"-> the next rotation fails {where}: {outcome.error}", "     ")
        if result.outside is not None:
            lines += _wrap(
                "(The rehearsals take production's outside cause as fixed first: no label "
                "change helps while it stays.)"
            )
    if result.test_file:
        lines += [
            "",
            f"Regression test written to {result.test_file}: it fails while the bug is there",
            "and passes once the function recovers from the saved state.",
        ]
    return "\n".join(lines) + "\n"


def as_json(result: Reproduction) -> str:
    return json.dumps(result.as_dict(), indent=2) + "\n"
