"""Page sizes of the List* and history calls, checked as AWS checks ``maxResults``."""
from __future__ import annotations

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
