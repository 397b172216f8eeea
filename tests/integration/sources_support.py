"""Helpers of the broker source tests: the real brokers, an idempotent SQLite sink, a TCP proxy.

The brokers are the real servers (Redis at STEPSTONE_TEST_REDIS_URL, NATS with JetStream at
STEPSTONE_TEST_NATS_URL); unreachable, their tests skip, or fail when CI is set. The sink stands
in for the bus's ``publish_events``: it stores each event once by id, in a real SQLite file, and
records every delivery so that tests can count redeliveries.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest

REDIS_URL = os.environ.get("STEPSTONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("STEPSTONE_TEST_NATS_URL", "nats://127.0.0.1:4222")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def require(service: str, url: str, check: Callable[[], object]) -> None:
    try:
        check()
    except Exception as error:  # any failure to reach the broker
        message = f"{service} at {url} is unreachable ({type(error).__name__}: {error})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def run_async(coroutine):
    return asyncio.run(coroutine)


class SqliteSink:
    """An idempotent, durable sink: ``INSERT OR IGNORE`` by event id, committed before it returns.

    ``failures``: how many calls raise (storing nothing) before calls succeed.
    ``die_after_store``: SIGKILL this process right after a store committed, before any ack.
    """

    def __init__(self, path: Path | str, failures: int = 0, die_after_store: bool = False):
        self.path = str(path)
        self.failures = failures
        self.die_after_store = die_after_store
        self.calls = 0
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, event TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS deliveries (n INTEGER PRIMARY KEY AUTOINCREMENT, "
                       "id TEXT NOT NULL, stored INTEGER NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def __call__(self, events: list[dict]) -> None:
        self.calls += 1
        failing = self.failures > 0
        self.failures -= 1 if failing else 0
        with self._connect() as db:  # deliveries are recorded even when the call fails
            db.executemany("INSERT INTO deliveries (id, stored) VALUES (?, ?)",
                           [(e["id"], 0 if failing else 1) for e in events])
            if not failing:
                db.executemany("INSERT OR IGNORE INTO events (id, event) VALUES (?, ?)",
                               [(e["id"], json.dumps(e)) for e in events])
        if failing:
            raise RuntimeError("the sink is failing on purpose")
        if self.die_after_store:
            os.kill(os.getpid(), 9)  # stored, never acknowledged

    def events(self) -> list[dict]:
        with self._connect() as db:
            return [json.loads(row[0]) for row in db.execute("SELECT event FROM events ORDER BY rowid")]

    def stored_deliveries(self) -> dict[str, int]:
        """event id -> how many times a successful sink call got it."""
        with self._connect() as db:
            return dict(db.execute("SELECT id, COUNT(*) FROM deliveries WHERE stored = 1 GROUP BY id"))

    def failed_deliveries(self) -> list[str]:
        with self._connect() as db:
            return [row[0] for row in db.execute("SELECT id FROM deliveries WHERE stored = 0 ORDER BY n")]


class TcpProxy:
    """127.0.0.1:<port> forwarding to a broker; ``cut()`` drops every connection and refuses new
    ones (an outage the consumer sees), ``restore()`` accepts again."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for each in (source, target):
            try:
                each.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for each in sockets:
            try:
                each.shutdown(socket.SHUT_RDWR)
                each.close()
            except OSError:
                pass

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self.cut()
        self._server.close()
