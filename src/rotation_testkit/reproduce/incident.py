"""The incident to reproduce: production's saved state, the values to rebuild it with, and what
failed there, read from the same saved files ``rotation-testkit diagnose`` reads."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..diagnose import ProductionFailure, production_failure, read_evidence
from ..diagnose.commands import function_name, region_of
from ..diagnose.saved import AWSCURRENT, AWSPENDING, SavedSecret, UnreadableInput, parse_saved_state
from .values import ReproduceError, first_value, version_values

__all__ = ["Incident", "read_incident"]

_ACCOUNT_OF_ARN = 4  # arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME


@dataclass(frozen=True)
class Incident:
    """One stuck secret as production saved it, and what failed there."""

    described: Mapping[str, Any]
    versions: Mapping[str, Any] | None
    saved: SavedSecret
    #: The last failure the logs and CloudTrail events show (None: none shown, or none given).
    production: ProductionFailure | None
    evidence_given: bool
    #: The value of each rebuilt version, by version id (given, or a shaped placeholder).
    values: Mapping[str, str]
    #: Which of ``values`` were given (version ids): the others are placeholders.
    given: frozenset[str]
    #: The value to store when the secret has no AWSCURRENT version.
    first_value: str | None

    @property
    def name(self) -> str:
        return self.saved.name or self.saved.secret_id

    @property
    def function_name(self) -> str:
        """The saved rotation function's name: the rotator is registered under it."""
        return function_name(self.saved.rotation_lambda_arn) or "rotator"

    @property
    def region(self) -> str | None:
        return region_of(self.saved.arn)

    @property
    def account_id(self) -> str | None:
        parts = (self.saved.arn or "").split(":")
        account = parts[_ACCOUNT_OF_ARN] if len(parts) > _ACCOUNT_OF_ARN else ""
        return account if account.isdigit() and len(account) == 12 else None

    @property
    def pending(self) -> str | None:
        """The version a rotation left AWSPENDING on, unfinished (None: nothing is pending)."""
        return next(
            (
                vid
                for vid, v in self.saved.versions.items()
                if AWSPENDING in v.labels and AWSCURRENT not in v.labels
            ),
            None,
        )

    @property
    def current(self) -> str | None:
        return next((vid for vid, v in self.saved.versions.items() if AWSCURRENT in v.labels), None)


def read_incident(
    state: str | os.PathLike[str] | Mapping[str, Any],
    evidence: Sequence[str | os.PathLike[str]] = (),
    *,
    values: Mapping[str, str] | None = None,
    secret: str | None = None,
) -> Incident:
    """Read the saved state (a file, or parsed describe-secret output) and the evidence files.

    Raises :class:`ReproduceError` when they cannot be read or hold no pending rotation.
    """
    files = [os.fspath(path) for path in evidence]
    # A parsed state is read as standard input, so both kinds go through one reader.
    stdin: io.StringIO | None = None
    if isinstance(state, Mapping):
        source, stdin = "-", io.StringIO(json.dumps(state, default=str))
    else:
        source = os.fspath(state)
    try:
        read = read_evidence([source, *files], stdin=stdin, secret=secret)
        if len(read.secrets) != 1:
            raise ReproduceError(
                f"the files describe {len(read.secrets)} secrets; reproduce one at a time."
            )
        described, versions = read.secrets[0]
        saved = parse_saved_state(described, versions)
    except UnreadableInput as error:
        raise ReproduceError(str(error)) from None
    given = dict(values or {})
    rebuilt = version_values(saved, given)
    given_ids = frozenset(vid for key in given for vid in _ids(saved, key))
    incident = Incident(
        described=described,
        versions=versions,
        saved=saved,
        production=production_failure(read),
        evidence_given=read.logs_given or read.trail_given,
        values=rebuilt,
        given=given_ids,
        first_value=first_value(saved, given),
    )
    if incident.pending is None:
        raise ReproduceError(
            f"the saved state of {incident.name} has no unfinished rotation (AWSPENDING is on no "
            "version other than AWSCURRENT's): there is nothing to reattempt. Save the state "
            "while the secret is stuck (`rotation-testkit diagnose` tells)."
        )
    return incident


def _ids(saved: SavedSecret, key: str) -> list[str]:
    if key in saved.versions:
        return [key]
    return [vid for vid, v in saved.versions.items() if key in v.labels]
