"""Engine.start() runs the configured broker sources into publish_events; stop() ends them."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from engine import Engine
from engine.settings import MEMORY_DB, from_environment
from sources_support import REDIS_URL, SqliteSink, require, unique, wait_until


@pytest.fixture
def stream():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    require("Redis", REDIS_URL, client.ping)
    name = unique("stepstone-engine")
    yield client, name
    client.delete(name)


def test_the_engine_runs_its_sources_into_publish_events(stream, tmp_path):
    client, name = stream
    sources = tmp_path / "s.sources.yaml"
    sources.write_text(json.dumps([{"type": "redis-stream", "url": REDIS_URL, "stream": name, "group": "g",
                                    "bus": "orders", "source": "shop", "detail-type": "Placed",
                                    "block-seconds": 0.2}]))
    engine = Engine(settings=from_environment().with_flags(db_url=MEMORY_DB, sources=str(sources),
                                                           account="111122223333", region="eu-west-1"))
    sink = SqliteSink(tmp_path / "sink.db")
    buses = []

    def publish_events(events, event_bus_name="default"):  # stands in for the bus's
        buses.append(event_bus_name)
        sink(events)
    engine.publish_events = publish_events
    client.xadd(name, {"body": json.dumps({"orderId": "o-1"})})
    with engine:
        engine.start(1)
        wait_until(lambda: len(sink.events()) == 1, what="the event published")
        wait_until(lambda: client.xpending(name, "g")["pending"] == 0, what="acknowledged")
        running = engine._sources.consumers
        engine.stop()
        assert engine._sources is None and not any(c.alive for c in running)
    stored, = sink.events()
    assert (stored["account"], stored["region"], stored["detail"]) == \
        ("111122223333", "eu-west-1", {"orderId": "o-1"})
    assert buses == ["orders"] and "event-bus-name" not in stored  # the bus is an argument


def test_without_sources_the_engine_starts_none():
    with Engine.in_memory() as engine:
        engine.start(1)
        assert engine._sources is None


def test_stepstone_worker_reads_its_sources_and_stops_on_sigterm(stream, tmp_path):
    client, name = stream
    entry_id = client.xadd(name, {"body": json.dumps({"orderId": "o-2"})})
    sources = tmp_path / "w.sources.yaml"
    sources.write_text(json.dumps({"sources": [{
        "type": "redis-stream", "url": REDIS_URL, "stream": name, "group": "g", "consumer": "worker-1",
        "bus": "orders", "source": "shop", "detail-type": "Placed", "block-seconds": 0.2}]}))
    repo = Path(__file__).resolve().parents[2]
    worker = subprocess.Popen([sys.executable, "-m", "engine", "worker", "--db",
                               f"sqlite:///{tmp_path / 'w.db'}", "--sources", str(sources)],
                              cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # the source read the entry (whether the bus stored it is the bus's business)
        wait_until(lambda: _last_delivered(client, name) == entry_id, timeout=30, what="the entry read")
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
    assert code == 0, worker.stderr.read()


def _last_delivered(client, name: str):
    groups = client.xinfo_groups(name) if client.exists(name) else []
    return groups[0]["last-delivered-id"] if groups else None
