"""Values from the command line, checked as AWS would check them, before anything runs.

Each check returns the value or raises ValueError with a one-line message that says what was
expected and what was given; it never quotes a secret value.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: AWS's rules for a secret's name: 1 to 512 of these characters.
SECRET_NAME_CHARACTERS = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
#: AWS's quota on a secret value, in bytes (UTF-8).
MAX_SECRET_BYTES = 65_536
#: How deeply a secret's JSON may nest (real credentials nest a level or two).
MAX_JSON_DEPTH = 64


def port(value: int) -> int:
    """A TCP port to listen on: 1-65535, or 0 for a free one."""
    if not 0 <= value <= 65535:
        raise ValueError(f"--port must be within 1..65535 (or 0 for a free port), got {value}.")
    return value


def secret_name(name: str, option: str = "--secret-name") -> str:
    if not SECRET_NAME_CHARACTERS.match(name):
        what = "an empty name" if not name else f"{name!r}"
        raise ValueError(
            f"{option} must be 1 to 512 characters among letters, digits and /_+=.@- as AWS "
            f"requires, got {what}."
        )
    return name


def secret_json(text: str, option: str = "--secret") -> Any:
    """The JSON of a secret value: an object or a string, as AWS would store it."""
    _require_text(text, option)
    if len(text.encode("utf-8")) > MAX_SECRET_BYTES:
        raise ValueError(
            f"{option} is {len(text.encode('utf-8'))} bytes; AWS stores at most "
            f"{MAX_SECRET_BYTES} bytes in a secret value."
        )
    depth = _nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(
            f"{option} nests {depth} levels deep; at most {MAX_JSON_DEPTH} are accepted."
        )
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(
            f'{option} must be JSON: an object such as \'{{"username": "app", "password": "x"}}\' '
            f"or a JSON string such as '\"token-123\"' ({error})."
        ) from None
    if not isinstance(value, (dict, str)):
        raise ValueError(
            f"{option} must be a JSON object or a JSON string, got {type(value).__name__}."
        )
    _require_strings_encodable(value, option)
    return value


def _require_text(text: str, option: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{option} is not valid UTF-8 text (it holds a lone surrogate or undecodable bytes); "
            "AWS accepts only UTF-8."
        ) from None


def _require_strings_encodable(value: Any, option: str) -> None:
    """A JSON escape such as \\ud800 decodes to a lone surrogate, which no UTF-8 text holds."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    f"{option} holds a lone surrogate (a \\ud800-style escape without its pair); "
                    "AWS accepts only text that is valid UTF-8."
                ) from None


def _nesting_depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings, without parsing (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
