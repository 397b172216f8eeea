"""Prometheus exposition of one engine: this process's counters and the database's gauges.

One ``CollectorRegistry`` per engine (tests run many engines in one process; the client's global
registry would mix them). Both sources are read when something scrapes: the counters are plain
numbers (``counters.py``), the gauges one query (``Store.gauges``). Label values are state
machine names, statuses, task resources, buses and rules: bounded by the definitions and rules,
never execution names or ARNs.
"""
from __future__ import annotations

import logging
from typing import Callable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily,
                                    Metric)
from prometheus_client.registry import Collector

from engine.errors import StoreError
from engine.observability.counters import Counters

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
PREFIX = "stepstone_"
GAUGES = {  # Store.gauges' names -> help
    "queue_depth": "Work items due now that no worker leases (executions ready to move)",
    "due_timers": "Work items due later: Wait states, retry back-off, task timeouts and "
                  "re-dispatch deadlines of tasks in flight",
    "work_items_leased": "Work items a worker is advancing right now",
    "executions_running": "Executions RUNNING (one work item each)",
    "waiting_task_tokens": "Task tokens handed out and not yet answered (callbacks, activities)",
    "events_pending": "Bus events with a delivery still to attempt",
}


class EngineCollector(Collector):
    """Yields the counters of ``counters`` and the gauges ``gauges()`` reads, at each scrape."""

    def __init__(self, counters: Counters, gauges: Callable[[], dict[str, int]]):
        self.counters = counters
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        yield from self._counters(self.counters.snapshot())
        yield from self._gauges()

    def _counters(self, counted: dict) -> Iterator[Metric]:
        yield _counter("executions_started", "Executions started", ["state_machine"],
                       counted["started"])
        yield _counter("executions_finished", "Executions that ended, by final status",
                       ["state_machine", "status"], counted["finished"])
        yield _counter("state_transitions", "States entered (AWS's billed transitions)",
                       ["state_machine"], counted["transitions"])
        yield _counter("event_deliveries", "Bus event delivery attempts recorded, by outcome "
                       "(delivered, retrying, dead)", ["bus", "rule", "outcome"],
                       counted["deliveries"])
        histogram = HistogramMetricFamily(
            f"{PREFIX}task_duration_seconds",
            "Task handler latency: from handing the command out to its answer", labels=["resource"])
        for labels, (buckets, total) in counted["task_durations"].items():
            histogram.add_metric(list(labels), buckets, total)
        yield histogram

    def _gauges(self) -> Iterator[Metric]:
        try:
            values = self.gauges()
        except StoreError as error:  # the scrape still answers; the gauges are left out
            logger.warning("could not read the gauges for /metrics: %s", error)
            return
        for name, help_text in GAUGES.items():
            yield GaugeMetricFamily(f"{PREFIX}{name}", help_text, value=values.get(name, 0))


def _counter(name: str, help_text: str, labels: list[str], counted: dict) -> CounterMetricFamily:
    family = CounterMetricFamily(f"{PREFIX}{name}", help_text, labels=labels)
    for values, count in counted.items():
        family.add_metric(list(values), count)
    return family


class Metrics:
    """An engine's registry: its collector plus the process's CPU, memory and file handles."""

    content_type = CONTENT_TYPE

    def __init__(self, counters: Counters, gauges: Callable[[], dict[str, int]]):
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(EngineCollector(counters, gauges))
        ProcessCollector(registry=self.registry)

    def render(self) -> bytes:
        """The text exposition format, as ``GET /metrics`` answers it."""
        return generate_latest(self.registry)
