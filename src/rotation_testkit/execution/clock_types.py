"""The fake clock's date and time types, made acceptable to libraries that build schemas.

While the clock runs, ``datetime.datetime`` and ``datetime.date`` are freezegun's subclasses. A
module imported then (a cold start, a library imported lazily) that declares a pydantic model with
a ``datetime`` field hands pydantic the subclass, which it does not know: AWS Lambda Powertools'
parser fails with ``PydanticSchemaGenerationError``. In Lambda the field is a plain ``datetime``;
here the subclasses tell pydantic to treat them as the types they stand for. Nothing is imported
until pydantic asks.
"""

from __future__ import annotations

from typing import Any

from freezegun import api as freezegun_api


def _datetime_schema(cls: type, source: Any, handler: Any) -> Any:
    from pydantic_core import core_schema

    return core_schema.datetime_schema()


def _date_schema(cls: type, source: Any, handler: Any) -> Any:
    from pydantic_core import core_schema

    return core_schema.date_schema()


def teach_schema_builders() -> None:
    """Give freezegun's types the hook pydantic (v2) looks for; idempotent."""
    fakes: list[tuple[Any, Any]] = [
        (freezegun_api.FakeDatetime, _datetime_schema),
        (freezegun_api.FakeDate, _date_schema),
    ]
    for fake, schema in fakes:
        if "__get_pydantic_core_schema__" not in vars(fake):
            fake.__get_pydantic_core_schema__ = classmethod(schema)
