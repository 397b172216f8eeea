"""The sources file: which broker streams feed which event bus (``--sources``, STEPSTONE_SOURCES).

JSON or YAML, a list of entries (or ``{sources: [...]}``)::

    - type: redis-stream            # XREADGROUP on a consumer group, XACK after the bus stored it
      url: redis://127.0.0.1:6379/0
      stream: orders
      group: stepstone
      consumer: worker-1            # default: HOSTNAME-PID (a stable name resumes its own pending)
      bus: order-events
      source: shop.orders           # used when a message is raw JSON (its detail)
      detail-type: OrderPlaced
    - type: nats-jetstream          # a durable pull consumer with explicit acks
      url: nats://127.0.0.1:4222
      stream: ORDERS
      subject: orders.>
      durable: stepstone
      bus: order-events

``${NAME}`` in a string is the environment variable NAME (passwords in URLs). Every problem is a
SourcesFileError naming the file, the entry's index and the field.
"""
from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from typing import Any

from engine.documents import read_document

FORMATS = ("auto", "entry", "raw")  # what a message body is: see mapping.to_event
STARTS = ("all", "new")  # where a newly created group/durable begins: the stream's start or its end
_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")  # EventBridge's event bus name
_ENV_REFERENCE = re.compile(r"\$\{(\w+)\}")
_SCHEMES = {"redis-stream": ("redis://", "rediss://", "unix://"),
            "nats-jetstream": ("nats://", "tls://", "ws://", "wss://")}

DEFAULT_BATCH = 100  # messages per read
DEFAULT_BLOCK_SECONDS = 1.0  # how long one read waits for messages; bounds how fast stop() returns
DEFAULT_CLAIM_IDLE_SECONDS = 60.0  # Redis: a pending entry idle this long is claimed (XAUTOCLAIM)
DEFAULT_ACK_WAIT_SECONDS = 30.0  # NATS: an unacked message is redelivered after this


class SourcesFileError(ValueError):
    """The sources file cannot be read or has an invalid entry; the message names which and why."""


@dataclass(frozen=True)
class Shape:
    """How messages become events of one bus: see mapping.to_event."""

    bus: str
    source: str | None = None
    detail_type: str | None = None
    format: str = "auto"


@dataclass(frozen=True)
class RedisStreamSource:
    url: str
    stream: str
    group: str
    consumer: str
    shape: Shape
    field: str = "body"  # the entry field that holds the message (JSON)
    batch: int = DEFAULT_BATCH
    block_seconds: float = DEFAULT_BLOCK_SECONDS
    claim_idle_seconds: float = DEFAULT_CLAIM_IDLE_SECONDS
    start: str = "all"
    dead_letter_stream: str | None = None  # where unmappable entries go (else: logged and dropped)
    type: str = "redis-stream"

    @property
    def name(self) -> str:
        return f"redis-stream {self.stream} (group {self.group}, consumer {self.consumer})"


@dataclass(frozen=True)
class NatsJetStreamSource:
    url: str
    stream: str
    subject: str
    durable: str
    shape: Shape
    batch: int = DEFAULT_BATCH
    block_seconds: float = DEFAULT_BLOCK_SECONDS
    ack_wait_seconds: float = DEFAULT_ACK_WAIT_SECONDS
    start: str = "all"
    type: str = "nats-jetstream"

    @property
    def name(self) -> str:
        return f"nats-jetstream {self.stream} {self.subject} (durable {self.durable})"


SourceConfig = RedisStreamSource | NatsJetStreamSource

_COMMON = {"type", "url", "stream", "bus", "source", "detail-type", "format", "batch",
           "block-seconds", "start"}
_FIELDS = {"redis-stream": _COMMON | {"group", "consumer", "field", "claim-idle-seconds",
                                      "dead-letter-stream"},
           "nats-jetstream": _COMMON | {"subject", "durable", "ack-wait-seconds"}}


def load_file(path: str) -> list[SourceConfig]:
    """Every source of the file, in order; SourcesFileError says what is wrong and where."""
    document = read_document(path, "sources file", SourcesFileError)
    return parse(document, path)


def parse(document: Any, path: str = "<sources>") -> list[SourceConfig]:
    if isinstance(document, dict) and set(document) == {"sources"}:
        document = document["sources"]
    if not isinstance(document, list) or not document:
        raise SourcesFileError(f"{path}: expected a non-empty list of sources "
                               f"(or an object with a 'sources' list)")
    return [_entry(entry, Where(path, index)) for index, entry in enumerate(document)]


