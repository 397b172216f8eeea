"""NATS JetStream as an event source, against the real server: at least once, stored once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import nats
import pytest

from engine.eventbus.sources import config, consumer
from sources_support import NATS_URL, SqliteSink, TcpProxy, require, run_async, unique, wait_until

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


async def _with_jetstream(action):
    connection = await nats.connect(NATS_URL, connect_timeout=2, allow_reconnect=False,
                                    max_reconnect_attempts=1, reconnect_time_wait=0.1)
    try:
        return await action(connection.jetstream())
    finally:
        await connection.close()


def jetstream(action):
    """Run ``action(js)`` on a fresh connection (the test's own, not the consumer's)."""
    return run_async(_with_jetstream(action))


@pytest.fixture(scope="module")
def server() -> str:
    require("NATS JetStream", NATS_URL, lambda: jetstream(lambda js: js.account_info()))
    return NATS_URL


@pytest.fixture
def stream(server):
    name = unique("STEPSTONE_TEST").replace("-", "_")
    jetstream(lambda js: js.add_stream(name=name, subjects=[f"{name}.>"]))
    yield name
    jetstream(lambda js: js.delete_stream(name))


def entry(stream: str, **fields) -> dict:
    return {"type": "nats-jetstream", "url": NATS_URL, "stream": stream, "subject": f"{stream}.>",
            "durable": "stepstone", "bus": "payments", "source": "shop.payments",
            "detail-type": "PaymentCaptured", "block-seconds": 0.2, "ack-wait-seconds": 1, **fields}


def running(sink, **fields):
    source = consumer(config.parse([fields])[0], sink, account="123456789012", region="us-east-1")
    return source.start()


def publish(stream: str, bodies: list[bytes]) -> list[int]:
    async def send(js):
        return [(await js.publish(f"{stream}.captured", body)).seq for body in bodies]
    return jetstream(send)


def consumer_state(stream: str, durable: str = "stepstone"):
    return jetstream(lambda js: js.consumer_info(stream, durable))


def settled(stream: str) -> bool:
    info = consumer_state(stream)
    return info.num_pending == 0 and info.num_ack_pending == 0


def test_every_message_becomes_one_event_acknowledged_once_stored(stream, tmp_path):
    publish(stream, [json.dumps({"n": n}).encode() for n in range(25)])
    sink = SqliteSink(tmp_path / "sink.db")
    source = running(sink, **entry(stream, batch=10))
    try:
        wait_until(lambda: len(sink.events()) == 25, what="25 events")
        wait_until(lambda: settled(stream), what="every message acknowledged")
    finally:
        source.stop()
    events = sink.events()
    assert sorted(e["detail"]["n"] for e in events) == list(range(25))
    assert set(sink.stored_deliveries().values()) == {1}
    assert len({e["id"] for e in events}) == 25
    assert {e["event-bus-name"] for e in events} == {"payments"}
    assert consumer_state(stream).config.ack_wait == 1


def test_a_message_whose_store_failed_is_redelivered_after_the_ack_wait(stream, tmp_path):
    publish(stream, [json.dumps({"n": n}).encode() for n in range(3)])
    sink = SqliteSink(tmp_path / "sink.db", failures=1)
    source = running(sink, **entry(stream))
    try:
        wait_until(lambda: len(sink.events()) == 3, what="events stored after the redelivery")
        wait_until(lambda: settled(stream), what="acknowledged")
    finally:
        source.stop()
    # the failed attempt and the redelivery carried the same ids; each event is stored once
    assert sorted(sink.failed_deliveries()) == sorted(e["id"] for e in sink.events())
    assert set(sink.stored_deliveries().values()) == {1}


def test_a_message_that_cannot_be_an_event_is_terminated(stream, tmp_path):
    publish(stream, [b"not json", json.dumps({"n": 1}).encode()])
    sink = SqliteSink(tmp_path / "sink.db")
    source = running(sink, **entry(stream))
    try:
        wait_until(lambda: len(sink.events()) == 1, what="the good message stored")
        wait_until(lambda: settled(stream), what="no message left to deliver")
        wait_until(lambda: consumer_state(stream).delivered.stream_seq == 2, what="both delivered")
    finally:
        source.stop()
    # no redelivery of the terminated message after the ack wait
    assert consumer_state(stream).num_redelivered == 0
    assert [e["detail"] for e in sink.events()] == [{"n": 1}]


def test_the_consumer_reconnects_after_an_outage(stream, tmp_path):
    target = urlparse(NATS_URL)
    proxy = TcpProxy(target.hostname, target.port or 4222)
    sink = SqliteSink(tmp_path / "sink.db")
    source = running(sink, **entry(stream, url=f"nats://127.0.0.1:{proxy.port}"))
    try:
        publish(stream, [b'{"n": 1}'])
        wait_until(lambda: len(sink.events()) == 1, what="the event before the outage")
        proxy.cut()
        publish(stream, [b'{"n": 2}'])
        wait_until(lambda: source._failures >= 1, what="the consumer noticing the outage")
        proxy.restore()
        wait_until(lambda: len(sink.events()) == 2, timeout=30, what="the event sent during the outage")
        assert source.alive
    finally:
        source.stop()
        proxy.close()


def test_an_unreachable_server_is_retried_with_back_off_and_stop_still_returns(server, tmp_path):
    unreachable = TcpProxy("127.0.0.1", 1)  # accepts nothing: connections to it are refused
    port = unreachable.port
    unreachable.close()
    source = running(SqliteSink(tmp_path / "sink.db"), **entry("S", url=f"nats://127.0.0.1:{port}"))
    try:
        wait_until(lambda: source._failures >= 2, what="two failed connection attempts")
        assert source.alive
    finally:
        started = time.monotonic()
        source.stop()
    assert not source.alive and time.monotonic() - started < 5


def spawn(entry_fields: dict, sink_path: str, *flags: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    return subprocess.Popen([sys.executable, str(HERE / "source_process.py"), json.dumps(entry_fields),
                             sink_path, *flags], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_worker_killed_before_the_ack_delivers_again_and_the_event_is_stored_once(stream, tmp_path):
    publish(stream, [json.dumps({"n": n}).encode() for n in range(3)])
    sink = SqliteSink(tmp_path / "sink.db")
    # Given a worker SIGKILLed right after its sink stored a batch, before the acks
    worker = spawn(entry(stream, batch=3), sink.path, "--die-after-store")
    assert worker.wait(timeout=30) == -signal.SIGKILL, worker.stderr.read()
    stored_before = {e["id"] for e in sink.events()}
    assert stored_before and consumer_state(stream).num_ack_pending == len(stored_before)
    # When a worker starts again, the server redelivers after the ack wait
    restarted = spawn(entry(stream, batch=3), sink.path)
    try:
        wait_until(lambda: len(sink.events()) == 3 and settled(stream), timeout=30, what="redelivered")
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) == 0, restarted.stderr.read()
    # Then the killed batch came again with the same ids, and each event is stored once
    deliveries = sink.stored_deliveries()
    assert {i for i, n in deliveries.items() if n == 2} == stored_before
    assert len(sink.events()) == 3
