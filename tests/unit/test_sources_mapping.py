"""Broker message -> bus event (pure): shapes, deterministic ids, messages that cannot be events."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from engine.eventbus.sources import mapping
from engine.eventbus.sources.config import Shape
from engine.eventbus.sources.runner import backoff, redacted

SHAPE = Shape(bus="orders", source="shop.orders", detail_type="OrderPlaced")
ACCOUNT, REGION = "123456789012", "eu-west-1"


def event(body, shape=SHAPE, **kw):
    return mapping.to_event(body if isinstance(body, (str, bytes)) else json.dumps(body), id="id-1",
                            time=kw.pop("time", 1700000000.0), shape=shape, account=ACCOUNT, region=REGION)


def test_raw_json_is_the_detail_of_an_event_of_the_configured_source():
    assert event({"orderId": "o-1"}) == {
        "version": "0", "id": "id-1", "detail-type": "OrderPlaced", "source": "shop.orders",
        "account": ACCOUNT, "time": "2023-11-14T22:13:20Z", "region": REGION, "resources": [],
        "detail": {"orderId": "o-1"}, "event-bus-name": "orders"}


def test_an_event_entry_keeps_its_source_detail_type_resources_and_time():
    made = event({"source": "billing", "detail-type": "Paid", "detail": {"a": 1},
                  "resources": ["arn:x"], "time": "2024-01-02T03:04:05Z"})
    assert (made["source"], made["detail-type"], made["detail"], made["resources"], made["time"]) == \
        ("billing", "Paid", {"a": 1}, ["arn:x"], "2024-01-02T03:04:05Z")


def test_a_putevents_entry_is_an_entry_and_its_detail_text_is_parsed():
    made = event({"Source": "billing", "DetailType": "Paid", "Detail": '{"a": 1}', "Resources": ["r"]})
    assert (made["source"], made["detail-type"], made["detail"], made["resources"]) == \
        ("billing", "Paid", {"a": 1}, ["r"])


def test_the_message_cannot_choose_the_id_bus_account_or_region():
    made = event({"source": "s", "detail-type": "t", "id": "mine", "account": "1", "region": "x",
                  "event-bus-name": "other"})
    assert (made["id"], made["account"], made["region"], made["event-bus-name"]) == \
        ("id-1", ACCOUNT, REGION, "orders")


def test_format_raw_uses_even_an_entry_shaped_body_as_the_detail():
    body = {"source": "s", "detail-type": "t"}
    assert event(body, Shape("orders", "shop", "T", format="raw"))["detail"] == body


def test_format_entry_takes_missing_source_and_detail_type_from_the_configuration():
    made = event({"detail": {"a": 1}}, Shape("orders", "shop", "T", format="entry"))
    assert (made["source"], made["detail-type"], made["detail"]) == ("shop", "T", {"a": 1})


@pytest.mark.parametrize("body, shape, message", [
    (b"{not json", SHAPE, "not JSON"),
    (b"\xff\xfe", SHAPE, "not JSON"),
    ([1, 2], SHAPE, "'detail' must be a JSON object"),
    ({"a": 1}, Shape("orders"), "no configured source and detail-type"),
    ({"source": "", "detail-type": "t"}, SHAPE, "'source' must be a non-empty string"),
    ({"source": "s", "detail-type": "t", "detail": "x"}, SHAPE, "'detail' must be a JSON object"),
    ({"source": "s", "detail-type": "t", "resources": "r"}, SHAPE, "'resources' must be a list"),
    ({"source": "s", "detail-type": "t", "time": "yesterday"}, SHAPE, "RFC 3339"),
    ({"Source": "s", "DetailType": "t", "Detail": "{"}, SHAPE, "'Detail' is not JSON"),
    ({"big": "x" * 300_000}, SHAPE, "larger than"),
])
def test_messages_that_cannot_be_events(body, shape, message):
    with pytest.raises(mapping.MessageError, match=message):
        event(body, shape)


# --- ids ------------------------------------------------------------------------------------------
def test_redis_ids_are_deterministic_and_differ_by_entry_stream_and_bus():
    one = mapping.redis_event_id("orders", "s", "1-0")
    assert one == mapping.redis_event_id("orders", "s", "1-0")
    assert len({one, mapping.redis_event_id("orders", "s", "1-1"), mapping.redis_event_id("orders", "t", "1-0"),
                mapping.redis_event_id("other", "s", "1-0")}) == 4
    assert one == "04bd9f71-7e6c-5321-a2d8-e80d4a7f51b3"  # pinned: changing ids breaks idempotency


def test_nats_ids_come_from_stream_sequence_and_stored_time():
    at = datetime(2024, 1, 1, tzinfo=timezone.utc)
    one = mapping.nats_event_id("orders", "S", 7, at)
    assert one == mapping.nats_event_id("orders", "S", 7, at)
    later = datetime(2024, 1, 2, tzinfo=timezone.utc)  # a recreated stream starts its sequence again
    assert len({one, mapping.nats_event_id("orders", "S", 8, at), mapping.nats_event_id("orders", "S", 7, later),
                mapping.nats_event_id("orders", "T", 7, at)}) == 4
    assert one == "b0cc0196-306d-505a-8e47-6bf894043051"  # pinned


def test_a_redis_entry_becomes_an_event_with_its_id_and_time():
    made = mapping.redis_entry_event("s", "1700000000123-4", {b"body": b'{"a": 1}', b"x": b"y"},
                                     field="body", shape=SHAPE, account=ACCOUNT, region=REGION)
    assert made["id"] == mapping.redis_event_id("orders", "s", "1700000000123-4")
    assert made["time"] == "2023-11-14T22:13:20Z" and made["detail"] == {"a": 1}


def test_a_redis_entry_without_the_field_names_the_fields_it_has():
    with pytest.raises(mapping.MessageError, match=r"no field 'body' \(its fields: data, x\)"):
        mapping.redis_entry_event("s", "1-0", {b"data": b"{}", b"x": b""}, field="body", shape=SHAPE,
                                  account=ACCOUNT, region=REGION)


def test_a_nats_message_becomes_an_event_with_the_stored_time():
    at = datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=timezone.utc)
    made = mapping.nats_message_event("S", 3, at, b'{"a": 1}', shape=SHAPE, account=ACCOUNT, region=REGION)
    assert (made["id"], made["time"]) == (mapping.nats_event_id("orders", "S", 3, at), "2024-05-06T07:08:09Z")


# --- the runner's pure parts ---------------------------------------------------------------------
def test_backoff_doubles_up_to_the_cap_and_jitter_scales_it_down_by_half_at_most():
    assert [backoff(n, jitter=1.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff(50, jitter=1.0) == 30.0
    assert backoff(3, jitter=0.0) == 1.0


def test_passwords_are_not_logged():
    assert redacted("redis://user:s3cret@host:6379/0") == "redis://user:***@host:6379/0"
    assert redacted("nats://host:4222") == "nats://host:4222"


def test_the_bus_sink_calls_publish_events_once_per_bus_without_the_bus_key():
    from engine.eventbus.sources import bus_sink
    calls = []
    bus_sink(lambda events, bus: calls.append((bus, events)))(
        [{"id": "1", "event-bus-name": "a"}, {"id": "2", "event-bus-name": "b"}, {"id": "3", "event-bus-name": "a"}])
    assert calls == [("a", [{"id": "1"}, {"id": "3"}]), ("b", [{"id": "2"}])]
