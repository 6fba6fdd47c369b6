"""Explain a secret's rotation state from saved AWS output: is a rotation stuck, why, and how to
unblock it.

The input is what ``aws secretsmanager describe-secret`` (or ``list-secrets``) printed, optionally
with ``list-secret-version-ids --include-deprecated`` output, the rotation function's CloudWatch
logs (``aws logs filter-log-events`` / ``get-log-events`` JSON, ``aws logs tail`` text, rows copied
from the console, plain lines) and CloudTrail events (``lookup-events`` output or a log file's
``Records``). Nothing here calls AWS or moto, and nothing prints a secret's value:
values that appear in quoted log lines are masked.

Library use: :func:`diagnose` takes the parsed JSON (or boto3's responses, whose dates are
``datetime`` objects) and returns a :class:`Diagnosis`; its ``state`` is one of :data:`STATES`,
its ``causes`` a list of :class:`Cause`. The command line uses :func:`run_diagnose_command`.

For a command that replays an incident, :func:`production_failure` reads the same evidence and
returns the step that failed last, its error, and whether the cause lies outside the function's
code (:data:`OUTSIDE_CAUSES`).

The modules: :mod:`.saved` checks and normalises the saved state, :mod:`.dates` reads and says
dates, :mod:`.logs`, :mod:`.log_text` and :mod:`.trail` read the evidence (one parser per source),
:mod:`.timeline` turns it into one timeline of invocations and API events, :mod:`.reading`
recognises each file, :mod:`.evidence` keeps what concerns one secret, :mod:`.analysis` decides
the state, :mod:`.checks` the other problems, :mod:`.causes` (with :mod:`.causes_story`,
:mod:`.causes_history`, :mod:`.causes_rotator`, :mod:`.causes_permissions` and
:mod:`.causes_access`) the root causes, :mod:`.failure` the last failure for a replay,
:mod:`.masking` hides values in quotes, :mod:`.advice` and :mod:`.commands` the advice and AWS CLI
commands, :mod:`.report` lays out the text, and :mod:`.command` is the command line.
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
from .failure import (
    FUNCTION_MISSING_CAUSE,
    IAM_DENIED,
    INVOKE_DENIED,
    KMS_DENIED,
    OUTSIDE_CAUSES,
    TIMEOUT_WITHOUT_PROGRESS,
    ProductionFailure,
    production_failure,
)
from .logs import LogLine
from .reading import SavedEvidence, read_evidence, read_saved_states
from .saved import AWSCURRENT as AWSCURRENT
from .saved import AWSPENDING as AWSPENDING
from .saved import AWSPREVIOUS as AWSPREVIOUS
from .saved import SavedSecret, SavedVersion, UnreadableInput, parse_saved_state
from .timeline import Invocation, Timeline, build_timeline
from .trail import TrailEvent

__all__ = [
    "FUNCTION_MISSING_CAUSE",
    "HEALTHY",
    "IAM_DENIED",
    "INCONSISTENT",
    "INVOKE_DENIED",
    "IN_PROGRESS",
    "KMS_DENIED",
    "OUTSIDE_CAUSES",
    "STATES",
    "STUCK",
    "TIMEOUT_WITHOUT_PROGRESS",
    "Cause",
    "Diagnosis",
    "Invocation",
    "LogLine",
    "Problem",
    "ProductionFailure",
    "SavedEvidence",
    "SavedSecret",
    "SavedVersion",
    "Timeline",
    "TrailEvent",
    "UnreadableInput",
    "build_timeline",
    "diagnose",
    "parse_date",
    "parse_saved_state",
    "production_failure",
    "read_evidence",
    "read_saved_states",
    "run_diagnose_command",
    "stage_command",
]
