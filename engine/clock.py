"""The only place Stepstone reads the wall clock (tests and virtual time pass their own)."""
from __future__ import annotations

import time


class Clock:
    """Wall-clock time as float epoch seconds."""

    def now(self) -> float:
        return time.time()


class FakeClock(Clock):
    """A clock that moves only when told: ``advance(seconds)`` or ``set(epoch)``."""

    def __init__(self, start: float = 1_700_000_000.0):
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, epoch: float) -> None:
        self._now = epoch
