"""Structured logs: JSON lines with time, level, logger, message and the execution's ARN."""
from __future__ import annotations

import io
import json
import logging

import pytest

from engine import Engine, task
from engine.observability import logs
from engine.observability.observer import CAUSE_LOG_CHARS

ROLE = "arn:aws:iam::123456789012:role/logs"


@pytest.fixture
def configured():
    """logs.configure into a buffer; the root logger's handlers and level come back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def configure(log_format: str = "json", level_name: str = "INFO") -> io.StringIO:
        stream = io.StringIO()
        logs.configure(log_format, level_name, stream)
        return stream
    yield configure
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@task("logs-boom")
def logs_boom(event, context):
    raise RuntimeError("x" * 2000)


def test_every_execution_end_is_one_json_line_carrying_its_arn(configured):
    stream = configured("json")
    definition = {"StartAt": "Go", "States": {"Go": {"Type": "Choice", "Default": "Boom", "Choices": [
        {"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}]},
        "Done": {"Type": "Succeed"},
        "Boom": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:logs-boom",
                 "End": True}}}
    with Engine("sqlite://") as engine:
        machine = engine.create_state_machine(name="logged", definition=json.dumps(definition),
                                              role_arn=ROLE)["stateMachineArn"]
        good = engine.start_execution(machine, input='{"ok": true}')["executionArn"]
        bad = engine.start_execution(machine, input='{"ok": false}')["executionArn"]
        engine.wait(bad, timeout=30)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    ends = {record["executionArn"]: record for record in records if record.get("executionArn")}
    assert ends[good]["level"] == "INFO" and ends[good]["status"] == "SUCCEEDED"
    assert ends[good]["logger"] == "engine.executions" and ends[good]["durationSeconds"] >= 0
    assert ends[good]["stateMachineArn"] == machine
    assert ends[bad]["level"] == "WARNING" and ends[bad]["status"] == "FAILED"
    assert ends[bad]["error"] == "RuntimeError" and len(ends[bad]["cause"]) == CAUSE_LOG_CHARS
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)
    assert ends[good]["time"].endswith("Z") and good in ends[good]["message"]


def test_the_text_format_appends_the_execution_fields(configured):
    stream = configured("text", "WARNING")
    logging.getLogger("engine.test").warning("something about it", extra={"executionArn": "arn:x"})
    logging.getLogger("engine.test").info("not shown")
    [line] = stream.getvalue().splitlines()
    assert line.endswith("WARNING engine.test: something about it [executionArn=arn:x]")


def test_an_unknown_format_or_level_is_refused():
    with pytest.raises(ValueError, match="json or text"):
        logs.configure("xml", "INFO")
    with pytest.raises(ValueError, match="log level"):
        logs.configure("json", "LOUD")
