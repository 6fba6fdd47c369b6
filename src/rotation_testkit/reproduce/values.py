"""The value each rebuilt version holds: the values given (by version id or staging label), and for
the others a placeholder shaped like a given value.

A placeholder keeps the given value's JSON keys and its readable fields (username, host, engine:
where the credential works), and replaces every credential field with a made-up one. A correct
rotator that also reads AWSPREVIOUS then finds the JSON it expects, not a string production never
had; a value without a key the rotator needs stays exactly as given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..diagnose.replay import placeholder_value
from ..diagnose.saved import AWSCURRENT, AWSPENDING, SavedSecret
from ..foundations import user_input
from ..foundations.masking import is_credential_field

__all__ = ["ReproduceError", "first_value", "parse_value_options", "version_values"]


class ReproduceError(ValueError):
    """The input cannot be reproduced as given; the message says what to change."""


def parse_value_options(pairs: list[str]) -> dict[str, str]:
    """``--value VERSION_OR_LABEL=JSON`` options, as SecretStrings by version id or label."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ReproduceError(
                "--value expects VERSION_OR_LABEL=JSON (the value given is not shown); for "
                'example --value \'AWSCURRENT={"username": "app", "password": "made-up"}\'.'
            )
        if key in values:
            raise ReproduceError(f"--value {key} is given twice.")
        try:
            value = user_input.secret_json(text, f"--value {key}")
        except ValueError as error:
            raise ReproduceError(str(error)) from None
        values[key] = value if isinstance(value, str) else json.dumps(value)
    return values


def _version_of(saved: SavedSecret, key: str) -> str | None:
    if key in saved.versions:
        return key
    return next((vid for vid, v in saved.versions.items() if key in v.labels), None)


def _model(saved: SavedSecret, given: Mapping[str, str]) -> dict[str, Any] | None:
    """The JSON object placeholders take their shape from: AWSCURRENT's value, else any."""
    ordered = sorted(given.items(), key=lambda item: _version_of(saved, item[0]) != _current(saved))
    for _key, text in ordered:
        try:
            parsed = json.loads(text)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def _current(saved: SavedSecret) -> str | None:
    return next((vid for vid, v in saved.versions.items() if AWSCURRENT in v.labels), None)


def shaped_placeholder(model: Mapping[str, Any] | None, version_id: str) -> str:
    """A made-up value for a version production's value of which is not known."""
    if model is None:
        return placeholder_value(version_id)
    shaped = {
        key: f"{placeholder_value(version_id)}-{key}" if is_credential_field(key) else value
        for key, value in model.items()
    }
    return json.dumps(shaped)


def first_value(saved: SavedSecret, given: Mapping[str, str]) -> str | None:
    """The value to store when the secret has no AWSCURRENT version (``AWSCURRENT=`` given)."""
    if _current(saved) is not None:
        return None
    if AWSCURRENT in given:
        return given[AWSCURRENT]
    model = _model(saved, given)
    return shaped_placeholder(model, "first-value") if model is not None else None


def version_values(saved: SavedSecret, given: Mapping[str, str]) -> dict[str, str]:
    """Every rebuilt version's value by version id; an empty placeholder gets none."""
    values: dict[str, str] = {}
    given = dict(given)
    if _current(saved) is None:
        given.pop(AWSCURRENT, None)  # the first value to store, not a version's
    for key, text in given.items():
        version_id = _version_of(saved, key)
        if version_id is None:
            known = ", ".join([*saved.versions, *_labels(saved)]) or "none"
            raise ReproduceError(
                f"--value names {key!r}, which is neither a version id nor a staging label of "
                f"the saved secret (known: {known})."
            )
        if values.get(version_id, text) != text:
            raise ReproduceError(f"--value gives version {version_id} two different values.")
        values[version_id] = text
    model = _model(saved, given)
    for version_id, version in saved.versions.items():
        if version_id in values:
            continue
        unfinished = AWSPENDING in version.labels and AWSCURRENT not in version.labels
        if unfinished and saved.has_value(version_id) is not True:
            continue  # the empty placeholder a rotation left, as production has it
        values[version_id] = shaped_placeholder(model, version_id)
    return values


def _labels(saved: SavedSecret) -> list[str]:
    return sorted({label for v in saved.versions.values() for label in v.labels})
