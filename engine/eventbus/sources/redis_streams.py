"""Redis Streams as an event source: a consumer group, at-least-once, pending entries recovered.

- The group is created when missing (``XGROUP CREATE ... MKSTREAM``), from the stream's start
  (``start: all``) or its end (``start: new``).
- On (re)connecting, the consumer first re-reads its own pending entries (``XREADGROUP ... 0``):
  a worker restarted under the same consumer name resumes what it had not acknowledged.
- Then it reads new entries (``XREADGROUP ... >``), hands their events to the sink and acknowledges
  them (``XACK``) only when the sink returned: the events are stored.
- Every ``claim-idle-seconds / 2`` it claims entries pending for longer than ``claim-idle-seconds``
  on any consumer (``XAUTOCLAIM``), a crashed worker's or its own after a failed store, and
  processes them again. Choose the threshold well above the time one batch takes.
- An entry that can never become an event (not JSON, no field ...) is logged, copied to the
  ``dead-letter-stream`` when one is configured, and acknowledged.
"""
from __future__ import annotations

import time

import redis

from engine.eventbus.sources import mapping
from engine.eventbus.sources.config import RedisStreamSource
from engine.eventbus.sources.runner import Sink, SourceThread, logger, redacted

CONNECT_TIMEOUT_SECONDS = 5.0
_STARTS = {"all": "0", "new": "$"}
Entries = list[tuple[bytes, dict[bytes, bytes] | None]]


class RedisStreamConsumer(SourceThread):
    def __init__(self, config: RedisStreamSource, sink: Sink, *, account: str, region: str):
        super().__init__(config.name, sink)
        self.config, self.account, self.region = config, account, region

    def consume(self) -> None:
        config = self.config
        client = redis.Redis.from_url(config.url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                      socket_timeout=config.block_seconds + CONNECT_TIMEOUT_SECONDS)
        try:
            self._ensure_group(client)
            logger.info("%s: reading from %s", self.name, redacted(config.url))
            self._resume_own(client)
            next_claim = 0.0
            while not self.stopping:
                if time.monotonic() >= next_claim:
                    self._claim_idle(client)
                    next_claim = time.monotonic() + config.claim_idle_seconds / 2
                self._read_new(client)
        finally:
            client.close()

    # ---- the three ways entries come
    def _read_new(self, client: redis.Redis) -> None:
        config = self.config
        reply = client.xreadgroup(config.group, config.consumer, {config.stream: ">"},
                                  count=config.batch, block=int(config.block_seconds * 1000))
        self.healthy()
        for _stream, entries in reply or []:
            self._process(client, entries)

    def _resume_own(self, client: redis.Redis) -> None:
        """Entries delivered to this consumer name and never acknowledged (a restart)."""
        config, after = self.config, "0"
        while not self.stopping:
            reply = client.xreadgroup(config.group, config.consumer, {config.stream: after},
                                      count=config.batch)
            entries = reply[0][1] if reply else []
            if not entries:
                return
            logger.info("%s: resuming %d pending entr(y/ies) of this consumer", self.name, len(entries))
            if not self._process(client, entries):
                return  # left pending: claimed again once idle
            after = entries[-1][0]

    def _claim_idle(self, client: redis.Redis) -> None:
        """Entries pending longer than the idle threshold, on any consumer (a dead one's)."""
        config, cursor = self.config, "0-0"
        while not self.stopping:
            reply = client.xautoclaim(config.stream, config.group, config.consumer,
                                      min_idle_time=int(config.claim_idle_seconds * 1000),
                                      start_id=cursor, count=config.batch)
            cursor, entries = reply[0], reply[1]
            if entries:
                logger.info("%s: claimed %d entr(y/ies) idle for over %.0f s", self.name, len(entries),
                            config.claim_idle_seconds)
                if not self._process(client, entries):
                    return
            if cursor in (b"0-0", "0-0"):
                return

    # ---- one batch
    def _process(self, client: redis.Redis, entries: Entries) -> bool:
        """Store the batch's events, then acknowledge the batch; False when the sink failed."""
        events, stored, skipped = [], [], []
        for raw_id, fields in entries:
            entry_id = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
            if not fields:  # deleted from the stream while pending: nothing left to deliver
                skipped.append(entry_id)
                continue
            try:
                events.append(mapping.redis_entry_event(
                    self.config.stream, entry_id, fields, field=self.config.field,
                    shape=self.config.shape, account=self.account, region=self.region))
                stored.append(entry_id)
            except mapping.MessageError as error:
                self._reject(client, entry_id, fields, error)
                skipped.append(entry_id)
        if skipped:
            client.xack(self.config.stream, self.config.group, *skipped)
        if events and not self.deliver(events):
            return False
        if stored:
            client.xack(self.config.stream, self.config.group, *stored)
        return True

    def _reject(self, client: redis.Redis, entry_id: str, fields: dict, error: Exception) -> None:
        config = self.config
        where = f"; copied to {config.dead_letter_stream}" if config.dead_letter_stream else "; dropped"
        logger.error("%s: entry %s cannot become an event: %s%s", self.name, entry_id, error, where)
        if config.dead_letter_stream:
            origin = f"{config.stream}/{entry_id}".encode()
            client.xadd(config.dead_letter_stream,
                        {**fields, b"stepstone-error": str(error).encode(), b"stepstone-origin": origin})

    def _ensure_group(self, client: redis.Redis) -> None:
        config = self.config
        try:
            client.xgroup_create(config.stream, config.group, id=_STARTS[config.start], mkstream=True)
            logger.info("%s: created consumer group %s on %s", self.name, config.group, config.stream)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
