"""How a secret value looks once code has printed it, and how to find those looks in a text fast.

A rotator rarely prints a password bare: it logs the event as JSON (quotes and backslashes escaped),
an exception's repr, a connection URL (percent-encoded), an Authorization header (base64), the bytes
of a binary secret (``b'...'``). :func:`printed_forms` lists those forms of one value, computed once
when the value is first seen. :class:`FormIndex` keeps the forms of every known value and answers
"which of them are in this text" without testing each one against the text.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Generic, TypeVar
from urllib.parse import quote, quote_plus

#: Shorter values are not masked, nor are shorter forms: hiding every "1" or "on" in a report
#: would hide more than it protects.
MIN_MASKED_LENGTH = 4

Owner = TypeVar("Owner")


def printed_forms(text: str, raw: bytes | None = None) -> list[str]:
    """``text`` as code commonly prints it, ``text`` itself first; none for a too-short value.

    ``raw``: the bytes ``text`` was decoded from (a SecretBinary), whose ``b'...'`` repr counts too.
    """
    if len(text) < MIN_MASKED_LENGTH:
        return []
    data = text.encode("utf-8", "surrogatepass") if raw is None else raw
    candidates = [
        text,
        json.dumps(text)[1:-1],  # inside JSON (quotes, backslashes, non-ASCII escaped)
        json.dumps(text, ensure_ascii=False)[1:-1],
        repr(text)[1:-1],  # inside a Python repr, e.g. an exception's args
        quote(text, safe=""),  # percent-encoded in a URL or a form body
        quote(text),
        quote_plus(text),
        *_base64_forms(data),
    ]
    if raw is not None:
        candidates.append(repr(raw)[2:-1])  # print(secret_bytes)
    forms = list(dict.fromkeys(c for c in candidates if len(c) >= MIN_MASKED_LENGTH))
    return forms


def _base64_forms(data: bytes) -> list[str]:
    standard = base64.b64encode(data).decode("ascii")
    url_safe = base64.urlsafe_b64encode(data).decode("ascii")
    # With and without padding: JWTs and many libraries drop the "=".
    return [standard, standard.rstrip("="), url_safe, url_safe.rstrip("=")]


class FormIndex(Generic[Owner]):
    """The forms of many values, each with the owners that contributed it (counted, so that a form
    two versions share stays while one of them does).

    Every form is at least :data:`MIN_MASKED_LENGTH` characters long, so the index keys forms by
    their first characters: a text is searched once for its own prefixes, whatever the number of
    forms, and only forms whose prefix occurs are looked for.
    """

    def __init__(self) -> None:
        self._owners: dict[str, dict[int, Owner]] = {}
        self._by_prefix: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._owners)

    def add(self, owner: Owner, forms: Iterable[str]) -> None:
        for form in forms:
            owners = self._owners.get(form)
            if owners is None:
                owners = self._owners[form] = {}
                self._by_prefix.setdefault(form[:MIN_MASKED_LENGTH], set()).add(form)
            owners[id(owner)] = owner

    def remove(self, owner: Owner, forms: Iterable[str]) -> None:
        for form in forms:
            owners = self._owners.get(form)
            if owners is None:
                continue
            owners.pop(id(owner), None)
            if not owners:
                del self._owners[form]
                prefix = form[:MIN_MASKED_LENGTH]
                same_prefix = self._by_prefix[prefix]
                same_prefix.discard(form)
                if not same_prefix:
                    del self._by_prefix[prefix]

    def owners(self) -> list[Owner]:
        """Every owner with a form in the index, once each."""
        unique = {id(o): o for owners in self._owners.values() for o in owners.values()}
        return list(unique.values())

    def owner_of(self, form: str) -> Owner:
        """The owner that added ``form`` last (a rotation's newest version)."""
        return next(reversed(self._owners[form].values()))

    def found_in(self, text: str) -> list[str]:
        """The forms that occur in ``text``, longest first."""
        if not self._owners or len(text) < MIN_MASKED_LENGTH:
            return []
        if len(self._owners) * (40 + 0.3 * len(text)) < 50 * len(text):
            # Few forms: a substring search per form costs less than collecting the prefixes
            # (about 40 ns per search plus a fraction per character, against 50 ns per character).
            return sorted((f for f in self._owners if f in text), key=len, reverse=True)
        width = MIN_MASKED_LENGTH
        prefixes = {text[i : i + width] for i in range(len(text) - width + 1)}
        found = [
            form
            for prefix in prefixes.intersection(self._by_prefix)
            for form in self._by_prefix[prefix]
            if form in text
        ]
        return sorted(found, key=len, reverse=True)
