"""The secrets a contract scenario starts from: the rotated one and any extra ones it refers to.

AWS's multi-user templates read a second secret (the master credentials) named by ARN inside the
rotated secret. ARNs end in a random suffix nobody can write in advance, so a value may say
``{arn:NAME}`` and gets the ARN of secret NAME once that secret exists; secrets are created in an
order that makes every reference resolvable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

ARN_REFERENCE = re.compile(r"\{arn:([^{}]+)\}")

#: An initial secret: a JSON object (as a dict) or a plain string.
SecretValue = Mapping[str, Any] | str


class SecretSetupError(ValueError):
    """The secrets given cannot be created as written; the message says what to fix."""


def as_text(value: SecretValue) -> str:
    """The SecretString a value is stored as."""
    return value if isinstance(value, str) else json.dumps(dict(value))


def as_value(text: str, like: SecretValue) -> SecretValue:
    """The value setup and probe receive: a dict when the secret was given as an object."""
    if isinstance(like, str):
        return text
    parsed = json.loads(text)
    return dict(parsed) if isinstance(parsed, dict) else text


def references(text: str) -> list[str]:
    return ARN_REFERENCE.findall(text)


def substitute(text: str, arns: Mapping[str, str]) -> str:
    """Replace every ``{arn:NAME}`` with the ARN of secret NAME."""
    return ARN_REFERENCE.sub(lambda match: arns[match.group(1)], text)


def creation_order(texts: Mapping[str, str]) -> list[str]:
    """Secret names in an order where each secret is created after those it refers to."""
    for name, text in texts.items():
        unknown = sorted(set(references(text)) - set(texts))
        if unknown:
            raise SecretSetupError(
                f"the value of secret {name!r} refers to {', '.join(f'{{arn:{u}}}' for u in unknown)}, "
                f"but no such secret is given; known secrets: {', '.join(sorted(texts))}. "
                "Add it with --extra-secret NAME=JSON."
            )
    order: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name) :], name])
            raise SecretSetupError(
                f"the secrets refer to each other's ARNs in a circle ({cycle}): one of them must "
                "be created first, so it cannot refer to the others."
            )
        visiting.append(name)
        for referred in references(texts[name]):
            visit(referred)
        visiting.pop()
        order.append(name)

    for name in texts:
        visit(name)
    return order
