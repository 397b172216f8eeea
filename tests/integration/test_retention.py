"""Retention through the Engine on a clock that moves by months: the background purge that
``start()`` runs, executions that outlive it, a ``.sync`` parent whose finished child is purged
while it still runs, and ``stepstone db purge``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from engine import Engine, errors
from engine.clock import FakeClock
from engine.runtime.retention import DAY
from engine.settings import from_environment

ROLE = "arn:aws:iam::123456789012:role/test"
PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
REPO = Path(__file__).resolve().parents[2]
WAIT_DAYS = 100  # longer than the 90 days kept


def stepstone(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def engine_on(url: str, clock: FakeClock, **flags) -> Engine:
    return Engine(settings=from_environment().with_flags(db_url=url, **flags), clock=clock)


def machine(engine: Engine, name: str, definition: dict) -> str:
    return engine.create_state_machine(name, json.dumps(definition), ROLE)["stateMachineArn"]


def finished(engine: Engine, machine_arn: str, name: str) -> str:
    arn = engine.start_execution(machine_arn, name=name)["executionArn"]
    engine.run_until_idle()
    assert engine.describe_execution(arn)["status"] == "SUCCEEDED"
    return arn


def exists(engine: Engine, arn: str) -> bool:
    try:
        engine.describe_execution(arn)
    except errors.ExecutionDoesNotExist:
        return False
    return True


def waiting(days: float) -> dict:
    return {"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": int(days * DAY),
                                                     "End": True}}}


def test_the_started_engine_purges_old_executions_and_keeps_the_others():
    clock = FakeClock()
    with engine_on("sqlite://", clock, retention_interval_seconds=3600.0) as engine:
        quick = machine(engine, "quick", PASS)
        old = finished(engine, quick, "old")
        sleeper = engine.start_execution(machine(engine, "sleeper", waiting(WAIT_DAYS)))["executionArn"]
        engine.run_until_idle()
        clock.advance(91 * DAY)
        recent = finished(engine, quick, "recent")

        engine.start(workers=1)  # the first purge runs at once, then hourly
        deadline = time.monotonic() + 10
        while exists(engine, old) and time.monotonic() < deadline:
            time.sleep(0.01)

        assert not exists(engine, old)
        assert engine.get_execution_history(recent)["events"]
        assert engine.describe_execution(sleeper)["status"] == "RUNNING"  # started 91 days ago


def test_a_parent_still_running_after_its_sync_child_was_purged_completes():
    clock = FakeClock()
    with engine_on("sqlite://", clock) as engine:
        child = machine(engine, "child", PASS)
        parent = machine(engine, "parent", {"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                     "Parameters": {"StateMachineArn": child, "Name": "kid", "Input": {"n": 1}},
                     "Next": "Sleep"},
            "Sleep": {"Type": "Wait", "Seconds": int(WAIT_DAYS * DAY), "End": True}}})
        arn = engine.start_execution(parent)["executionArn"]
        clock.advance(1)  # the start left its task for a worker to hand out (at once, on a clock that moves)
        engine.run_until_idle()
        kid = arn.replace(":execution:parent:", ":execution:child:").rsplit(":", 1)[0] + ":kid"
        assert engine.describe_execution(kid)["status"] == "SUCCEEDED"

        clock.advance(91 * DAY)
        assert engine.retention.purge() == {"executions": 1, "history_events": 4}
        assert not exists(engine, kid)

        clock.advance((WAIT_DAYS - 91) * DAY)
        engine.run_until_idle()
        described = engine.describe_execution(arn)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"])["Output"] == {"n": 1}


def test_db_purge_reports_then_deletes_what_is_older_than_asked(tmp_path):
    db = f"sqlite:///{tmp_path / 'purge.db'}"
    clock = FakeClock(time.time() - 40 * DAY)
    with engine_on(db, clock) as engine:
        quick = machine(engine, "quick", PASS)
        old = finished(engine, quick, "old")
        clock.set(time.time())
        recent = finished(engine, quick, "recent")

    dry = stepstone("db", "purge", "--db", db, "--older-than-days", "30", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would delete (finished or settled more than 30 days ago): "
                                 "1 executions, 4 history_events")
    purged = stepstone("db", "purge", "--db", db, "--older-than-days", "30")
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.startswith("deleted (finished or settled more than 30 days ago): "
                                    "1 executions, 4 history_events")

    with engine_on(db, FakeClock()) as engine:
        assert not exists(engine, old) and exists(engine, recent)
    again = stepstone("db", "purge", "--db", db, "--older-than-days", "30")
    assert "deleted (finished or settled more than 30 days ago): 0 executions" in again.stdout


def test_db_purge_refuses_when_retention_is_off(tmp_path):
    result = stepstone("db", "purge", "--db", f"sqlite:///{tmp_path / 'off.db'}",
                       env={"STEPSTONE_RETENTION_DAYS": ""})
    assert result.returncode == 2 and "retention is off" in result.stderr
