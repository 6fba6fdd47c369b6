"""Reproduce a stuck rotation: the reattempt, the verdict, the rehearsals and the regression test,
in a world given (a test's) or one of its own (the command line)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..diagnose import ProductionFailure
from ..world import World
from .compare import compare
from .incident import Incident
from .outside import OutsideFault, fault_for
from .regression import regression_test, write_regression_test
from .rehearse import Rehearsal, rehearse
from .rotator import Rotator
from .run import Outcome, Run

__all__ = [
    "EXIT_NOT_REPRODUCED",
    "EXIT_REPRODUCED",
    "EXIT_UNUSABLE",
    "Reproduction",
    "reproduce_in",
]

EXIT_REPRODUCED, EXIT_NOT_REPRODUCED, EXIT_UNUSABLE = 0, 1, 2


@dataclass(frozen=True)
class Reproduction:
    """What ``reproduce`` found. ``as_dict()`` is the ``--format json`` document."""

    incident: Incident
    reproduced: bool
    #: Why reproduced or not, in the rotator's terms.
    explanation: str
    local: Outcome
    outside: OutsideFault | None
    rehearsals: tuple[Rehearsal, ...]
    test_file: str | None

    @property
    def production(self) -> ProductionFailure | None:
        return self.incident.production

    @property
    def exit_code(self) -> int:
        return EXIT_REPRODUCED if self.reproduced else EXIT_NOT_REPRODUCED

    def as_dict(self) -> dict[str, Any]:
        production = self.production
        return {
            "reproduced": self.reproduced,
            "exit_code": self.exit_code,
            "explanation": self.explanation,
            "production": {
                "step": production.step if production else None,
                "error": _error(production),
                "outside_cause": production.outside_cause if production else None,
            },
            "local": {
                "step": self.local.step,
                "error": self.local.error,
                "attempts": self.local.attempts,
                "succeeded": self.local.succeeded,
                "violations": list(self.local.violations),
            },
            "applied_fault": self.outside.describe() if self.outside else None,
            "rehearsals": [rehearsal.as_dict() for rehearsal in self.rehearsals],
            "test_file": self.test_file,
        }


def _error(failure: ProductionFailure | None) -> str | None:
    if failure is None or failure.error_type is None:
        return None
    return f"{failure.error_type}: {failure.message}" if failure.message else failure.error_type


def reproduce_in(
    world: World,
    incident: Incident,
    rotator: Rotator,
    *,
    write_test: str | os.PathLike[str] | None = None,
    rehearsals: bool = True,
) -> Reproduction:
    """Reproduce in an active world whose clock runs; the world's own faults, probe and
    violations are left as they were."""
    outside = fault_for(incident.production)
    now: datetime = world.now()
    text = regression_test(incident, rotator, outside, now) if write_test is not None else None
    with Run(world, incident, rotator).isolated() as run:
        run.rebuild(outside)
        local = run.reattempt()
        verdict = compare(incident.production, local)
        tried = tuple(rehearse(run, outside)) if rehearsals and not local.succeeded else ()
    test_file = write_regression_test(write_test, text) if write_test and text else None
    return Reproduction(
        incident, verdict.reproduced, verdict.explanation, local, outside, tried, test_file
    )
