"""Counters and histograms kept as plain numbers in this process; nothing here imports
prometheus_client.

The executor adds to them once per round, under one lock, so counting costs a few dictionary
updates however many executions a round moved; ``metrics.py`` turns them into Prometheus
samples only when something scrapes. ``stepstone run`` never imports the client (~60 ms).
"""
from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

# seconds: from a millisecond handler to Lambda's 15-minute limit
TASK_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                         10.0, 30.0, 60.0, 300.0, 900.0)


@dataclass
class Histogram:
    """Observations of one label set: a count per bucket (not cumulative) and their sum."""
    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0

    def __post_init__(self) -> None:
        self.counts = self.counts or [0] * (len(self.bounds) + 1)  # the last one is +Inf

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, int]]:
        """Prometheus' buckets: (upper bound, observations at or below it), +Inf last."""
        running, buckets = 0, []
        for bound, count in zip([*map(str, self.bounds), "+Inf"], self.counts):
            running += count
            buckets.append((bound, running))
        return buckets


class Counters:
    """Everything this process counted, by label values; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: dict[tuple[str], int] = {}  # (state machine,)
        self.finished: dict[tuple[str, str], int] = {}  # (state machine, status)
        self.transitions: dict[tuple[str], int] = {}  # (state machine,)
        self.deliveries: dict[tuple[str, str, str], int] = {}  # (bus, rule, outcome)
        self.task_durations: dict[tuple[str], Histogram] = {}  # (resource,)

    def add(self, counts: dict[tuple, int], labels: tuple, amount: int = 1) -> None:
        """Add to one of this object's counters; the caller holds ``lock``."""
        counts[labels] = counts.get(labels, 0) + amount

    def delivery(self, bus: str, rule: str, outcome: str) -> None:
        with self.lock:
            self.add(self.deliveries, (bus, rule, outcome))

    def task_duration(self, resource: str, seconds: float) -> None:
        with self.lock:
            histogram = self.task_durations.get((resource,))
            if histogram is None:
                histogram = self.task_durations[(resource,)] = Histogram(TASK_DURATION_BUCKETS)
            histogram.observe(seconds)

    def snapshot(self) -> dict[str, dict]:
        """A consistent copy of every counter (for one scrape)."""
        with self.lock:
            return {"started": dict(self.started), "finished": dict(self.finished),
                    "transitions": dict(self.transitions), "deliveries": dict(self.deliveries),
                    "task_durations": {labels: (h.cumulative(), h.total)
                                       for labels, h in self.task_durations.items()}}
