"""The rotation timeline: each rotation as a table of step, attempt, outcome and labels after it.

Built from the history alone, so it shows exactly what happened. Versions appear by short id and
secret values never appear (the history does not hold them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..foundations import history
from ..foundations.history import Event
from ..foundations.labels import short_id

_ROTATION_EVENTS = {
    history.ROTATION_STARTED,
    history.ROTATION_SUCCEEDED,
    history.ROTATION_FAILED,
    history.ROTATION_ABANDONED,
    history.TEST_ROTATION_STARTED,
    history.TEST_ROTATION_SUCCEEDED,
    history.TEST_ROTATION_FAILED,
}
# API calls that change labels or values: worth a row of their own inside a rotation.
_CHANGING_CALLS = {
    "PutSecretValue",
    "UpdateSecret",
    "UpdateSecretVersionStage",
    "CancelRotateSecret",
}


@dataclass
class Row:
    time: str
    attempt: int | None
    what: str
    outcome: str
    labels: dict[str, list[str]]
    values: dict[str, str] = field(default_factory=dict)  # only with show_values=True

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "time": self.time,
            "attempt": self.attempt,
            "what": self.what,
            "outcome": self.outcome,
            "labels": self.labels,
        }
        if self.values:
            data["values"] = self.values
        return data


@dataclass
class RotationTable:
    secret_arn: str
    token: str
    rows: list[Row] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "secret_arn": self.secret_arn,
            "token": self.token,
            "rows": [row.to_dict() for row in self.rows],
        }


def build(events: Iterable[Event]) -> list[RotationTable]:
    """Group the history into one table per rotation (secret and token)."""
    tables: dict[tuple[str, str], RotationTable] = {}
    open_tables: dict[str, RotationTable] = {}
    for event in events:
        arn = event.secret_arn
        if arn is None:
            continue
        if (
            event.name in (history.ROTATION_STARTED, history.TEST_ROTATION_STARTED)
            and event.version_id
        ):
            key = (arn, event.version_id)
            table = tables.setdefault(key, RotationTable(arn, event.version_id))
            open_tables[arn] = table
        table_or_none = open_tables.get(arn)
        if table_or_none is None:
            continue
        table = table_or_none
        if event.name in _ROTATION_EVENTS or event.name == history.INVOKE:
            what = event.step if event.name == history.INVOKE and event.step else event.name
            if event.name == history.ROTATION_FAILED and event.step:
                what = f"{event.name} ({event.step})"
        elif event.name in _CHANGING_CALLS or event.detail.get("fault"):
            what = f"  {event.name}"
        else:
            continue
        outcome = "ok" if event.error is None else event.error
        if event.detail.get("fault"):
            # The fault first: long errors are cut in the text table, the fault must stay.
            outcome = f"[fault {event.detail['fault']}] {outcome}"
        table.rows.append(
            Row(
                time=event.time.strftime("%Y-%m-%d %H:%M:%S"),
                attempt=event.attempt,
                what=what,
                outcome=outcome,
                labels={short_id(v): list(stages) for v, stages in event.labels.items()},
                values={short_id(v): value for v, value in event.values.items()},
            )
        )
        if event.name in (
            history.ROTATION_SUCCEEDED,
            history.ROTATION_ABANDONED,
            history.TEST_ROTATION_SUCCEEDED,
            history.TEST_ROTATION_FAILED,
        ) or (event.name == history.ROTATION_FAILED and event.detail.get("final")):
            open_tables.pop(arn, None)
    return list(tables.values())


def render(tables: list[RotationTable], *, names: dict[str, str] | None = None) -> str:
    """The tables as aligned text, for failure reports and ``rotation_kit.timeline()``."""
    if not tables:
        return "(no rotation happened)"
    blocks = []
    for table in tables:
        name = (names or {}).get(table.secret_arn, table.secret_arn)
        header = f"rotation of {name}, token {short_id(table.token)}"
        lines = [("time", "try", "step / event", "outcome", "labels after")]
        for row in table.rows:
            labels = "  ".join(
                f"{vid}:{'+'.join(stages)}" + (f"={row.values[vid]!r}" if vid in row.values else "")
                for vid, stages in row.labels.items()
            )
            outcome = row.outcome if len(row.outcome) <= 70 else row.outcome[:67] + "..."
            lines.append((row.time, str(row.attempt or "-"), row.what, outcome, labels))
        widths = [max(len(line[i]) for line in lines) for i in range(4)]
        text = [header] + [
            "  "
            + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line[:4]))
            + "  "
            + line[4]
            for line in lines
        ]
        blocks.append("\n".join(text))
    return "\n\n".join(blocks)


def to_json(tables: list[RotationTable]) -> str:
    return json.dumps([table.to_dict() for table in tables], indent=2)
