"""External brokers as event sources of the bus: Redis Streams and NATS JetStream.

Each configured source (see ``config``: the ``--sources`` / STEPSTONE_SOURCES file) runs in its own
thread, reads messages, turns them into complete bus events (``mapping``: pure functions) and hands
them to a sink, ``Engine.publish_events``. A message is acknowledged to its broker only after the
sink returned, so delivery is at least once; an event's id is derived from the broker's identity of
the message, so a redelivered message is the same event and the bus stores it once.

    sources = start_sources(load_file("order-events.sources.yaml"), bus_sink(engine.publish_events),
                            account="123456789012", region="us-east-1")
    ...
    sources.stop()  # each source finishes its batch in flight, then stops

The broker libraries (``redis``, ``nats-py``) are imported only when a source of their kind starts.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.eventbus.sources.config import (NatsJetStreamSource, RedisStreamSource, SourceConfig,
                                            SourcesFileError, load_file)
from engine.eventbus.sources.mapping import BUS_KEY
from engine.eventbus.sources.runner import Sink, SourceThread

__all__ = ["Sources", "Sink", "SourcesFileError", "bus_sink", "load_file", "start_sources", "consumer"]


class Sources:
    """Running sources; ``stop()`` asks all to stop, then waits for each one's batch in flight."""

    def __init__(self, consumers: list[SourceThread]):
        self.consumers = consumers

    def stop(self) -> None:
        for running in self.consumers:
            running.request_stop()
        for running in self.consumers:
            running.join()


def bus_sink(publish_events: Callable[[list[dict], str], Any]) -> Sink:
    """The sink over ``Engine.publish_events(events, event_bus_name)``: one call per bus of the
    batch (a source has one bus), each event without its ``event-bus-name`` key."""
    def sink(events: list[dict]) -> None:
        by_bus: dict[str, list[dict]] = {}
        for event in events:
            by_bus.setdefault(event[BUS_KEY], []).append({k: v for k, v in event.items() if k != BUS_KEY})
        for bus, batch in by_bus.items():
            publish_events(batch, bus)
    return sink


def consumer(config: SourceConfig, sink: Sink, *, account: str, region: str) -> SourceThread:
    """The (not yet started) consumer of one configured source."""
    if isinstance(config, RedisStreamSource):
        from engine.eventbus.sources.redis_streams import RedisStreamConsumer
        return RedisStreamConsumer(config, sink, account=account, region=region)
    if isinstance(config, NatsJetStreamSource):
        from engine.eventbus.sources.nats_jetstream import NatsJetStreamConsumer
        return NatsJetStreamConsumer(config, sink, account=account, region=region)
    raise TypeError(f"not a source configuration: {config!r}")


def start_sources(configs: list[SourceConfig], sink: Sink, *, account: str, region: str) -> Sources:
    consumers = [consumer(c, sink, account=account, region=region) for c in configs]
    for each in consumers:
        each.start()
    return Sources(consumers)
