"""Broker message -> bus event: pure functions, no broker, clock or I/O.

A message body is JSON, either

- an **entry**: an object with ``source`` and ``detail-type`` (an event as EventBridge delivers it,
  ``detail`` optional, ``resources`` and ``time`` kept) or with ``Source`` and ``DetailType`` (a
  PutEvents request entry, ``Detail`` a JSON string or an object); or
- **raw** JSON: an object used as the event's ``detail``, with the source's configured ``source``
  and ``detail-type``.

``format: auto`` (the default) tells them apart by those keys; ``entry`` / ``raw`` force one.
Whatever the message says, the event goes to the configured bus, under the configured account and
region, and its ``id`` is derived from the broker's identity of the message, never from the body:
a redelivered message becomes the very same event, and the bus stores it once.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from engine.asl import timestamps
from engine.eventbus.sources.config import Shape

# uuid5 namespace of event ids made from broker positions (a fixed, arbitrary UUID: never change it)
ID_NAMESPACE = uuid.UUID("6f4d1c2e-8a57-5b3e-9d0c-3e1f7b2a9c41")
BUS_KEY = "event-bus-name"  # the key of the bus name in an event handed to the sink
MAX_EVENT_BYTES = 256 * 1024  # EventBridge's limit on one event


class MessageError(ValueError):
    """The message can never become an event (not JSON, no source...): redelivering cannot help."""


def event_id(kind: str, bus: str, stream: str, position: str) -> str:
    """The same message of the same stream, delivered again, gets the same id (a UUID)."""
    return str(uuid.uuid5(ID_NAMESPACE, "\n".join((kind, bus, stream, position))))


def redis_event_id(bus: str, stream: str, entry_id: str) -> str:
    return event_id("redis-stream", bus, stream, entry_id)


def nats_event_id(bus: str, stream: str, sequence: int, stored: datetime) -> str:
    """Stream sequence plus the time the server stored it: a deleted and recreated stream starts
    its sequence at 1 again, and those new messages must not pass for the old ones."""
    return event_id("nats-jetstream", bus, stream, f"{sequence}@{stored.isoformat()}")


def redis_entry_time(entry_id: str) -> float:
    """The epoch seconds in a stream entry id ``<milliseconds>-<sequence>``."""
    try:
        return int(entry_id.split("-", 1)[0]) / 1000.0
    except ValueError:
        raise MessageError(f"{entry_id!r} is not a Redis stream entry id") from None


def iso_time(epoch: float) -> str:
    """EventBridge's ``time``: seconds precision, UTC, ``Z``."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_event(body: bytes | str, *, id: str, time: float, shape: Shape, account: str,
             region: str) -> dict:
    """The complete bus event of one message body; MessageError when it cannot be one."""
    value = _json(body)
    entry = _entry_fields(value, shape) if _is_entry(value, shape.format) else _raw_fields(value, shape)
    event = {"version": "0", "id": id, "detail-type": entry["detail-type"], "source": entry["source"],
             "account": account, "time": entry.get("time") or iso_time(time), "region": region,
             "resources": entry["resources"], "detail": entry["detail"], BUS_KEY: shape.bus}
    if len(json.dumps(event).encode("utf-8")) > MAX_EVENT_BYTES:
        raise MessageError(f"the event is larger than {MAX_EVENT_BYTES} bytes")
    return event


def _json(body: bytes | str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MessageError(f"the message is not JSON: {error}") from None


def _is_entry(value: Any, format: str) -> bool:
    if format != "auto":
        return format == "entry"
    return isinstance(value, dict) and ({"source", "detail-type"} <= value.keys()
                                        or {"Source", "DetailType"} <= value.keys())


def _entry_fields(value: Any, shape: Shape) -> dict:
    if not isinstance(value, dict):
        raise MessageError(f"an entry must be a JSON object, got {type(value).__name__}")
    if "Source" in value or "DetailType" in value or "Detail" in value:  # a PutEvents entry
        detail = value.get("Detail", "{}")
        fields = {"source": value.get("Source"), "detail-type": value.get("DetailType"),
                  "detail": _detail_text(detail) if isinstance(detail, str) else detail,
                  "resources": value.get("Resources", []), "time": value.get("Time")}
    else:
        fields = {"source": value.get("source"), "detail-type": value.get("detail-type"),
                  "detail": value.get("detail", {}), "resources": value.get("resources", []),
                  "time": value.get("time")}
    fields["source"] = fields["source"] if fields["source"] is not None else shape.source
    fields["detail-type"] = fields["detail-type"] if fields["detail-type"] is not None else shape.detail_type
    return _checked(fields)


def _detail_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise MessageError(f"'Detail' is not JSON text: {error}") from None


def _raw_fields(value: Any, shape: Shape) -> dict:
    if shape.source is None or shape.detail_type is None:
        raise MessageError("the message is not an entry (no source and detail-type) and this source "
                           "has no configured source and detail-type to use it as the detail")
    return _checked({"source": shape.source, "detail-type": shape.detail_type, "detail": value,
                     "resources": [], "time": None})


def _checked(fields: dict) -> dict:
    for key in ("source", "detail-type"):
        if not isinstance(fields[key], str) or not fields[key]:
            raise MessageError(f"'{key}' must be a non-empty string, got {fields[key]!r}")
    if not isinstance(fields["detail"], dict):
        raise MessageError(f"'detail' must be a JSON object, got {type(fields['detail']).__name__}")
    resources = fields["resources"]
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise MessageError(f"'resources' must be a list of strings, got {resources!r}")
    if fields["time"] is not None and timestamps.parse(fields["time"]) is None:
        raise MessageError(f"'time' must be an RFC 3339 date-time, got {fields['time']!r}")
    return fields


# --- per broker: where the body, the identity and the time of a message are ---------------------
def redis_entry_event(stream: str, entry_id: str, fields: dict[bytes, bytes], *, field: str,
                      shape: Shape, account: str, region: str) -> dict:
    """The event of one Redis stream entry, whose message is the JSON in ``field``."""
    body = fields.get(field.encode("utf-8"))
    if body is None:
        names = ", ".join(sorted(k.decode("utf-8", "replace") for k in fields)) or "none"
        raise MessageError(f"the entry has no field {field!r} (its fields: {names})")
    return to_event(body, id=redis_event_id(shape.bus, stream, entry_id), time=redis_entry_time(entry_id),
                    shape=shape, account=account, region=region)


def nats_message_event(stream: str, sequence: int, stored: datetime, data: bytes, *, shape: Shape,
                       account: str, region: str) -> dict:
    """The event of one JetStream message (stream sequence ``sequence``, stored at ``stored``)."""
    return to_event(data, id=nats_event_id(shape.bus, stream, sequence, stored), time=stored.timestamp(),
                    shape=shape, account=account, region=region)
