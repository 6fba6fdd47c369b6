"""Reading saved output from files and standard input, each kind recognised by its content.

It decodes the text (UTF-8, or the UTF-16 PowerShell writes), splits JSON documents saved back to
back, recognises describe-secret, list-secrets, list-secret-version-ids, the function's logs (JSON
or plain text) and CloudTrail events, and decides which list-secret-version-ids document goes
with which secret.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from . import log_text, logs, trail
from .logs import LogLine
from .saved import (
    SAVE_COMMAND,
    SAVE_HINT,
    UnreadableInput,
    has_describe_fields,
    kind_of,
    require_describe,
)
from .trail import TrailEvent


def _decode(data: bytes) -> str:
    """The text of a saved file, in whichever encoding the shell wrote it."""
    # PowerShell's ">" writes UTF-16 with a byte-order mark.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


#: The largest file diagnose reads: saved AWS CLI output of a secret is far smaller, and a
#: larger input (a device, a wrong file) is refused before it fills the memory.
MAX_INPUT_BYTES = 64 * 1024 * 1024


def _bounded(stream: IO[Any], where: str) -> bytes | str:
    """At most MAX_INPUT_BYTES of a stream; more is refused without reading it."""
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise UnreadableInput(
            f"{where} is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB: that is not the "
            "saved output of one secret. Save only the secret's output (describe-secret, its "
            "versions, the function's logs since the rotation started)."
        )
    return data  # type: ignore[no-any-return]


def _read(source: str, stdin: IO[Any] | None) -> tuple[str, str]:
    """(label for messages, text) of one file, or of standard input for '-'."""
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin
        where = "standard input"
        raw = _bounded(getattr(stream, "buffer", None) or stream, where)
    else:
        where = source
        try:
            with Path(source).open("rb") as file:
                raw = _bounded(file, where)
        except FileNotFoundError:
            raise UnreadableInput(f"{source}: no such file. {SAVE_HINT}") from None
        except IsADirectoryError:
            raise UnreadableInput(f"{source} is a directory; give the JSON file.") from None
        except OSError as error:
            raise UnreadableInput(f"{source}: cannot read it ({error.strerror}).") from None
    try:
        text = raw if isinstance(raw, str) else _decode(raw)
    except UnicodeDecodeError:
        raise UnreadableInput(
            f"{where} is not text in UTF-8 or UTF-16: is it the JSON the aws command printed?"
        ) from None
    return where, text


def _documents(where: str, text: str) -> list[Any]:
    """Every JSON document in the text: one, or several back to back."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        try:
            document, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            # The position only: the text itself is never echoed.
            raise UnreadableInput(
                f"{where} is not valid JSON (line {error.lineno}, column {error.colno}: "
                f"{error.msg}). Save the output with --output json, e.g. {SAVE_COMMAND}"
            ) from None
        except RecursionError:
            raise UnreadableInput(
                f"{where} nests JSON too deeply to be AWS CLI output. {SAVE_HINT}"
            ) from None
        except ValueError:
            # Python refuses integers of thousands of digits.
            raise UnreadableInput(
                f"{where} holds a number too long to be AWS CLI output. {SAVE_HINT}"
            ) from None
        documents.append(document)
    if not documents:
        raise UnreadableInput(
            f"{where} is empty: did the aws command fail? Its error goes to the terminal, not "
            f"to the file. {SAVE_HINT}"
        )
    return documents


@dataclass
class SavedEvidence:
    """Everything read from the files: each secret's saved state, and the logs and events."""

    #: (describe-secret or list-secrets entry, list-secret-version-ids or None) per secret.
    secrets: list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]
    logs: list[LogLine] = field(default_factory=list)
    events: list[TrailEvent] = field(default_factory=list)
    logs_given: bool = False
    trail_given: bool = False


def read_saved_states(
    files: Sequence[str], *, stdin: IO[Any] | None = None
) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """Read the files ('-' for standard input) into (describe-secret, list-versions) pairs.

    A list-secret-version-ids document goes with the describe-secret document of the same secret,
    wherever it comes; one that names no secret goes with the describe-secret document before
    it. Logs and CloudTrail events in the files are read and left out. Raises UnreadableInput.
    """
    return read_evidence(files, stdin=stdin).secrets


