"""Which parts of a secret are secret, and how any text the kit prints hides them.

Pure rules, no world: the pytest plugin, the contract checks and the command line all mask the same
way. What counts as a secret value:

- a plain (non-JSON) secret string: the whole string;
- a JSON object secret: each field whose name says it is a credential (contains ``password``,
  ``secret``, ``token`` or ``key``, in any case, e.g. ``masterPassword``, ``api_key``), and each field
  whose value differs between two versions that both have it (a rotated credential, whatever its
  name), and the whole JSON text of the version;
- a binary secret: its bytes, as text.

Fields that describe where the credential works stay readable even when they change between
versions, as AWS's own rotation templates log them: ``username``, ``user``, ``host``, ``port``,
``engine``, ``dbname``, ``dbClusterIdentifier``, ``dbInstanceIdentifier``, ``masterarn`` and any
field whose name ends in ``arn``. Values shorter than :data:`MIN_MASKED_LENGTH` characters are not
masked: hiding every "1" or "on" in a report would hide more than it protects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MASK = "***"
MIN_MASKED_LENGTH = 4

_CREDENTIAL_NAME = re.compile(r"password|passwd|secret|token|key", re.IGNORECASE)
_READABLE_NAMES = frozenset(
    {
        "username",
        "user",
        "host",
        "port",
        "engine",
        "dbname",
        "dbclusteridentifier",
        "dbinstanceidentifier",
        "masterarn",
        "proxy",
    }
)


@dataclass(frozen=True)
class KnownValue:
    """One secret value the kit knows, and how to name it without showing it."""

    text: str
    secret: str  # the secret's name
    version_id: str
    field: str | None = None  # the JSON field, or None for the whole value

    def describe(self) -> str:
        """e.g. "field 'password' of app/db version 1a2b3c4d" — never the value."""
        where = f"{self.secret} version {self.version_id[:8]}"
        return f"field {self.field!r} of {where}" if self.field else f"the value of {where}"


def is_credential_field(name: str) -> bool:
    """Does this JSON field's name say it holds a credential?"""
    lowered = name.lower()
    if lowered in _READABLE_NAMES or lowered.endswith("arn"):
        return False
    return bool(_CREDENTIAL_NAME.search(name))


def _is_readable_field(name: str) -> bool:
    lowered = name.lower()
    return lowered in _READABLE_NAMES or lowered.endswith("arn")


def _json_object(raw: str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def secret_values(secret: str, versions: Mapping[str, str | bytes | None]) -> list[KnownValue]:
    """The values of one secret's versions that must never be printed.

    ``versions`` maps each version id to its SecretString (or SecretBinary).
    """
    found: list[KnownValue] = []
    parsed: dict[str, dict[str, Any]] = {}
    for version_id, raw in versions.items():
        if raw is None:
            continue
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        found.append(KnownValue(text, secret, version_id))
        obj = _json_object(text)
        if obj is not None:
            parsed[version_id] = obj
    # A field counts when its name says so, or when its value changes from version to version.
    changing: set[str] = set()
    names = {name for obj in parsed.values() for name in obj}
    for name in names:
        # Only where two versions both have the field: one version adding a field is no rotation.
        seen = {json.dumps(obj[name], sort_keys=True) for obj in parsed.values() if name in obj}
        holders = sum(name in obj for obj in parsed.values())
        if holders > 1 and len(seen) > 1:
            changing.add(name)
    for version_id, obj in parsed.items():
        for name, value in obj.items():
            if _is_readable_field(name) or isinstance(value, (dict, list, bool)) or value is None:
                continue
            if name in changing or is_credential_field(name):
                found.append(KnownValue(str(value), secret, version_id, name))
    return [value for value in found if len(value.text) >= MIN_MASKED_LENGTH]


@dataclass(frozen=True)
class Masker:
    """Replaces every known secret value in a text (or in a JSON-ready structure) by ``***``."""

    values: tuple[KnownValue, ...] = ()
    _forms_cache: list[tuple[str, KnownValue]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    @classmethod
    def of(cls, values: Iterable[KnownValue]) -> Masker:
        # Longest first, so a whole JSON value is hidden before the fields inside it.
        unique = {value.text: value for value in values}
        return cls(tuple(sorted(unique.values(), key=lambda v: -len(v.text))))

    def _forms(self) -> list[tuple[str, KnownValue]]:
        if self._forms_cache or not self.values:
            return self._forms_cache
        forms = self._forms_cache
        for value in self.values:
            forms.append((value.text, value))
            # As it appears inside JSON or Python reprs (quotes and backslashes escaped).
            escaped = json.dumps(value.text)[1:-1]
            if escaped != value.text:
                forms.append((escaped, value))
            quoted = repr(value.text)[1:-1]
            if quoted not in (value.text, escaped):
                forms.append((quoted, value))
        return forms

    def mask(self, text: str) -> str:
        """The text with every known value replaced by ``***``."""
        if not self.values or not text:
            return text
        for form, _ in self._forms():
            if form in text:
                text = text.replace(form, MASK)
        return text

    def found_in(self, text: str) -> list[KnownValue]:
        """The known values that appear in a text (most specific first: fields before wholes)."""
        hits = [value for form, value in self._forms() if form and form in text]
        unique = list({id(v): v for v in hits}.values())
        return sorted(unique, key=lambda v: (v.field is None, len(v.text)))

    def mask_data(self, data: Any) -> Any:
        """A JSON-ready structure with every string masked (keys stay as they are)."""
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, Mapping):
            return {key: self.mask_data(value) for key, value in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.mask_data(item) for item in data]
        return data


NO_MASK = Masker()


class KnownValues:
    """The masker for a changing set of secrets, rebuilt only when a version's value changed.

    ``secrets`` are ``(name, versions)`` pairs, ``versions`` mapping each version id to its record
    (``secret_string`` or ``secret_binary``), as the backend keeps them.
    """

    def __init__(self) -> None:
        self._signature: tuple[tuple[str, str, int], ...] | None = None
        self.masker = NO_MASK

    def update(self, secrets: Iterable[tuple[str, Mapping[str, Mapping[str, Any]]]]) -> Masker:
        pairs = [(name, dict(versions)) for name, versions in secrets]
        signature = tuple(
            (name, vid, id(_raw(record)))
            for name, versions in pairs
            for vid, record in versions.items()
        )
        if signature != self._signature:
            known: list[KnownValue] = []
            for name, versions in pairs:
                known += secret_values(name, {vid: _raw(r) for vid, r in versions.items()})
            self.masker, self._signature = Masker.of(known), signature
        return self.masker


def _raw(record: Mapping[str, Any]) -> Any:
    return record.get("secret_string", record.get("secret_binary"))
