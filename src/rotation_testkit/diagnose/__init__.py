"""Explain a secret's rotation state from saved AWS CLI output: is a rotation stuck, and how to unblock it.

The input is what ``aws secretsmanager describe-secret --secret-id NAME`` printed, optionally with
what ``aws secretsmanager list-secret-version-ids --secret-id NAME --include-deprecated`` printed:
in two files, back to back in one file, or merged into one object. Nothing here calls AWS or moto,
and nothing reads or prints a secret's value: the inputs hold only labels, ids and dates.

Library use: :func:`diagnose` takes the parsed JSON (or boto3's responses, whose dates are
``datetime`` objects) and returns a :class:`Diagnosis`. The command line uses
:func:`run_diagnose_command`.

The modules: :mod:`.saved` checks and normalises the saved output, :mod:`.dates` reads and says
its dates, :mod:`.reading` reads it from files, :mod:`.analysis` decides the state and the
problems, :mod:`.advice` the causes and unblock commands, :mod:`.report` lays out the text, and
:mod:`.command` is the command line.
"""

from .advice import stage_command
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
from .command import run_diagnose_command
from .dates import parse_date
from .reading import read_saved_states
from .saved import AWSCURRENT as AWSCURRENT
from .saved import AWSPENDING as AWSPENDING
from .saved import AWSPREVIOUS as AWSPREVIOUS
from .saved import SavedSecret, SavedVersion, UnreadableInput, parse_saved_state

__all__ = [
    "HEALTHY",
    "INCONSISTENT",
    "IN_PROGRESS",
    "STUCK",
    "Diagnosis",
    "Problem",
    "SavedSecret",
    "SavedVersion",
    "UnreadableInput",
    "diagnose",
    "parse_date",
    "parse_saved_state",
    "read_saved_states",
    "run_diagnose_command",
    "stage_command",
]
