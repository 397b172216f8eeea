"""NATS JetStream as an event source: a durable pull consumer with explicit acknowledgements.

- The durable consumer is created when missing (explicit acks, ``ack-wait-seconds``, filtered on
  ``subject``, from the stream's start with ``start: all`` or its end with ``start: new``); an
  existing one is used as it is (a warning says when its ack wait differs from the file's).
  The stream itself is the operator's to create (``nats stream add``): its limits are theirs.
- Messages are fetched in batches; a message is acknowledged only once the sink returned (its event
  is stored). A message never acknowledged (the sink failed, the worker died) is redelivered by the
  server after the ack wait.
- A message that can never become an event (not JSON, no source...) is logged and terminated
  (``AckTerm``): the server does not redeliver it.

nats-py is asyncio: each source runs its own event loop in its own thread; the sink (synchronous,
it writes to the database) runs in a helper thread so that the connection keeps answering pings.
nats-py's own reconnection is off: an outage ends ``consume()`` and the runner reconnects with
back-off, like every source.
"""
from __future__ import annotations

import asyncio
import logging

import nats
import nats.errors
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from engine.eventbus.sources import mapping
from engine.eventbus.sources.config import NatsJetStreamSource
from engine.eventbus.sources.runner import Sink, SourceThread, logger, redacted

CONNECT_TIMEOUT_SECONDS = 5  # nats-py takes whole seconds
_STARTS = {"all": DeliverPolicy.ALL, "new": DeliverPolicy.NEW}


class NatsJetStreamConsumer(SourceThread):
    def __init__(self, config: NatsJetStreamSource, sink: Sink, *, account: str, region: str):
        super().__init__(config.name, sink)
        self.config, self.account, self.region = config, account, region

    def consume(self) -> None:
        asyncio.run(self._consume())

    async def _consume(self) -> None:
        # one attempt per server (nats-py retries forever with 0), then the runner's back-off
        connection = await nats.connect(self.config.url, allow_reconnect=False,
                                        connect_timeout=CONNECT_TIMEOUT_SECONDS, max_reconnect_attempts=1,
                                        reconnect_time_wait=0.1, error_cb=self._on_error)
        try:
            subscription = await self._subscribe(connection)
            logger.info("%s: reading from %s", self.name, redacted(self.config.url))
            while not self.stopping:
                if connection.is_closed:
                    raise ConnectionError("the connection to the NATS server was closed")
                try:
                    messages = await subscription.fetch(self.config.batch, timeout=self.config.block_seconds)
                except nats.errors.TimeoutError:
                    messages = []
                self.healthy()
                if messages:
                    await self._process(connection, messages)
        finally:
            if not connection.is_closed:
                await connection.close()

    async def _subscribe(self, connection):
        config = self.config
        wanted = ConsumerConfig(durable_name=config.durable, ack_policy=AckPolicy.EXPLICIT,
                                ack_wait=config.ack_wait_seconds, deliver_policy=_STARTS[config.start],
                                filter_subject=config.subject)
        try:
            subscription = await connection.jetstream().pull_subscribe(
                config.subject, durable=config.durable, stream=config.stream, config=wanted)
            info = await subscription.consumer_info()
        except nats.js.errors.NotFoundError as error:
            raise LookupError(f"JetStream stream {config.stream!r} not found ({error.description}); "
                              f"create it, e.g. nats stream add {config.stream} --subjects "
                              f"'{config.subject}'") from None
        self._check_existing(info.config)
        return subscription

    def _check_existing(self, existing: ConsumerConfig) -> None:
        if existing.ack_policy != AckPolicy.EXPLICIT:
            raise ValueError(f"durable consumer {self.config.durable!r} acknowledges with "
                             f"{existing.ack_policy}; a source needs explicit acks (delete the consumer "
                             f"and let the source create it)")
        if existing.ack_wait is not None and abs(existing.ack_wait - self.config.ack_wait_seconds) > 1e-3:
            logger.warning("%s: the durable consumer exists with an ack wait of %.1f s, not the "
                           "configured %.1f s; it is kept", self.name, existing.ack_wait,
                           self.config.ack_wait_seconds)

    async def _process(self, connection, messages: list) -> None:
        """Store the batch's events, then acknowledge each message; nothing when the sink failed."""
        events, mapped = [], []
        for message in messages:
            meta = message.metadata
            try:
                events.append(mapping.nats_message_event(
                    meta.stream, meta.sequence.stream, meta.timestamp, message.data,
                    shape=self.config.shape, account=self.account, region=self.region))
                mapped.append(message)
            except mapping.MessageError as error:
                logger.error("%s: message %s/%d cannot become an event: %s; terminated (no redelivery)",
                             self.name, meta.stream, meta.sequence.stream, error)
                await message.term()
        if events and not await asyncio.to_thread(self.deliver, events):
            return  # unacknowledged: the server redelivers them after the ack wait
        for message in mapped:
            await message.ack()
        await connection.flush()

    async def _on_error(self, error: Exception) -> None:
        # a refused connection is reported once by the runner; anything else is news
        level = logging.DEBUG if isinstance(error, OSError) else logging.WARNING
        logger.log(level, "%s: NATS: %s: %s", self.name, type(error).__name__, error)