@dataclass(frozen=True)
class Where:
    path: str
    index: int

    def error(self, field: str | None, problem: str) -> SourcesFileError:
        at = f"{self.path}: entry {self.index}" + (f": {field}" if field else "")
        return SourcesFileError(f"{at}: {problem}")


def _entry(entry: Any, where: Where) -> SourceConfig:
    if not isinstance(entry, dict):
        raise where.error(None, "must be an object with a 'type' (redis-stream or nats-jetstream)")
    kind = entry.get("type")
    if kind not in _FIELDS:
        raise where.error("type", f"must be redis-stream or nats-jetstream, got {kind!r}")
    unknown = sorted(set(map(str, entry)) - _FIELDS[kind])
    if unknown:
        raise where.error(unknown[0], f"unknown field for {kind} (known: {', '.join(sorted(_FIELDS[kind]))})")
    read = Reader(entry, where)
    if kind == "redis-stream":
        return _redis(read)
    return _nats(read)


def _redis(read: "Reader") -> RedisStreamSource:
    return RedisStreamSource(
        url=read.url("redis-stream"), stream=read.text("stream"), group=read.text("group"),
        consumer=read.text("consumer", default_consumer()), shape=read.shape(),
        field=read.text("field", "body"), batch=read.count("batch", DEFAULT_BATCH),
        block_seconds=read.seconds("block-seconds", DEFAULT_BLOCK_SECONDS),
        claim_idle_seconds=read.seconds("claim-idle-seconds", DEFAULT_CLAIM_IDLE_SECONDS),
        start=read.choice("start", STARTS), dead_letter_stream=read.text("dead-letter-stream", None))


def _nats(read: "Reader") -> NatsJetStreamSource:
    return NatsJetStreamSource(
        url=read.url("nats-jetstream"), stream=read.text("stream"), subject=read.text("subject"),
        durable=read.text("durable"), shape=read.shape(), batch=read.count("batch", DEFAULT_BATCH),
        block_seconds=read.seconds("block-seconds", DEFAULT_BLOCK_SECONDS),
        ack_wait_seconds=read.seconds("ack-wait-seconds", DEFAULT_ACK_WAIT_SECONDS),
        start=read.choice("start", STARTS))


def default_consumer() -> str:
    """A consumer name per worker process; configure a stable one to resume its own pending entries."""
    return f"{socket.gethostname()}-{os.getpid()}"


_REQUIRED = object()


class Reader:
    """Typed reads of one entry's fields; each failure names the entry and the field."""

    def __init__(self, entry: dict, where: Where):
        self.entry, self.where = entry, where

    def text(self, field: str, default: Any = _REQUIRED) -> Any:
        value = self.entry.get(field)
        if value is None:
            if default is _REQUIRED:
                raise self.where.error(field, "is required")
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.where.error(field, f"must be a non-empty string, got {value!r}")
        return self._resolve(field, value)

    def url(self, kind: str) -> str:
        url = self.text("url")
        if not url.startswith(_SCHEMES[kind]):
            raise self.where.error("url", f"must start with {' or '.join(_SCHEMES[kind])}, got {url!r}")
        return url

    def count(self, field: str, default: int) -> int:
        value = self.entry.get(field, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.where.error(field, f"must be a positive integer, got {value!r}")
        return value

    def seconds(self, field: str, default: float) -> float:
        value = self.entry.get(field, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.where.error(field, f"must be a positive number of seconds, got {value!r}")
        return float(value)

    def choice(self, field: str, choices: tuple[str, ...]) -> str:
        value = self.entry.get(field, choices[0])
        if value not in choices:
            raise self.where.error(field, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def shape(self) -> Shape:
        bus = self.text("bus")
        if not _BUS_NAME.match(bus):
            raise self.where.error("bus", f"is not an event bus name (letters, digits, . - _ /): {bus!r}")
        shape = Shape(bus=bus, source=self.text("source", None), detail_type=self.text("detail-type", None),
                      format=self.choice("format", FORMATS))
        if shape.format == "raw" and (shape.source is None or shape.detail_type is None):
            missing = "source" if shape.source is None else "detail-type"
            raise self.where.error(missing, "is required with format: raw (raw messages are only the detail)")
        return shape

    def _resolve(self, field: str, value: str) -> str:
        def variable(found: re.Match) -> str:
            if found[1] not in os.environ:
                raise self.where.error(field, f"refers to ${{{found[1]}}}, but that environment variable "
                                              f"is not set")
            return os.environ[found[1]]
        return _ENV_REFERENCE.sub(variable, value)
