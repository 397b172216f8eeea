"""Broker -> bus -> rule -> execution, end to end through a real ``stepstone serve`` and real
Redis and NATS servers: every message starts exactly one execution, also when the server is
killed with SIGKILL while messages are being stored, acknowledged and delivered."""
from __future__ import annotations

import json
import random
import time

import nats
import redis

from sources_support import NATS_URL, REDIS_URL, require, run_async, unique, wait_until
from support import ROLE, Server, client

ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
MESSAGES = 40


def _prepare(endpoint: str, name: str) -> str:
    sfn, events = client(endpoint), client(endpoint, "events")
    arn = sfn.create_state_machine(name=name, definition=json.dumps(ECHO), roleArn=ROLE)["stateMachineArn"]
    events.put_rule(Name=f"{name}-rule", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule=f"{name}-rule", Targets=[{"Id": "t", "Arn": arn}])
    return arn


def _orders(endpoint: str, arn: str) -> list[str]:
    sfn, found, token = client(endpoint), [], None
    while True:
        page = sfn.list_executions(stateMachineArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        for item in page["executions"]:
            found.append(json.loads(sfn.describe_execution(executionArn=item["executionArn"])["input"])
                         ["detail"]["order"])
        token = page.get("nextToken")
        if not token:
            return found


def _run_with_kills(tmp_path, source: dict, publish, name: str) -> None:
    sources = tmp_path / "e2e.sources.yaml"
    sources.write_text(json.dumps([source]))
    db = f"sqlite:///{tmp_path / 'e2e.db'}"
    env = {"STEPSTONE_SOURCES": str(sources), "STEPSTONE_LEASE_SECONDS": "1"}
    server = Server(db, env).start()
    arn = _prepare(server.endpoint, name)
    publish(range(MESSAGES))
    rounds = random.Random(7)
    for _ in range(3):  # kill -9 while messages are in flight, then start again on the same database
        time.sleep(rounds.uniform(0.1, 0.6))
        server.kill()
        server = Server(db, env).start()
    try:
        wait_until(lambda: len(_orders(server.endpoint, arn)) >= MESSAGES, timeout=60,
                   what=f"{MESSAGES} executions")
        time.sleep(1.5)  # anything delivered twice would show up now
        orders = _orders(server.endpoint, arn)
        assert sorted(orders) == list(range(MESSAGES))  # each message: exactly one execution
    finally:
        server.stop()


def test_redis_stream_messages_start_one_execution_each_across_kills(tmp_path):
    broker = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    require("Redis", REDIS_URL, broker.ping)
    stream = unique("stepstone-e2e")

    def publish(orders):
        for order in orders:
            broker.xadd(stream, {"body": json.dumps({"order": order})})
    source = {"type": "redis-stream", "url": REDIS_URL, "stream": stream, "group": "e2e",
              "consumer": "server", "bus": "default", "source": "shop", "detail-type": "OrderPlaced",
              "block-seconds": 0.2, "batch": 5, "claim-idle-seconds": 1}
    try:
        _run_with_kills(tmp_path, source, publish, "e2e-redis")
    finally:
        broker.delete(stream)


async def _jetstream(action):
    connection = await nats.connect(NATS_URL, connect_timeout=2, allow_reconnect=False,
                                    max_reconnect_attempts=1)
    try:
        return await action(connection.jetstream())
    finally:
        await connection.close()


def test_nats_jetstream_messages_start_one_execution_each_across_kills(tmp_path):
    require("NATS JetStream", NATS_URL, lambda: run_async(_jetstream(lambda js: js.account_info())))
    stream = unique("STEPSTONE_E2E").replace("-", "_")
    run_async(_jetstream(lambda js: js.add_stream(name=stream, subjects=[f"{stream}.>"])))

    def publish(orders):
        async def send(js):
            for order in orders:
                await js.publish(f"{stream}.orders", json.dumps({"order": order}).encode())
        run_async(_jetstream(send))
    source = {"type": "nats-jetstream", "url": NATS_URL, "stream": stream, "subject": f"{stream}.>",
              "durable": "e2e", "bus": "default", "source": "shop", "detail-type": "OrderPlaced",
              "block-seconds": 0.2, "batch": 5, "ack-wait-seconds": 1}
    try:
        _run_with_kills(tmp_path, source, publish, "e2e-nats")
    finally:
        run_async(_jetstream(lambda js: js.delete_stream(stream)))
