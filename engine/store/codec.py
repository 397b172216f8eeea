"""JSON in and out of the database: dicts go in, dicts come out.

JSON is stored as TEXT on every dialect so that SQLite and PostgreSQL behave alike and the
(de)serialisation stays in our hands: compact separators keep rows small and dumps fast.
"""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads


def dumps(value: Any) -> str:
    return _dumps(value)


def loads(text: str) -> Any:
    return _loads(text)


class JsonText(sa.types.TypeDecorator):
    """A TEXT column holding one JSON document; NULL stays None."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else _dumps(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else _loads(value)
