"""Nothing is lost when workers die: 300 executions (Task, Wait, Parallel, Map, Retry) run on three
`stepstone worker` processes against one PostgreSQL while workers are killed with SIGKILL at
random moments and restarted, and while PostgreSQL itself restarts.

Afterwards every execution has succeeded with the right output, every history is the events
1..N with nothing missing or twice, and each task attempt is recorded exactly once. Leases,
redispatch and polling are shortened so that recovery happens within the test's time bound.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from engine import Engine
from engine.settings import from_environment

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HANDLERS = str(HERE / "crash_handlers.py")
ROLE = "arn:aws:iam::123456789012:role/crash"
EXECUTIONS = 300
CHAOS_SECONDS = 12.0  # the longest pause is 12 s: executions are still running when it ends
FINISH_TIMEOUT = 180.0
FAST_RECOVERY = {"STEPSTONE_LEASE_SECONDS": "2", "STEPSTONE_TASK_REDISPATCH_SECONDS": "3",
                 "STEPSTONE_POLL_SECONDS": "0.1"}

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"
INC = {"Type": "Task", "Resource": LAMBDA + "crash-inc"}
DEFINITION = {"StartAt": "First", "States": {
    "First": {**INC, "Next": "Pause"},
    "Pause": {"Type": "Wait", "SecondsPath": "$.pause", "Next": "Both"},
    "Both": {"Type": "Parallel", "Branches": [
        {"StartAt": "Left", "States": {"Left": {**INC, "End": True}}},
        {"StartAt": "Right", "States": {"Right": {**INC, "End": True}}}],
        "ResultSelector": {"n.$": "$[0].n", "items.$": "$[0].items"}, "Next": "Each"},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemSelector": {"n.$": "$$.Map.Item.Value"},
             "MaxConcurrency": 2, "ItemProcessor": {"StartAt": "Item", "States": {"Item": {**INC, "End": True}}},
             "ResultPath": "$.mapped", "Next": "Flaky"},
    "Flaky": {"Type": "Task", "Resource": LAMBDA + "crash-flaky",
              "Parameters": {"n.$": "$.n", "attempt.$": "$$.State.RetryCount"},
              "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2,
                         "BackoffRate": 1}], "End": True}}}
# First, Left, Right, three Items, and Flaky twice (the first attempt fails)
TASK_ATTEMPTS = {"First": 1, "Left": 1, "Right": 1, "Item": 3, "Flaky": 2}


def expected_output(n: int) -> dict:
    return {"n": n + 1 + 1 + 100}  # First, then the left branch's result, then Flaky


def _worker(db_url: str) -> subprocess.Popen:
    env = {**os.environ, **FAST_RECOVERY, "PYTHONPATH": str(REPO)}
    # stderr: not a pipe nobody reads (a worker logs every execution's end and would block on it)
    return subprocess.Popen([sys.executable, "-m", "engine", "worker", "--db", db_url, "--handlers", HANDLERS,
                             "--workers", "1"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _restart_postgres() -> None:
    clusters = sorted(os.listdir("/etc/postgresql"))
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", clusters[-1], "main", "restart"],
                   check=True, timeout=60, capture_output=True)


def _can_restart_postgres() -> bool:
    """Restarting the server breaks every other test run using it at that moment, so it is done
    only under CI (one run per machine) or when asked (STEPSTONE_TEST_RESTART_POSTGRES=1)."""
    asked = os.environ.get("STEPSTONE_TEST_RESTART_POSTGRES", "1" if os.environ.get("CI") else "")
    return asked == "1" and shutil.which("pg_ctlcluster") is not None \
        and os.path.isdir("/etc/postgresql") and os.geteuid() == 0


def _run_with_chaos(db_url: str, restart_postgres: bool) -> None:
    settings = from_environment().with_flags(db_url=db_url)
    with Engine(settings=settings) as engine:  # starts executions; runs none of their steps
        machine = engine.create_state_machine(name="crash", definition=json.dumps(DEFINITION),
                                              role_arn=ROLE)["stateMachineArn"]
        # pauses spread the executions over the chaos, so that kills and the restart hit them mid-way
        inputs = {f"run-{i:03}": {"n": i * 1000, "items": [1, 2, 3], "pause": 1 + i % 12}
                  for i in range(EXECUTIONS)}
        workers = [_worker(db_url) for _ in range(3)]
        try:
            for name, value in inputs.items():
                engine.start_execution(machine, name=name, input=json.dumps(value))
            chaos = random.Random(7)
            kills, deadline = 0, time.monotonic() + CHAOS_SECONDS
            restarted = not restart_postgres
            while time.monotonic() < deadline:
                time.sleep(chaos.uniform(0.3, 1.2))
                victim = chaos.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = _worker(db_url)
                kills += 1
                if not restarted and time.monotonic() > deadline - CHAOS_SECONDS * 2 / 3:
                    assert _running(engine, machine), "the restart must hit executions mid-way"
                    _restart_postgres()
                    restarted = True
            assert kills >= 10
            assert _running(engine, machine), "the chaos must last until executions are still running"
            _wait_all_ended(engine, machine)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGKILL)
                worker.wait()
        _check_every_execution(engine, machine, inputs)


def _running(engine: Engine, machine: str) -> bool:
    return bool(engine.list_executions(machine, status_filter="RUNNING", max_results=1)["executions"])


def _wait_all_ended(engine: Engine, machine: str) -> None:
    deadline = time.monotonic() + FINISH_TIMEOUT
    while time.monotonic() < deadline:
        if not _running(engine, machine):
            return
        time.sleep(0.5)
    pytest.fail(f"executions still running after {FINISH_TIMEOUT} s")


def _check_every_execution(engine: Engine, machine: str, inputs: dict) -> None:
    for name, value in inputs.items():
        arn = machine.replace(":stateMachine:", ":execution:") + f":{name}"
        described = engine.describe_execution(arn)
        assert described["status"] == "SUCCEEDED", (name, described.get("error"), described.get("cause"))
        assert json.loads(described["output"])["n"] == expected_output(value["n"])["n"], name
        events = engine.get_execution_history(arn, max_results=1000)["events"]
        assert [event["id"] for event in events] == list(range(1, len(events) + 1)), name
        scheduled = Counter(event["stateEnteredEventDetails"]["name"] for event in events
                            if event["type"] == "TaskStateEntered")
        assert scheduled == Counter({state: 1 for state in ("First", "Left", "Right", "Flaky")} | {"Item": 3}), name
        attempts = Counter(_task_state(events, event) for event in events
                           if event["type"] == "LambdaFunctionScheduled")
        assert attempts == Counter(TASK_ATTEMPTS), name
        assert sum(event["type"] == "ExecutionSucceeded" for event in events) == 1


def _task_state(events: list[dict], scheduled: dict) -> str:
    """The name of the Task state a LambdaFunctionScheduled event belongs to."""
    by_id = {event["id"]: event for event in events}
    event = scheduled
    while event["type"] != "TaskStateEntered":
        event = by_id[event["previousEventId"]]
    return event["stateEnteredEventDetails"]["name"]


def test_killed_workers_lose_nothing(pg_url):
    _run_with_chaos(pg_url, restart_postgres=False)


@pytest.mark.skipif(not _can_restart_postgres(), reason="restarts PostgreSQL: under CI, or with "
                    "STEPSTONE_TEST_RESTART_POSTGRES=1 (needs root and pg_ctlcluster)")
def test_killed_workers_and_a_postgres_restart_lose_nothing(pg_url):
    _run_with_chaos(pg_url, restart_postgres=True)


def test_sigterm_lets_a_worker_finish_its_round_and_leave(pg_url):
    settings = from_environment().with_flags(db_url=pg_url)
    with Engine(settings=settings) as engine:
        machine = engine.create_state_machine(name="crash", definition=json.dumps(DEFINITION),
                                              role_arn=ROLE)["stateMachineArn"]
        inputs = {f"run-{i:03}": {"n": i * 1000, "items": [1, 2, 3], "pause": 1 + i % 3} for i in range(60)}
        leaving, staying = _worker(pg_url), _worker(pg_url)
        try:
            for name, value in inputs.items():
                engine.start_execution(machine, name=name, input=json.dumps(value))
            time.sleep(1.5)
            assert _running(engine, machine)
            leaving.send_signal(signal.SIGTERM)
            assert leaving.wait(timeout=15) == 0  # a clean exit: its round finished, answers handed over
            _wait_all_ended(engine, machine)
        finally:
            for worker in (leaving, staying):
                if worker.poll() is None:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
        _check_every_execution(engine, machine, inputs)


def test_an_idle_worker_wakes_on_postgresql_notify_not_on_its_poll(pg_url):
    sleepy = {**os.environ, "PYTHONPATH": str(REPO), "STEPSTONE_POLL_SECONDS": "60"}
    worker = subprocess.Popen([sys.executable, "-m", "engine", "worker", "--db", pg_url, "--handlers", HANDLERS,
                               "--workers", "1"], cwd=REPO, env=sleepy,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with Engine(settings=from_environment().with_flags(db_url=pg_url)) as engine:
            machine = engine.create_state_machine(name="wake", definition=json.dumps(
                {"StartAt": "Inc", "States": {"Inc": {**INC, "End": True}}}), role_arn=ROLE)["stateMachineArn"]
            time.sleep(2.0)  # the worker is idle now, sleeping until its next poll (60 s)
            arn = engine.start_execution(machine, input='{"n": 1}')["executionArn"]
            deadline = time.monotonic() + 10
            while engine.describe_execution(arn)["status"] == "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.1)
            described = engine.describe_execution(arn)
        assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"n": 2})
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
