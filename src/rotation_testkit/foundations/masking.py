"""Which parts of a secret are secret, and how any text the kit prints hides them.

Pure rules, no world: the pytest plugin, the contract checks and the command line all mask the same
way. What counts as a secret value, version by version:

- a plain (non-JSON) secret string: the whole string;
- a JSON secret: the whole JSON text, and every string or number in it, nested objects and lists
  included, whatever the field's name (``creds.password``, ``conn``, ``hosts[0]``), except fields
  that describe where the credential works, which stay readable as AWS's own rotation templates log
  them: ``username``, ``user``, ``host``, ``port``, ``engine``, ``dbname``, ``dbClusterIdentifier``,
  ``dbInstanceIdentifier``, ``masterarn``, ``proxy`` and any field whose name ends in ``arn``;
- a binary secret: its base64 text as the API carries it, and the bytes it decodes to, as text
  (then read as above when the text is JSON) and as Python prints bytes.

Each value is masked in the forms code commonly prints it (:mod:`.printed_forms`): as it is,
escaped inside JSON or a repr, percent-encoded, base64. Values and forms shorter than
:data:`MIN_MASKED_LENGTH` characters are not masked: hiding every "1" or "on" in a report would
hide more than it protects.

A version's value never changes, so its forms are computed once, the first time the masker of a
world sees the version (:class:`KnownValues`), and dropped when the version is.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .printed_forms import MIN_MASKED_LENGTH, FormIndex, printed_forms

MASK = "***"
__all__ = [
    "MASK",
    "MIN_MASKED_LENGTH",
    "NO_MASK",
    "KnownValue",
    "KnownValues",
    "Masker",
    "is_credential_field",
    "secret_values",
    "version_values",
]

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

    @property
    def credential(self) -> bool:
        """The whole value, or a field whose name says it holds a credential."""
        if self.field is None:
            return True
        name = self.field.rsplit(".", 1)[-1].split("[", 1)[0]
        return is_credential_field(name) if name else False

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


def _leaves(value: Any, path: str | None) -> Iterator[tuple[str | None, str]]:
    """Every string or number in a JSON value, with its path (``creds.password``, ``hosts[0]``);
    readable fields (and what they hold) are left out."""
    if isinstance(value, dict):
        for name, item in value.items():
            if not _is_readable_field(str(name)):
                yield from _leaves(item, f"{path}.{name}" if path else str(name))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _leaves(item, f"{path or ''}[{n}]")
    elif isinstance(value, str):
        yield path, value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, json.dumps(value)


def _json_leaves(text: str) -> list[tuple[str, str]]:
    if not text.lstrip().startswith(("{", "[")):
        return []
    try:
        value = json.loads(text)
        return [(path, leaf) for path, leaf in _leaves(value, None) if path is not None]
    except (ValueError, RecursionError):  # nested deeper than Python recurses: the whole stays
        return []


def _decoded_binary(encoded: str | bytes) -> bytes | None:
    """The bytes of a SecretBinary as the API carries it (base64), or None if it is not base64."""
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True)
class _Found:
    """A value to mask and the forms it is printed in."""

    value: KnownValue
    forms: tuple[str, ...]


def _found_in_text(
    secret: str, version_id: str, text: str, raw: bytes | None = None
) -> list[_Found]:
    found = [_Found(KnownValue(text, secret, version_id), tuple(printed_forms(text, raw)))]
    for path, leaf in _json_leaves(text):
        found.append(_Found(KnownValue(leaf, secret, version_id, path), tuple(printed_forms(leaf))))
    return found


def _version_found(
    secret: str, version_id: str, string: str | None = None, binary: str | bytes | None = None
) -> list[_Found]:
    found: list[_Found] = []
    if string is not None:
        found += _found_in_text(secret, version_id, string)
    if binary is not None:
        data = binary if isinstance(binary, bytes) else _decoded_binary(binary)
        if isinstance(binary, str):  # the base64 text, as the API and moto's JSON carry it
            found.append(
                _Found(KnownValue(binary, secret, version_id), tuple(printed_forms(binary)))
            )
        if data is not None:
            text = data.decode("utf-8", "replace")
            found += _found_in_text(secret, version_id, text, data)
    return [item for item in found if item.forms]


def version_values(
    secret: str, version_id: str, string: str | None = None, binary: str | bytes | None = None
) -> list[KnownValue]:
    """The values of one version that must never be printed (``binary``: base64 text or bytes)."""
    return [item.value for item in _version_found(secret, version_id, string, binary)]


def secret_values(secret: str, versions: Mapping[str, str | bytes | None]) -> list[KnownValue]:
    """The values of one secret's versions that must never be printed.

    ``versions`` maps each version id to its SecretString (a str) or SecretBinary (bytes).
    """
    found: list[KnownValue] = []
    for version_id, raw in versions.items():
        if isinstance(raw, bytes):
            found += version_values(secret, version_id, binary=raw)
        elif raw is not None:
            found += version_values(secret, version_id, string=str(raw))
    return found


class Masker:
    """Replaces every known secret value, in every printed form, in a text (or in a JSON-ready
    structure) by ``***``."""

    def __init__(self, index: FormIndex[KnownValue] | None = None) -> None:
        self._index: FormIndex[KnownValue] = index if index is not None else FormIndex()

    @classmethod
    def of(cls, values: Iterable[KnownValue]) -> Masker:
        index: FormIndex[KnownValue] = FormIndex()
        for value in values:
            index.add(value, printed_forms(value.text))
        return cls(index)

    @property
    def values(self) -> tuple[KnownValue, ...]:
        return tuple(self._index.owners())

    def mask(self, text: str) -> str:
        """The text with every known value replaced by ``***``."""
        if not text or not len(self._index):
            return text
        # Longest first, so a whole JSON value is hidden before the fields inside it.
        for form in self._index.found_in(text):
            if form in text:
                text = text.replace(form, MASK)
        return text

    def found_in(self, text: str) -> list[KnownValue]:
        """The known values that appear in a text (most specific first: fields before wholes)."""
        hits = [self._index.owner_of(form) for form in self._index.found_in(text)]
        unique = list({id(v): v for v in hits}.values())
        return sorted(unique, key=lambda v: (v.field is None, len(v.text)))

    def leaks_in(self, text: str) -> list[KnownValue]:
        """The known values in a text whose printing is a leak (most specific first).

        Everything a secret holds is masked, but writing a field that only describes the
        credential (a ``user_id``, a ``region``) to a log is no leak: a leak is a whole value, a
        field whose name says it is a credential, or a field whose value differs between two
        versions of the secret (a rotated credential, whatever its name).
        """
        found = self.found_in(text)
        if all(value.credential for value in found):
            return found
        texts: dict[tuple[str, str | None], set[str]] = {}
        for value in self.values:
            texts.setdefault((value.secret, value.field), set()).add(value.text)
        return [
            value
            for value in found
            if value.credential or len(texts.get((value.secret, value.field), ())) > 1
        ]

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
    """The masker of a changing set of secrets, kept up to date version by version.

    A version's value is never rewritten, so its forms are computed the first time :meth:`update`
    sees it and removed when the version is gone; an update that finds nothing new costs a look-up
    per version.
    """

    def __init__(self) -> None:
        self._index: FormIndex[KnownValue] = FormIndex()
        self.masker = Masker(self._index)
        # secret name -> version id -> (the record's value object, what it added to the index)
        self._seen: dict[str, dict[str, tuple[Any, list[_Found]]]] = {}

    def update(self, secrets: Iterable[tuple[str, Mapping[str, Mapping[str, Any]]]]) -> Masker:
        """``secrets``: ``(name, versions)`` pairs, ``versions`` mapping each version id to its
        record (``secret_string`` or ``secret_binary``), as the backend keeps them."""
        names = set()
        for name, versions in secrets:
            names.add(name)
            seen = self._seen.setdefault(name, {})
            for version_id, record in versions.items():
                raw = record.get("secret_string", record.get("secret_binary"))
                known = seen.get(version_id)
                if known is not None and known[0] is raw:
                    continue
                if known is not None:
                    self._forget(known[1])
                found = self._learn(name, version_id, record)
                seen[version_id] = (raw, found)
            if len(seen) != len(versions):
                for version_id in [v for v in seen if v not in versions]:
                    self._forget(seen.pop(version_id)[1])
        for name in [n for n in self._seen if n not in names]:
            for _, found in self._seen.pop(name).values():
                self._forget(found)
        return self.masker

    def _learn(self, name: str, version_id: str, record: Mapping[str, Any]) -> list[_Found]:
        found = _version_found(
            name, version_id, record.get("secret_string"), record.get("secret_binary")
        )
        for item in found:
            self._index.add(item.value, item.forms)
        return found

    def _forget(self, found: list[_Found]) -> None:
        for item in found:
            self._index.remove(item.value, item.forms)
