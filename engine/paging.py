"""Page sizes of the List* and history calls, checked as AWS checks ``maxResults``, and reading
every page of one."""
from __future__ import annotations

from typing import Callable

from engine import errors

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def page_size(max_results: int | None) -> int:
    if not max_results:
        return DEFAULT_PAGE
    if not 0 < max_results <= MAX_PAGE:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_PAGE}")
    return max_results


def all_pages(call: Callable[..., dict], key: str, limit: int | None = None) -> list[dict]:
    """The ``key`` items of every page ``call`` answers (``call(next_token=...)`` after the first
    page), or of as many pages as hold ``limit`` items."""
    items: list[dict] = []
    token = None
    while True:
        page = call(next_token=token) if token else call()
        items.extend(page[key])
        token = page.get("nextToken")
        if not token or (limit is not None and len(items) >= limit):
            return items if limit is None else items[:limit]
