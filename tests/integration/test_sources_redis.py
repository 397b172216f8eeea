"""Redis Streams as an event source, against the real Redis: at least once, stored once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from engine.eventbus.sources import config, consumer, mapping
from sources_support import REDIS_URL, SqliteSink, TcpProxy, require, unique, wait_until

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@pytest.fixture(scope="module")
def client() -> redis.Redis:
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    require("Redis", REDIS_URL, connection.ping)
    return connection


@pytest.fixture
def stream(client):
    name = unique("stepstone-test")
    yield name
    client.delete(name, f"{name}-dead")


def entry(stream: str, **fields) -> dict:
    return {"type": "redis-stream", "url": REDIS_URL, "stream": stream, "group": "g",
            "consumer": "c1", "bus": "orders", "source": "shop.orders", "detail-type": "OrderPlaced",
            "block-seconds": 0.2, **fields}


def running(sink, **fields):
    source = consumer(config.parse([fields])[0], sink, account="123456789012", region="us-east-1")
    return source.start()


def publish(client, stream: str, count: int) -> list[str]:
    return [client.xadd(stream, {"body": json.dumps({"n": n})}).decode() for n in range(count)]


def pending(client, stream: str) -> dict:
    return client.xpending(stream, "g")


def test_every_message_becomes_one_event_with_the_id_of_its_entry(client, stream, tmp_path):
    # Given 25 entries, read in batches of 10
    ids = publish(client, stream, 25)
    sink = SqliteSink(tmp_path / "sink.db")
    # When a consumer runs
    source = running(sink, **entry(stream, batch=10))
    try:
        wait_until(lambda: len(sink.events()) == 25, what="25 events")
        wait_until(lambda: pending(client, stream)["pending"] == 0, what="every entry acknowledged")
    finally:
        source.stop()
    # Then each entry became one event, delivered once, with the id derived from its entry id
    events = sink.events()
    assert [e["id"] for e in events] == [mapping.redis_event_id("orders", stream, i) for i in ids]
    assert [e["detail"] for e in events] == [{"n": n} for n in range(25)]
    assert set(sink.stored_deliveries().values()) == {1}
    assert events[0]["event-bus-name"] == "orders" and events[0]["source"] == "shop.orders"


def test_a_failed_store_stays_pending_and_another_consumer_claims_it(client, stream, tmp_path):
    # Given a consumer whose sink always fails
    ids = publish(client, stream, 3)
    broken = SqliteSink(tmp_path / "broken.db", failures=10**6)
    first = running(broken, **entry(stream, consumer="dying"))
    try:
        wait_until(lambda: broken.calls >= 1, what="a failed store")
    finally:
        first.stop()
    # Then nothing was acknowledged: the entries are pending on that consumer
    assert pending(client, stream)["pending"] == 3
    assert pending(client, stream)["consumers"] == [{"name": b"dying", "pending": 3}]
    # When another consumer runs, with a short idle threshold
    sink = SqliteSink(tmp_path / "sink.db")
    second = running(sink, **entry(stream, consumer="rescuer", **{"claim-idle-seconds": 0.5}))
    try:
        wait_until(lambda: len(sink.events()) == 3, what="claimed entries stored")
        wait_until(lambda: pending(client, stream)["pending"] == 0, what="claimed entries acknowledged")
    finally:
        second.stop()
    # Then it claimed (XAUTOCLAIM) and stored them, with the same ids the failed attempt had
    assert [e["id"] for e in sink.events()] == [mapping.redis_event_id("orders", stream, i) for i in ids]
    assert set(broken.failed_deliveries()) == {e["id"] for e in sink.events()}


def test_the_same_consumer_retries_its_failed_store(client, stream, tmp_path):
    publish(client, stream, 4)
    sink = SqliteSink(tmp_path / "sink.db", failures=1)
    source = running(sink, **entry(stream, **{"claim-idle-seconds": 0.5}))
    try:
        wait_until(lambda: len(sink.events()) == 4, what="events stored after a failure")
        wait_until(lambda: pending(client, stream)["pending"] == 0, what="acknowledged")
    finally:
        source.stop()
    assert len(sink.failed_deliveries()) == 4
    assert set(sink.stored_deliveries().values()) == {1}


def test_an_entry_that_cannot_be_an_event_goes_to_the_dead_letter_stream(client, stream, tmp_path):
    client.xadd(stream, {"body": "not json"})
    client.xadd(stream, {"other": "{}"})
    good = client.xadd(stream, {"body": json.dumps({"source": "a.b", "detail-type": "T", "detail": {}})})
    sink = SqliteSink(tmp_path / "sink.db")
    source = running(sink, **entry(stream, **{"dead-letter-stream": f"{stream}-dead"}))
    try:
        wait_until(lambda: len(sink.events()) == 1, what="the good entry stored")
        wait_until(lambda: pending(client, stream)["pending"] == 0, what="all acknowledged")
    finally:
        source.stop()
    assert sink.events()[0]["id"] == mapping.redis_event_id("orders", stream, good.decode())
    dead = client.xrange(f"{stream}-dead")
    assert [fields.get(b"body") for _, fields in dead] == [b"not json", None]
    assert b"not JSON" in dead[0][1][b"stepstone-error"]
    assert b"no field 'body'" in dead[1][1][b"stepstone-error"]


def test_the_consumer_reconnects_after_an_outage(client, stream, tmp_path):
    # Given a consumer reaching Redis through a proxy
    target = redis.Redis.from_url(REDIS_URL).connection_pool.connection_kwargs
    proxy = TcpProxy(target["host"], target["port"])
    sink = SqliteSink(tmp_path / "sink.db")
    source = running(sink, **entry(stream, url=f"redis://127.0.0.1:{proxy.port}/{target.get('db', 0)}"))
    try:
        publish(client, stream, 2)
        wait_until(lambda: len(sink.events()) == 2, what="events before the outage")
        # When the connection drops and stays down, then comes back
        proxy.cut()
        client.xadd(stream, {"body": json.dumps({"n": "during"})})
        wait_until(lambda: source._failures >= 1, what="the consumer noticing the outage")
        proxy.restore()
        # Then the consumer reconnects and reads what came meanwhile
        wait_until(lambda: len(sink.events()) == 3, timeout=30, what="the event sent during the outage")
        assert source.alive
    finally:
        source.stop()
        proxy.close()
    assert pending(client, stream)["pending"] == 0


def test_an_unreachable_server_is_retried_with_back_off_and_stop_still_returns(client, tmp_path):
    unreachable = TcpProxy("127.0.0.1", 1)
    port = unreachable.port
    unreachable.close()  # nothing listens there now: connections are refused
    source = running(SqliteSink(tmp_path / "sink.db"), **entry("s", url=f"redis://127.0.0.1:{port}/0"))
    try:
        wait_until(lambda: source._failures >= 2, what="two failed connection attempts")
        assert source.alive
    finally:
        started = time.monotonic()
        source.stop()
    assert not source.alive and time.monotonic() - started < 5


# --- a worker killed after the store, before the ack ------------------------------------------------
def spawn(entry_fields: dict, sink_path: Path, *flags: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    return subprocess.Popen([sys.executable, str(HERE / "source_process.py"), json.dumps(entry_fields),
                             str(sink_path), *flags], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("restarted_as", ["c1", "another"], ids=["same-consumer", "new-consumer"])
def test_a_worker_killed_before_the_ack_delivers_again_and_the_event_is_stored_once(
        client, stream, tmp_path, restarted_as):
    ids = publish(client, stream, 3)
    sink = SqliteSink(tmp_path / "sink.db")
    # Given a worker SIGKILLed right after its sink stored the batch, before XACK
    worker = spawn(entry(stream), sink.path, "--die-after-store")
    assert worker.wait(timeout=30) == -signal.SIGKILL, worker.stderr.read()
    assert len(sink.events()) == 3
    assert pending(client, stream)["pending"] == 3
    # When a worker starts again (same consumer name: resumes; another: claims once idle)
    restarted = spawn(entry(stream, consumer=restarted_as, **{"claim-idle-seconds": 0.5}), sink.path)
    try:
        wait_until(lambda: pending(client, stream)["pending"] == 0, timeout=30, what="acknowledged")
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) == 0, restarted.stderr.read()
    # Then every message was delivered twice with the same event id, and stored once
    expected = [mapping.redis_event_id("orders", stream, i) for i in ids]
    assert [e["id"] for e in sink.events()] == expected
    assert sink.stored_deliveries() == {event_id: 2 for event_id in expected}
