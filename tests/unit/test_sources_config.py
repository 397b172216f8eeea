"""The sources file (--sources, STEPSTONE_SOURCES): what it accepts, and errors naming file, entry, field."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import cli
from engine.eventbus.sources import config
from engine.eventbus.sources.config import NatsJetStreamSource, RedisStreamSource, Shape, SourcesFileError
from engine.settings import from_environment

EXAMPLE = Path(__file__).resolve().parents[2] / "definitions" / "order-events.sources.yaml"
REDIS = {"type": "redis-stream", "url": "redis://127.0.0.1:6379/0", "stream": "orders", "group": "g",
         "bus": "orders", "source": "shop", "detail-type": "Placed"}
NATS = {"type": "nats-jetstream", "url": "nats://127.0.0.1:4222", "stream": "S", "subject": "s.>",
        "durable": "d", "bus": "orders"}


def write(tmp_path: Path, document, name: str = "x.sources.yaml") -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_the_example_file_loads():
    redis_source, nats_source = config.load_file(str(EXAMPLE))
    assert isinstance(redis_source, RedisStreamSource) and isinstance(nats_source, NatsJetStreamSource)
    assert (redis_source.stream, redis_source.group, redis_source.consumer) == ("orders", "stepstone", "worker-1")
    assert redis_source.shape == Shape("order-events", "shop.orders", "OrderPlaced")
    assert (nats_source.subject, nats_source.durable, nats_source.ack_wait_seconds) == ("payments.>", "stepstone", 30.0)


def test_defaults():
    redis_source, nats_source = config.parse([REDIS, NATS])
    assert redis_source.consumer.endswith(f"-{__import__('os').getpid()}")
    assert (redis_source.field, redis_source.batch, redis_source.claim_idle_seconds, redis_source.start) == \
        ("body", 100, 60.0, "all")
    assert (nats_source.ack_wait_seconds, nats_source.shape.format, nats_source.shape.source) == (30.0, "auto", None)


def test_a_plain_list_and_json_files_are_accepted(tmp_path):
    assert len(config.load_file(write(tmp_path, [REDIS, NATS], "s.json"))) == 2


def test_environment_variables_in_values(monkeypatch):
    monkeypatch.setenv("REDIS_PASSWORD", "s3cret")
    source, = config.parse([{**REDIS, "url": "redis://:${REDIS_PASSWORD}@host:6379/0"}])
    assert source.url == "redis://:s3cret@host:6379/0"


@pytest.mark.parametrize("document, message", [
    ({"sources": []}, "x: expected a non-empty list of sources"),
    ({"other": [REDIS]}, "x: expected a non-empty list"),
    ([REDIS, "redis"], "x: entry 1: must be an object"),
    ([{**REDIS, "type": "kafka"}], "x: entry 0: type: must be redis-stream or nats-jetstream, got 'kafka'"),
    ([{k: v for k, v in REDIS.items() if k != "group"}], "x: entry 0: group: is required"),
    ([NATS, {**NATS, "subject": ""}], "x: entry 1: subject: must be a non-empty string"),
    ([{**REDIS, "url": "http://h"}], "x: entry 0: url: must start with redis:// or rediss:// or unix://"),
    ([{**NATS, "url": "redis://h"}], "x: entry 0: url: must start with nats://"),
    ([{**REDIS, "strem": "x"}], "x: entry 0: strem: unknown field for redis-stream"),
    ([{**NATS, "group": "g"}], "x: entry 0: group: unknown field for nats-jetstream"),
    ([{**REDIS, "batch": 0}], "x: entry 0: batch: must be a positive integer, got 0"),
    ([{**REDIS, "batch": True}], "x: entry 0: batch: must be a positive integer"),
    ([{**NATS, "ack-wait-seconds": "30"}], "x: entry 0: ack-wait-seconds: must be a positive number"),
    ([{**REDIS, "claim-idle-seconds": -1}], "x: entry 0: claim-idle-seconds: must be a positive number"),
    ([{**REDIS, "start": "latest"}], "x: entry 0: start: must be one of all, new"),
    ([{**REDIS, "format": "xml"}], "x: entry 0: format: must be one of auto, entry, raw"),
    ([{**NATS, "format": "raw", "source": "s"}], "x: entry 0: detail-type: is required with format: raw"),
    ([{**REDIS, "bus": "no spaces"}], "x: entry 0: bus: is not an event bus name"),
    ([{**REDIS, "url": "redis://:${NOT_SET_ANYWHERE_42}@h"}],
     "x: entry 0: url: refers to ${NOT_SET_ANYWHERE_42}, but that environment variable is not set"),
])
def test_errors_name_the_file_the_entry_and_the_field(document, message):
    with pytest.raises(SourcesFileError) as raised:
        config.parse(document, "x")
    assert str(raised.value).startswith(message), str(raised.value)


def test_an_unreadable_or_invalid_file(tmp_path):
    with pytest.raises(SourcesFileError, match="cannot be read"):
        config.load_file(str(tmp_path / "missing.yaml"))
    with pytest.raises(SourcesFileError, match="not valid JSON/YAML"):
        config.load_file(write(tmp_path, "sources: [unclosed"))


def test_the_setting_comes_from_stepstone_sources():
    assert from_environment({"STEPSTONE_SOURCES": "/etc/s.yaml"}).sources == "/etc/s.yaml"
    assert from_environment({}).sources is None


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_serve_and_worker_refuse_a_bad_sources_file(tmp_path, capsys, command):
    bad = write(tmp_path, {"sources": [{**REDIS, "group": 7}]})
    code = cli.main([command, "--db", f"sqlite:///{tmp_path / 'db.sqlite'}", "--sources", bad])
    assert code == cli.EXIT_USAGE
    assert f"stepstone: {bad}: entry 0: group: must be a non-empty string, got 7" in capsys.readouterr().err


def test_stepstone_sources_is_read_when_the_flag_is_absent(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STEPSTONE_SOURCES", write(tmp_path, [{**NATS, "durable": None}]))
    assert cli.main(["worker", "--db", f"sqlite:///{tmp_path / 'db.sqlite'}"]) == cli.EXIT_USAGE
    assert "entry 0: durable: is required" in capsys.readouterr().err
