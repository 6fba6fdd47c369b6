"""Masking what looks like a credential in a quoted log line.

A rotation function's log may print the secret: a dict or JSON document (every field but those
that name things, nested ones included), a connection string's user-info
(``postgres://app:VALUE@db``), an ``ALTER USER ... PASSWORD 'VALUE'`` statement, the value after
a word such as password, secret, token or api key (``password VALUE``, ``token: VALUE``), a
``KeyError`` whose literal is a value rather than a key's name. Before diagnose quotes a line,
every such value is replaced by ``****``, and :func:`mask_quote` says ``(masked)`` once at the end
of the line. Keys stay, since they are what a diagnosis needs ("the secret's JSON lacks
``host``"); so do the few fields that name things rather than hold credentials.
"""

from __future__ import annotations

import re

MASK = "****"
#: Said once at the end of a quoted line in which something was masked.
MASKED_NOTE = "(masked)"

#: Fields of a database secret that name things and are safe, and useful, to show.
_SHOWN_KEYS = frozenset(
    {
        "engine",
        "host",
        "port",
        "dbname",
        "username",
        "user",
        "masterarn",
        "dbClusterIdentifier",
        "dbInstanceIdentifier",
        "Step",
        "SecretId",
        "ClientRequestToken",
        "VersionId",
        "ARN",
        "Name",
        # The fields of a PostgreSQL error as pg8000 prints it: severity, code, message, ...
        *("S", "V", "C", "M", "D", "H", "F", "L", "R", "P", "W"),
    }
)

# 'key': 'value' or "key": "value" (a Python dict or a JSON object printed in the line).
_QUOTED_PAIR = re.compile(
    r"""(?P<key>(?P<kq>['"])(?P<name>[^'"\\]{1,80})(?P=kq)\s*:\s*)"""
    r"""(?P<vq>['"])(?P<value>(?:\\.|(?!(?P=vq)).)*)(?P=vq)"""
)
# 'key': 123 (numbers and bare words in a dict or JSON object: after '{' or ',', not in prose
# such as "Unable to import module 'x': No module named ...").
_BARE_PAIR = re.compile(
    r"""(?m)(?P<key>(?:(?<=[{,])|(?<=[{,]\s)|^)\s*(?P<kq>['"])(?P<name>[^'"\\]{1,80})(?P=kq)\s*:\s*)(?P<value>[^\s,'"{}\[\]]+)"""
)
# password=value, PWD=value, secret: value, token=value (a colon needs a space after it, so that
# an ARN's "secret:NAME" stays)
_ASSIGNMENT = re.compile(
    r"(?i)\b(?P<key>(?:[a-z_]*pass(?:word|wd)?|pwd|secret(?:_?string)?|token|api_?key|"
    r"private_?key)(?:\s*=\s*|\s*:\s+))(?P<value>'[^']*'|\"[^\"]*\"|[^\s,;&)'\"]+)"
)
# scheme://user:password@host
_URL_PASSWORD = re.compile(r"(?P<key>://[^:/@\s]*:)(?P<value>[^@\s/]+)(?=@)")
# ALTER USER x WITH PASSWORD 'value' / IDENTIFIED BY 'value' / PASSWORD = 'value' (not the key
# of a quoted pair: "password": "...")
_SQL_PASSWORD = re.compile(
    r"(?i)(?<![\w'\"])(?P<key>(?:password|identified\s+by)(?:\s*=\s*|\s+))"
    r"(?P<value>'(?:''|[^'])*'|\"[^\"]*\")"
)
# password VALUE, token is VALUE, api key: VALUE, Bearer VALUE: a word, then what follows it.
_AFTER_WORD = re.compile(
    r"(?i)(?<![\w-])(?P<key>(?:password|passwd|pwd|secret|token|(?:api|access|secret|private)"
    r"[ _-]?key|bearer)(?:\s+(?:is|was|of|=|:)|\s*[=:])?\s+)(?P<value>[^\s,;'\"()\[\]{}]{4,})"
)
# KeyError: 'literal' (Python prints the missing key, which is a value when code indexed by one).
_KEY_ERROR = re.compile(r"(?P<key>KeyError:\s*)(?P<q>['\"])(?P<value>(?:(?!(?P=q)).)*)(?P=q)")
# A key's name (engine, masterarn, dbClusterIdentifier), or words of a sentence when it has spaces.
_KEY_NAME = re.compile(r"[A-Za-z_]{1,64}")
_SENTENCE = re.compile(r"[A-Za-z_][A-Za-z_ .,:-]{0,300}")
# Words that follow "password", "secret" or "token" in ordinary log sentences.
_ORDINARY = re.compile(r"[a-z]{1,14}|[A-Z][a-z]+|[A-Z]{1,5}|arn:\S*|\*+|https?://\S*")


def mask_values(line: str) -> str:
    """The line with every value that may belong to the secret replaced by ``****``."""

    def pair(match: re.Match[str]) -> str:
        if match.group("name") in _SHOWN_KEYS:
            return match.group(0)
        quote = match.groupdict().get("vq") or ""
        return f"{match.group('key')}{quote}{MASK}{quote}"

    line = _KEY_ERROR.sub(_key_error, line)
    line = _QUOTED_PAIR.sub(pair, line)
    line = _BARE_PAIR.sub(pair, line)
    line = _SQL_PASSWORD.sub(lambda m: f"{m.group('key')}'{MASK}'", line)
    line = _URL_PASSWORD.sub(lambda m: f"{m.group('key')}{MASK}", line)
    line = _ASSIGNMENT.sub(_assignment, line)
    line = _AFTER_WORD.sub(_after_word, line)
    return line


def mask_quote(line: str) -> str:
    """The line masked as :func:`mask_values` does, ending with ``(masked)`` once when anything
    in it was masked."""
    masked = mask_values(line)
    return masked if masked == line else f"{masked} {MASKED_NOTE}"


def is_key_name(literal: str) -> bool:
    """Whether a quoted literal (a KeyError's) reads as a key's name rather than a value."""
    if _KEY_NAME.fullmatch(literal):
        return True
    return " " in literal and bool(_SENTENCE.fullmatch(literal))


def _key_error(match: re.Match[str]) -> str:
    if is_key_name(match.group("value")):
        return match.group(0)
    quote = match.group("q")
    return f"{match.group('key')}{quote}{MASK}{quote}"


def _after_word(match: re.Match[str]) -> str:
    value = match.group("value").rstrip(".")
    if MASK in value or _ORDINARY.fullmatch(value):
        return match.group(0)
    return f"{match.group('key')}{MASK}" + match.group("value")[len(value) :]


def _assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    if MASK in value:
        return match.group(0)
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('key')}{quote}{MASK}{quote}"
