"""Explain a secret's rotation state from saved AWS output: is a rotation stuck, why, and how to
unblock it.

The input is what ``aws secretsmanager describe-secret`` (or ``list-secrets``) printed, optionally
with ``list-secret-version-ids --include-deprecated`` output, the rotation function's CloudWatch
logs (``aws logs filter-log-events`` / ``get-log-events`` JSON, or console text) and CloudTrail
``lookup-events`` output. Nothing here calls AWS or moto, and nothing prints a secret's value:
values that appear in quoted log lines are masked.

Library use: :func:`diagnose` takes the parsed JSON (or boto3's responses, whose dates are
``datetime`` objects) and returns a :class:`Diagnosis`; its ``state`` is one of :data:`STATES`,
its ``causes`` a list of :class:`Cause`. The command line uses :func:`run_diagnose_command`.

The modules: :mod:`.saved` checks and normalises the saved state, :mod:`.dates` reads and says
dates, :mod:`.logs` and :mod:`.trail` read the evidence, :mod:`.reading` recognises each file,
:mod:`.evidence` keeps what concerns one secret, :mod:`.analysis` decides the state,
:mod:`.checks` the other problems, :mod:`.causes` (with :mod:`.causes_history`,
:mod:`.causes_rotator`, :mod:`.causes_permissions` and :mod:`.causes_access`) the root causes, :mod:`.masking` hides values in quotes, :mod:`.advice`
and :mod:`.commands` the advice and AWS CLI commands, :mod:`.report` lays out the text, and
:mod:`.command` is the command line.
"""

from .analysis import (
    EXIT_FAILED as EXIT_FAILED,
)
from .analysis import (
    EXIT_OK as EXIT_OK,
)
from .analysis import (
    EXIT_UNREADABLE as EXIT_UNREADABLE,
)
from .analysis import (
    HEALTHY,
    IN_PROGRESS,
    INCONSISTENT,
    STUCK,
    Diagnosis,
    Problem,
    diagnose,
)
from .analysis import (
    MARKED_FOR_DELETION as MARKED_FOR_DELETION,
)
from .analysis import (
    NO_LAMBDA as NO_LAMBDA,
)
from .analysis import (
    PREVIOUS_ROTATION_INCOMPLETE as PREVIOUS_ROTATION_INCOMPLETE,
)
from .analysis import (
    RUNNING_WINDOW as RUNNING_WINDOW,
)
from .analysis import STATES as STATES
from .causes import Cause
from .command import run_diagnose_command
from .commands import stage_command
from .dates import parse_date
from .logs import LogLine
from .reading import SavedEvidence, read_evidence, read_saved_states
from .saved import AWSCURRENT as AWSCURRENT
from .saved import AWSPENDING as AWSPENDING
from .saved import AWSPREVIOUS as AWSPREVIOUS
from .saved import SavedSecret, SavedVersion, UnreadableInput, parse_saved_state
from .trail import TrailEvent

__all__ = [
    "HEALTHY",
    "INCONSISTENT",
    "IN_PROGRESS",
    "STATES",
    "STUCK",
    "Cause",
    "Diagnosis",
    "LogLine",
    "Problem",
    "SavedEvidence",
    "SavedSecret",
    "SavedVersion",
    "TrailEvent",
    "UnreadableInput",
    "diagnose",
    "parse_date",
    "parse_saved_state",
    "read_evidence",
    "read_saved_states",
    "run_diagnose_command",
    "stage_command",
]
