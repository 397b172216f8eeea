"""The approval example end to end, with a simulated approver (CLI and boto3)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from support import ROLE, wait_done

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "definitions"
EXPENSE = json.loads((DEFINITIONS / "approval.input.json").read_text())


def stepstone(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def _waiting(db: str, timeout: float = 30.0) -> list[dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        listed = stepstone("tokens", "--db", db, "--json")
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)
        if rows:
            return rows
        time.sleep(0.2)
    raise AssertionError("no task is waiting for an approver")


def test_approver_approves_through_the_cli(tmp_path):
    db = f"sqlite:///{tmp_path / 'approval.db'}"
    run = subprocess.Popen(
        [sys.executable, "-m", "engine", "run", str(DEFINITIONS / "approval.yaml"), "--db", db,
         "--input", json.dumps(EXPENSE), "--handlers", str(DEFINITIONS / "handlers.py")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        waiting = _waiting(db)
        assert [row["stateName"] for row in waiting] == ["RequestApproval"]
        assert json.loads(waiting[0]["input"])["Payload"]["approver"] == "manager"
        assert waiting[0]["deadline"] - waiting[0]["created"] == EXPENSE["approvalDeadlineSeconds"]
        table = stepstone("tokens", "--db", db)
        assert "RequestApproval" in table.stdout and waiting[0]["taskToken"] in table.stdout
        sent = stepstone("send-task-success", waiting[0]["taskToken"], "--db", db,
                         "--output", '{"approvedBy": "grace"}')
        assert sent.returncode == 0, sent.stderr
        again = stepstone("send-task-success", waiting[0]["taskToken"], "--db", db)
        assert again.returncode == 1 and "TaskTimedOut" in again.stderr
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 0, err
    assert json.loads(out) == {"booked": "EXP-7", "holdId": json.loads(out)["holdId"], "approvedBy": "grace"}
    assert "approval needed from manager" in err


def _start(sfn, name: str, expense: dict) -> str:
    definition = (DEFINITIONS / "approval.yaml").read_text()
    try:
        arn = sfn.create_state_machine(name="approval", definition=definition, roleArn=ROLE)["stateMachineArn"]
    except sfn.exceptions.StateMachineAlreadyExists:
        arn = "arn:aws:states:us-east-1:123456789012:stateMachine:approval"
    return sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(expense))["executionArn"]


def _token_for(sfn, execution: str, state: str) -> str:
    deadline = time.time() + 20
    while time.time() < deadline:
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        entered = [e for e in events if e["type"] == "TaskStateEntered"
                   and e["stateEnteredEventDetails"]["name"] == state]
        scheduled = [e for e in events if e["type"] == "TaskScheduled" and entered
                     and e["id"] > entered[-1]["id"]]
        if scheduled:
            return json.loads(scheduled[-1]["taskScheduledEventDetails"]["parameters"])["Payload"]["taskToken"]
        time.sleep(0.05)
    raise AssertionError(f"{state} never handed out a token")


def test_rejection_releases_the_hold(sfn):
    execution = _start(sfn, "rejected", EXPENSE)
    sfn.send_task_failure(taskToken=_token_for(sfn, execution, "RequestApproval"), error="Rejected",
                          cause="over budget")
    described = wait_done(sfn, execution)
    assert (described["status"], described["error"]) == ("FAILED", "ExpenseRejected")
    states = [e["stateEnteredEventDetails"]["name"] for e in
              sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
              if e["type"].endswith("StateEntered")]
    assert states == ["HoldBudget", "RequestApproval", "ReleaseHold", "Rejected"]


def test_silence_escalates_to_the_director(sfn):
    execution = _start(sfn, "escalated", {**EXPENSE, "approvalDeadlineSeconds": 1})
    director = _token_for(sfn, execution, "Escalate")
    sfn.send_task_success(taskToken=director, output='{"approvedBy": "director"}')
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["approvedBy"] == "director"


def test_activity_worker_example_answers_a_review(sfn, server):
    definition = (DEFINITIONS / "activity-review.yaml").read_text()
    sfn.create_activity(name="document-review")
    arn = sfn.create_state_machine(name="activity-review", definition=definition,
                                   roleArn=ROLE)["stateMachineArn"]
    document = json.loads((DEFINITIONS / "activity-review.input.json").read_text())
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(document))["executionArn"]
    worker = subprocess.run([sys.executable, str(DEFINITIONS / "activity_worker.py"), "--endpoint",
                             server.endpoint, "--once"], capture_output=True, text=True, timeout=60)
    assert worker.returncode == 0, worker.stderr
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["verdict"] == "approved"