def read_evidence(
    files: Sequence[str], *, stdin: IO[Any] | None = None, secret: str | None = None
) -> SavedEvidence:
    """Read the files ('-' for standard input), each kind of output recognised by its content.

    ``secret`` (a name or ARN) picks one secret when the files describe several, as a
    list-secrets output does. Raises UnreadableInput.
    """
    described: list[dict[str, Any]] = []
    listings: list[list[Mapping[str, Any]]] = []
    # (where, document, how many describe-secret documents came before it)
    loose: list[tuple[str, dict[str, Any], int]] = []
    entries: list[tuple[str, dict[str, Any]]] = []
    evidence = SavedEvidence(secrets=[])
    for source in files:
        where, text = _read(source, stdin)
        if "\x00" in text:
            raise UnreadableInput(
                f"{where} holds binary data, not text the aws command printed. {SAVE_HINT}"
            )
        if not text.lstrip().startswith(("{", "[")) and log_text.looks_like_log_text(text):
            evidence.logs += log_text.from_text(text)
            evidence.logs_given = True
            continue
        documents = _documents(where, text)
        for number, document in enumerate(documents, 1):
            place = where if len(documents) == 1 else f"{where} (JSON document {number})"
            if not isinstance(document, dict):
                raise UnreadableInput(
                    f"{place} is {kind_of(document)}, not describe-secret output (a JSON "
                    f"object). {SAVE_HINT}"
                )
            if logs.is_log_document(document):
                evidence.logs += logs.from_document(document)
                evidence.logs_given = True
                continue
            if trail.is_trail_document(document):
                evidence.events += trail.from_document(document)
                evidence.trail_given = True
                continue
            if isinstance(document.get("SecretList"), list):
                entries += _list_entries(place, document)
                continue
            is_listing = isinstance(document.get("Versions"), list)
            if is_listing and not has_describe_fields(document):
                loose.append((place, document, len(described)))
                continue
            require_describe(document, place)
            described.append(document)
            listings.append([document] if is_listing else [])
    # Indexes by ARN and by name, so that matching stays linear in the number of secrets.
    index = _SecretIndex()
    for position, document in enumerate(described):
        index.add(document, position)
    for _place, entry in entries:
        if index.find(entry) is None:
            index.add(entry, len(described))
            described.append(entry)
            listings.append([])
    for place, listing, before in loose:
        target = _owner(listing, index, len(described), before)
        if target is None:
            named = listing.get("Name") or listing.get("ARN")
            raise UnreadableInput(
                f"{place} is list-secret-version-ids output"
                + (
                    f" for {named}, but no describe-secret output of that secret was given"
                    if described and named
                    else " only; diagnose also needs the secret's describe-secret output, in "
                    "the same file or another one"
                )
                + ". "
                + SAVE_HINT
            )
        listings[target].append(listing)
    pairs = [
        (document, _merge_listings(found) if found else None)
        for document, found in zip(described, listings, strict=True)
    ]
    evidence.secrets = _choose(pairs, secret, from_list=bool(entries))
    return evidence


def _list_entries(place: str, document: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for number, entry in enumerate(document["SecretList"], 1):
        if not isinstance(entry, dict):
            raise UnreadableInput(
                f"{place}: entry {number} of SecretList is {kind_of(entry)}, not a secret "
                f"(a JSON object). {SAVE_HINT}"
            )
        require_describe(entry, f"{place}, entry {number} of SecretList")
        found.append((place, entry))
    return found


class _SecretIndex:
    """The position of each secret by its ARN and by its name (the first document that has it)."""

    def __init__(self) -> None:
        self.arns: dict[str, int] = {}
        self.names: dict[str, int] = {}

    def add(self, document: Mapping[str, Any], position: int) -> None:
        arn, name = document.get("ARN"), document.get("Name")
        if isinstance(arn, str) and arn:
            self.arns.setdefault(arn, position)
        if isinstance(name, str) and name:
            self.names.setdefault(name, position)

    def find(self, document: Mapping[str, Any]) -> int | None:
        arn, name = document.get("ARN"), document.get("Name")
        found = [
            table[key]
            for table, key in ((self.arns, arn), (self.names, name))
            if isinstance(key, str) and key in table
        ]
        return min(found) if found else None


def _choose(
    pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any] | None]],
    secret: str | None,
    *,
    from_list: bool,
) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """The secrets to diagnose: the one ``secret`` names, or all, or ask which one."""
    names = [str(d.get("Name") or d.get("ARN")) for d, _ in pairs]
    if secret is not None:
        chosen = [(d, v) for d, v in pairs if secret in (d.get("Name"), d.get("ARN"))] or [
            (d, v) for d, v in pairs if str(d.get("ARN") or "").startswith(secret + "-")
        ]
        if not chosen:
            raise UnreadableInput(
                f"no secret named {secret} in the files; they hold: {_some(names)}."
            )
        return chosen
    if not pairs:
        raise UnreadableInput(
            "the files hold no describe-secret or list-secrets output, only logs or CloudTrail "
            f"events; diagnose needs the secret's state too. {SAVE_HINT}"
        )
    if from_list and len(pairs) > 1:
        raise UnreadableInput(
            f"the files describe {len(pairs)} secrets ({_some(names)}): say which one with "
            "--secret NAME."
        )
    return list(pairs)


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def _owner(listing: Mapping[str, Any], index: _SecretIndex, count: int, before: int) -> int | None:
    """The index of the describe-secret document a listing belongs to."""
    arn, name = listing.get("ARN"), listing.get("Name")
    if not arn and not name:
        if before:
            return before - 1
        return 0 if count == 1 else None
    return index.find(listing)


def _merge_listings(listings: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    """Pages of list-secret-version-ids output saved one by one, as one listing."""
    listings = list(listings)
    if len(listings) == 1:
        return listings[0]
    merged: dict[str, Any] = {k: v for k, v in listings[0].items() if k != "Versions"}
    seen: dict[str, Any] = {}
    for listing in listings:
        for entry in listing["Versions"]:
            if isinstance(entry, Mapping):
                seen.setdefault(str(entry.get("VersionId")), entry)
    merged["Versions"] = list(seen.values())
    merged.pop("NextToken", None)
    if listings[-1].get("NextToken"):
        merged["NextToken"] = listings[-1]["NextToken"]
    return merged
