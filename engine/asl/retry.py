"""Retry and Catch matching, and the back-off as a pure function."""
from __future__ import annotations

from engine.asl import failures

# terminal errors: the wildcards never match them, only their own name does (AWS's error-handling
# guide: "a retry or catch on States.ALL won't catch States.Runtime errors")
_TERMINAL = {failures.RUNTIME, failures.DATA_LIMIT_EXCEEDED}


def matches(error_equals: list[str], error: str, by_task: bool = False) -> bool:
    """Does a retrier's or catcher's ErrorEquals match ``error``?

    ``by_task``: a task reported the error. States.DataLimitExceeded for a task's oversized
    result is then an ordinary task failure, as AWS records it; States.Runtime stays terminal.
    """
    if error in error_equals:
        return True
    if error in _TERMINAL and not (by_task and error == failures.DATA_LIMIT_EXCEEDED):
        return False
    if failures.ALL in error_equals:
        return True
    # States.TaskFailed matches every error name except States.Timeout
    return failures.TASK_FAILED in error_equals and error != failures.TIMEOUT


def find_retrier(retriers: list[dict], error: str, by_task: bool = False) -> int | None:
    for index, retrier in enumerate(retriers):
        if matches(retrier.get("ErrorEquals", []), error, by_task):
            return index
    return None


def find_catcher(catchers: list[dict], error: str, by_task: bool = False) -> dict | None:
    for catcher in catchers:
        if matches(catcher.get("ErrorEquals", []), error, by_task):
            return catcher
    return None


def delay_seconds(retrier: dict, attempt: int, random_unit: float = 1.0) -> float:
    """Seconds to wait before retry ``attempt`` (0-based) under ``retrier``.

    IntervalSeconds * BackoffRate**attempt, capped by MaxDelaySeconds; JitterStrategy FULL picks
    uniformly in [0, delay] using ``random_unit`` in [0, 1) supplied by the caller.
    """
    delay = float(retrier.get("IntervalSeconds", 1)) * float(retrier.get("BackoffRate", 2.0)) ** attempt
    cap = retrier.get("MaxDelaySeconds")
    if cap is not None:
        delay = min(delay, float(cap))
    if retrier.get("JitterStrategy") == "FULL":
        delay *= random_unit
    return delay


def attempts_left(retrier: dict, used: int) -> bool:
    return used < int(retrier.get("MaxAttempts", 3))
