"""Reading saved output from files and standard input into describe-secret/listing pairs.

It decodes the text (UTF-8, or the UTF-16 PowerShell writes), splits JSON documents saved back to
back, and decides which list-secret-version-ids document goes with which describe-secret one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .saved import (
    SAVE_COMMAND,
    SAVE_HINT,
    UnreadableInput,
    has_describe_fields,
    kind_of,
    require_describe,
)


def _decode(data: bytes) -> str:
    """The text of a saved file, in whichever encoding the shell wrote it."""
    # PowerShell's ">" writes UTF-16 with a byte-order mark.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def _read(source: str, stdin: IO[Any] | None) -> tuple[str, str]:
    """(label for messages, text) of one file, or of standard input for '-'."""
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin
        buffer = getattr(stream, "buffer", None)
        raw = buffer.read() if buffer is not None else stream.read()
        where = "standard input"
    else:
        where = source
        try:
            raw = Path(source).read_bytes()
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
        documents.append(document)
    if not documents:
        raise UnreadableInput(
            f"{where} is empty: did the aws command fail? Its error goes to the terminal, not "
            f"to the file. {SAVE_HINT}"
        )
    return documents


def read_saved_states(
    files: Sequence[str], *, stdin: IO[Any] | None = None
) -> list[tuple[Mapping[str, Any], Mapping[str, Any] | None]]:
    """Read the files ('-' for standard input) into (describe-secret, list-versions) pairs.

    A list-secret-version-ids document goes with the describe-secret document of the same secret,
    wherever it comes; one that names no secret goes with the describe-secret document before
    it. Raises UnreadableInput.
    """
    described: list[dict[str, Any]] = []
    listings: list[list[Mapping[str, Any]]] = []
    # (where, document, how many describe-secret documents came before it)
    loose: list[tuple[str, dict[str, Any], int]] = []
    for source in files:
        where, text = _read(source, stdin)
        documents = _documents(where, text)
        for number, document in enumerate(documents, 1):
            place = where if len(documents) == 1 else f"{where} (JSON document {number})"
            if not isinstance(document, dict):
                raise UnreadableInput(
                    f"{place} is {kind_of(document)}, not describe-secret output (a JSON "
                    f"object). {SAVE_HINT}"
                )
            is_listing = isinstance(document.get("Versions"), list)
            if is_listing and not has_describe_fields(document):
                loose.append((place, document, len(described)))
                continue
            require_describe(document, place)
            described.append(document)
            listings.append([document] if is_listing else [])
    for place, listing, before in loose:
        target = _owner(listing, described, before)
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
    return [
        (document, _merge_listings(found) if found else None)
        for document, found in zip(described, listings, strict=True)
    ]


def _owner(listing: Mapping[str, Any], described: list[dict[str, Any]], before: int) -> int | None:
    """The index of the describe-secret document a listing belongs to."""
    arn, name = listing.get("ARN"), listing.get("Name")
    if not arn and not name:
        if before:
            return before - 1
        return 0 if len(described) == 1 else None
    for index, document in enumerate(described):
        if (arn and document.get("ARN") == arn) or (name and document.get("Name") == name):
            return index
    return None


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
