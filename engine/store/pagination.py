"""Keyset pagination: the cursor is the sort key of the last row, opaque to callers."""
from __future__ import annotations

import base64
import binascii
from typing import Any, Callable

from engine.errors import InvalidToken
from engine.store.codec import dumps, loads


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(dumps(key).encode()).decode()


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort key inside ``cursor``; InvalidToken when it is not one of ours."""
    try:
        key = loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise InvalidToken(f"Invalid pagination token {cursor!r}: pass a nextToken "
                           "returned by the previous call") from error
    if not isinstance(key, list) or len(key) != size:
        raise InvalidToken(f"Invalid pagination token {cursor!r}: pass a nextToken "
                           "returned by the previous call")
    return key


def page(rows: list[dict], limit: int,
         key: Callable[[dict], list[Any]]) -> tuple[list[dict], str | None]:
    """Cut ``rows`` (fetched with limit + 1) to ``limit`` and say where the next page starts."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(key(rows[-1]))
