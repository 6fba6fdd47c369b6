"""The human text of a diagnosis: the secret, its state, versions, rotation, problems and advice.

The analysis decides what to say; this module only lays it out, wrapped to the terminal, with each
AWS CLI command kept whole on one line so that it can be copied.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .dates import when
from .saved import AWSCURRENT, AWSPENDING, AWSPREVIOUS, SavedSecret, SavedVersion

#: A line of a section: ("step", numbered text), ("command", one whole line), ("text", an
#: indented paragraph), ("quote", quoted evidence) or ("bullet", a bulleted paragraph).
Item = tuple[str, str]
#: A titled section of advice, such as "Causes" or "How to unblock".
Section = tuple[str, list[Item]]

_WIDTH = 92
_INLINE_COMMAND = re.compile(r"`[^`]+`")
_NO_BREAK = "\u00a0"  # textwrap does not break at a no-break space


def render(
    secret: SavedSecret,
    now: datetime,
    *,
    state: str,
    summary: Sequence[str],
    problems: Sequence[str],
    sections: Sequence[Section],
    notes: Sequence[str],
) -> str:
    """The whole explanation, as the command line prints it."""
    out = [f"Secret: {secret.display_name}"]
    if secret.arn and secret.arn != secret.display_name:
        out.append(f"  {secret.arn}")
    out.append("")
    out.append(f"State: {state.upper()}")
    for paragraph in summary:
        if paragraph.startswith("    "):
            out.append(paragraph)  # a quoted error message, whole
        else:
            out += _wrap(paragraph, indent="  ")
    out += ["", "Versions:", *_version_lines(secret, now)]
    out += ["", "Rotation:", *_rotation_lines(secret, now)]
    if problems:
        out += ["", "Problems:"]
        for problem in problems:
            out += _bullet(problem)
    for title, items in sections:
        out += ["", f"{title}:"]
        number = 0
        for kind, text in items:
            if kind == "command":
                out.append(f"       {text}")  # one line, to copy whole
            elif kind == "step":
                number += 1
                out += _wrap(f"{number}. {text}", indent="  ", subsequent="     ")
            elif kind == "text":
                out += _wrap(text, indent="     ")
            elif kind == "quote":
                out += _wrap(text, indent="     > ", subsequent="       ")
            else:
                out += _bullet(text)
    if notes:
        out += ["", "Notes:"]
        for note in notes:
            out += _bullet(note)
    return "\n".join(out) + "\n"


def _version_lines(secret: SavedSecret, now: datetime) -> list[str]:
    if not secret.versions:
        return ["  (none)"]
    labels = {vid: "+".join(v.labels) or "(no label)" for vid, v in secret.versions.items()}
    width = max(len(vid) for vid in secret.versions)
    label_width = max(len(text) for text in labels.values())
    lines = []
    for vid, version in _ordered(secret.versions):
        facts = []
        if version.created is not None:
            facts.append(f"created {when(version.created, now)}")
        if version.last_accessed is not None:
            facts.append(f"last read {version.last_accessed:%Y-%m-%d}")
        if secret.has_value(vid) is False:
            facts.append("no value")
        lines.append(f"  {vid:<{width}}  {labels[vid]:<{label_width}}  {', '.join(facts)}".rstrip())
    if not secret.versions_listed:
        lines.append("  (dates and values unknown: list-secret-version-ids output was not given)")
    return lines


def _rotation_lines(secret: SavedSecret, now: datetime) -> list[str]:
    if secret.rotation_enabled is None and secret.rotation_lambda_arn is None:
        return ["  never configured"]
    state = "on" if secret.rotation_enabled else "off"
    function = secret.rotation_lambda_arn or (
        f"managed by {secret.owning_service}" if secret.owning_service else "no function"
    )
    lines = [f"  {state}, {function}"]
    schedule = _schedule_text(secret.rotation_rules)
    if schedule:
        lines.append(f"  schedule: {schedule}")
    if secret.last_rotated is not None:
        lines.append(f"  last rotated {when(secret.last_rotated, now)}")
    if secret.next_rotation is not None:
        lines.append(f"  next rotation by {when(secret.next_rotation, now)}")
    return lines


def _ordered(versions: Mapping[str, SavedVersion]) -> list[tuple[str, SavedVersion]]:
    """Newest first when dates are known; else pending, current, previous, the rest."""
    rank = {AWSPENDING: 0, AWSCURRENT: 1, AWSPREVIOUS: 2}

    def key(item: tuple[str, SavedVersion]) -> tuple[int, float, int]:
        version = item[1]
        label_rank = min((rank.get(label, 3) for label in version.labels), default=4)
        if version.created is None:
            return (0, 0.0, label_rank)
        return (1, -version.created.timestamp(), label_rank)

    return sorted(versions.items(), key=key)


def _schedule_text(rules: Mapping[str, Any] | None) -> str:
    if not rules:
        return ""
    expression = rules.get("ScheduleExpression")
    if expression:
        text = str(expression)
    elif rules.get("AutomaticallyAfterDays") is not None:
        days = rules["AutomaticallyAfterDays"]
        text = f"every {days} day{'s' if days != 1 else ''}"
    else:
        text = ""
    if isinstance(rules.get("Duration"), str):
        text += f", window {rules['Duration']}"
    return text


def _bullet(text: str) -> list[str]:
    return _wrap(text, indent="  - ", subsequent="    ")


def _wrap(text: str, *, indent: str, subsequent: str | None = None) -> list[str]:
    """Wrap a paragraph; a `command` in backticks stays on one line, to copy whole."""
    text = _INLINE_COMMAND.sub(lambda m: m.group(0).replace(" ", _NO_BREAK), text)
    lines = textwrap.wrap(
        text,
        width=_WIDTH,
        initial_indent=indent,
        subsequent_indent=subsequent if subsequent is not None else " " * len(indent),
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [line.replace(_NO_BREAK, " ") for line in lines]
