"""What every broker source shares: its own thread, a clean stop, reconnecting with back-off.

A source's ``consume()`` connects and reads batches until ``stopping``; any exception it raises
(the broker is down, the stream was deleted...) is logged and ``consume()`` runs again after a
back-off. The sink is called through ``deliver()``: a sink that raises is logged, nothing of the
batch is acknowledged (the broker hands it out again) and the source backs off before reading on.
"""
from __future__ import annotations

import logging
import random
import re
import threading
from typing import Callable

logger = logging.getLogger("engine.eventbus.sources")

Sink = Callable[[list[dict]], None]  # stores complete events, idempotently by id; raises when it did not
BACKOFF_BASE_SECONDS = 0.5  # the first retry's delay
BACKOFF_CAP_SECONDS = 30.0  # the longest delay between retries
STOP_JOIN_SECONDS = 60.0  # how long stop() waits for the in-flight batch to finish
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


def backoff(attempt: int, jitter: float, base: float = BACKOFF_BASE_SECONDS,
            cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): doubling up to ``cap``, scaled by
    ``0.5 + jitter / 2`` (jitter in [0, 1]) so that workers do not retry in lockstep."""
    return min(cap, base * 2 ** min(attempt - 1, 30)) * (0.5 + jitter / 2)


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    return _PASSWORD.sub(r"\1***@", url)


class SourceThread:
    """One source consuming in its own daemon thread until ``stop()``."""

    def __init__(self, name: str, sink: Sink):
        self.name = name
        self.sink = sink
        self._stopping = threading.Event()
        self._failures = 0  # consecutive failed connections (or reads)
        self._sink_failures = 0  # consecutive failed sink calls
        self._thread = threading.Thread(target=self._run, name=f"source: {name}", daemon=True)

    # ---- lifecycle
    def start(self) -> "SourceThread":
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Stop reading; the batch in flight is still stored and acknowledged."""
        self._stopping.set()

    def join(self, timeout: float | None = STOP_JOIN_SECONDS) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("%s: still busy %.0f s after stop; leaving it (its batch will be redelivered)",
                           self.name, timeout)

    def stop(self) -> None:
        self.request_stop()
        self.join()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # ---- for subclasses
    def consume(self) -> None:
        """Connect, then read, deliver and acknowledge batches until ``stopping``."""
        raise NotImplementedError

    def healthy(self) -> None:
        """Called after each successful read: the broker is reachable again."""
        if self._failures:
            logger.info("%s: connected again after %d failed attempt(s)", self.name, self._failures)
            self._failures = 0

    def deliver(self, events: list[dict]) -> bool:
        """Hand the events to the sink; False (after a back-off) when it raised: acknowledge nothing."""
        try:
            self.sink(events)
        except Exception as error:  # the sink is the bus: any failure means "not stored"
            self._sink_failures += 1
            delay = backoff(self._sink_failures, random.random())
            logger.error("%s: storing %d event(s) failed (%s: %s); not acknowledged, they will be "
                         "delivered again; next read in %.1f s", self.name, len(events),
                         type(error).__name__, error, delay, exc_info=self._sink_failures == 1)
            self._stopping.wait(delay)
            return False
        if self._sink_failures:
            logger.info("%s: storing events works again", self.name)
            self._sink_failures = 0
        return True

    # ---- the loop
    def _run(self) -> None:
        while not self.stopping:
            try:
                self.consume()
            except Exception as error:  # a broker outage or a misconfigured stream: log, wait, retry
                self._failures += 1
                delay = backoff(self._failures, random.random())
                logger.warning("%s: %s: %s; reconnecting in %.1f s (attempt %d)", self.name,
                               type(error).__name__, error, delay, self._failures)
                self._stopping.wait(delay)
        logger.info("%s: stopped", self.name)
