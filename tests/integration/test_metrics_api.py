"""Observability of real processes: /metrics of ``stepstone serve`` and of ``stepstone worker
--metrics-port`` move as executions run, serve's stderr is JSON lines carrying execution ARNs,
and a worker with OTEL_TRACES_EXPORTER=console prints its spans."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.observability.spans import trace_id
from support import HANDLERS, REPO, ROLE, TEST_HANDLERS, Server, client, free_port, wait_done

ECHO = "arn:aws:lambda:us-east-1:123456789012:function:echo"
BOOM = "arn:aws:lambda:us-east-1:123456789012:function:boom"
DEFINITION = {"StartAt": "Echo", "States": {
    "Echo": {"Type": "Task", "Resource": ECHO, "Next": "Route"},
    "Route": {"Type": "Choice", "Default": "Boom",
              "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}]},
    "Done": {"Type": "Succeed"},
    "Boom": {"Type": "Task", "Resource": BOOM, "End": True}}}


def scrape(url: str) -> dict[tuple, float]:
    """(sample name, sorted labels) -> value."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = answer.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db = tmp_path_factory.mktemp("metrics") / "stepstone.db"
    running = Server(f"sqlite:///{db}").start()
    yield running
    running.stop()


def test_metrics_of_serve_move_as_executions_run(served):
    sfn = client(served.endpoint)
    url = f"{served.endpoint}/metrics"
    machine = sfn.create_state_machine(name="metered", definition=json.dumps(DEFINITION),
                                       roleArn=ROLE)["stateMachineArn"]
    before = scrape(url)
    arns = [sfn.start_execution(stateMachineArn=machine, input=json.dumps({"ok": ok}))["executionArn"]
            for ok in (True, False)]
    assert [wait_done(sfn, arn)["status"] for arn in arns] == ["SUCCEEDED", "FAILED"]
    after = scrape(url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)
    assert moved("stepstone_executions_started_total", state_machine="metered") == 2
    assert moved("stepstone_executions_finished_total", state_machine="metered", status="SUCCEEDED") == 1
    assert moved("stepstone_executions_finished_total", state_machine="metered", status="FAILED") == 1
    assert moved("stepstone_state_transitions_total", state_machine="metered") == 6  # 3 states each
    assert moved("stepstone_task_duration_seconds_count", resource=ECHO) == 2
    assert moved("stepstone_task_duration_seconds_count", resource=BOOM) == 1
    assert ("stepstone_queue_depth", ()) in after and ("stepstone_due_timers", ()) in after
    assert value(after, "stepstone_executions_running") == 0
    assert ("process_cpu_seconds_total", ()) in after


def test_serve_logs_json_lines_with_the_arn_of_each_execution_that_ended(served):
    sfn = client(served.endpoint)
    machine = sfn.create_state_machine(name="logged", definition=json.dumps(DEFINITION),
                                       roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"ok": false}')["executionArn"]
    assert wait_done(sfn, arn)["status"] == "FAILED"
    deadline = time.time() + 10
    while arn not in served.log() and time.time() < deadline:
        time.sleep(0.05)
    records = [json.loads(line) for line in served.log().splitlines() if line.strip()]  # all JSON
    [ended] = [record for record in records if record.get("executionArn") == arn]
    assert ended["level"] == "WARNING" and ended["status"] == "FAILED"
    assert ended["error"] == "ValueError" and ended["stateMachineArn"] == machine
    assert ended["logger"] == "engine.executions" and "time" in ended and arn in ended["message"]


def test_a_worker_answers_scrapes_on_its_metrics_port_and_exports_spans(tmp_path):
    from engine import Engine
    from engine.settings import from_environment
    db = f"sqlite:///{tmp_path / 'worker.db'}"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "STEPSTONE_POLL_SECONDS": "0.1",
           "OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "stepstone-test"}
    with Engine(settings=from_environment().with_flags(db_url=db)) as starter:  # runs no workers
        machine = starter.create_state_machine(name="fleet", definition=json.dumps(DEFINITION),
                                               role_arn=ROLE)["stateMachineArn"]
        arn = starter.start_execution(machine, input='{"ok": true}')["executionArn"]
    printed, log = tmp_path / "spans.jsonl", tmp_path / "worker.log"
    with open(printed, "wb") as stdout, open(log, "wb") as stderr:
        worker = subprocess.Popen(
            [sys.executable, "-m", "engine", "worker", "--db", db, "--handlers", str(HANDLERS),
             "--handlers", str(TEST_HANDLERS), "--metrics-port", str(port), "--log-format", "text"],
            cwd=REPO, env=env, stdout=stdout, stderr=stderr)
    try:
        deadline = time.time() + 30
        finished = 0.0
        while time.time() < deadline and not finished:
            try:
                finished = value(scrape(f"http://127.0.0.1:{port}/metrics"),
                                 "stepstone_executions_finished_total", state_machine="fleet",
                                 status="SUCCEEDED")
            except OSError:  # not listening yet
                pass
            time.sleep(0.1)
        assert finished == 1, log.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    assert f"[executionArn={arn}" in log.read_text()  # the text format
    exported = printed.read_text()  # ConsoleSpanExporter: one JSON document per span, flushed at exit
    assert '"name": "fleet"' in exported and '"name": "Echo"' in exported
    assert f"0x{trace_id(arn):032x}" in exported
