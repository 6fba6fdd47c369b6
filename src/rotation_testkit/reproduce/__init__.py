"""Reproduce a stuck rotation from production's saved state with the real rotation function.

``rotation-testkit reproduce STATE [EVIDENCE ...] (TARGET | --command CMD)`` and
``rotation_kit.reproduce(...)`` rebuild the saved state, reattempt the pending rotation as Secrets
Manager would, say whether production's failure is reproduced, rehearse each unblock option on a
copy, and write the incident's regression test.

The modules: :mod:`.values` the versions' values and placeholders, :mod:`.incident` the saved
files and production's failure, :mod:`.rotator` the function and its harness, :mod:`.outside`
causes outside the code as faults, :mod:`.run` one rebuild and reattempt, :mod:`.compare` the
verdict, :mod:`.rehearse` the unblock options, :mod:`.regression` the test file,
:mod:`.reproduction` the whole, :mod:`.api` the Python entry point, :mod:`.report` the output and
:mod:`.command` the command line.
"""

from .api import reproduce
from .command import run_reproduce_command
from .rehearse import ACTIONS, Rehearsal
from .reproduction import Reproduction
from .run import Outcome
from .values import ReproduceError

__all__ = [
    "ACTIONS",
    "Outcome",
    "Rehearsal",
    "ReproduceError",
    "Reproduction",
    "reproduce",
    "run_reproduce_command",
]
