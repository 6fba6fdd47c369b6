"""Masking what looks like a value of the secret in a quoted log line.

A rotation function's log may print the secret (a dict, a JSON document, a connection string, an
``ALTER USER ... PASSWORD '...'`` statement). Before diagnose quotes a line, every such value is
replaced by ``****``. Keys stay, since they are what a diagnosis needs ("the secret's JSON lacks
``host``"); so do the few fields that name things rather than hold credentials.
"""

from __future__ import annotations

import re

MASK = "****"

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
# 'key': 123 (numbers and bare words in a dict or JSON object).
_BARE_PAIR = re.compile(
    r"""(?P<key>(?P<kq>['"])(?P<name>[^'"\\]{1,80})(?P=kq)\s*:\s*)(?P<value>[^\s,'"{}\[\]]+)"""
)
# password=value, PWD=value, secret: value, token=value (a colon needs a space after it, so that
# an ARN's "secret:NAME" stays)
_ASSIGNMENT = re.compile(
    r"(?i)\b(?P<key>(?:[a-z_]*pass(?:word|wd)?|pwd|secret(?:_?string)?|token|api_?key|"
    r"private_?key)(?:\s*=\s*|\s*:\s+))(?P<value>'[^']*'|\"[^\"]*\"|[^\s,;&)'\"]+)"
)
# scheme://user:password@host
_URL_PASSWORD = re.compile(r"(?P<key>://[^:/@\s]+:)(?P<value>[^@\s]+)(?=@)")
# ALTER USER x WITH PASSWORD 'value' / IDENTIFIED BY 'value' / PASSWORD = 'value'
_SQL_PASSWORD = re.compile(
    r"(?i)(?P<key>\b(?:password|identified\s+by)\s*=?\s*)(?P<value>'(?:''|[^'])*'|\"[^\"]*\")"
)


def mask_values(line: str) -> str:
    """The line with every value that may belong to the secret replaced by ``****``."""

    def pair(match: re.Match[str]) -> str:
        if match.group("name") in _SHOWN_KEYS:
            return match.group(0)
        quote = match.groupdict().get("vq") or ""
        return f"{match.group('key')}{quote}{MASK}{quote}"

    line = _QUOTED_PAIR.sub(pair, line)
    line = _BARE_PAIR.sub(pair, line)
    line = _SQL_PASSWORD.sub(lambda m: f"{m.group('key')}'{MASK}'", line)
    line = _URL_PASSWORD.sub(lambda m: f"{m.group('key')}{MASK}", line)
    line = _ASSIGNMENT.sub(_assignment, line)
    return line


def _assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    if MASK in value:
        return match.group(0)
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('key')}{quote}{MASK}{quote}"
