"""A STANDARD execution parked in a Wait survives ``kill -9`` of ``stepstone serve``."""
from __future__ import annotations

import json
import time

from support import ROLE, Server, client, wait_done

WAIT_THEN_PASS = {
    "StartAt": "Before",
    "States": {
        "Before": {"Type": "Pass", "Result": "parked", "ResultPath": "$.step", "Next": "Park"},
        "Park": {"Type": "Wait", "Seconds": 3, "Next": "After"},
        "After": {"Type": "Pass", "Result": "resumed", "ResultPath": "$.step", "End": True},
    },
}


def test_wait_survives_kill_9_without_duplicate_events(tmp_path):
    db = f"sqlite:///{tmp_path / 'crash.db'}"
    # short leases so the restarted process takes over the dead one's claims quickly
    env = {"STEPSTONE_LEASE_SECONDS": "1"}
    first = Server(db, env).start()
    try:
        sfn = client(first.endpoint)
        arn = sfn.create_state_machine(name="crashy", definition=json.dumps(WAIT_THEN_PASS),
                                       roleArn=ROLE)["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 7}')["executionArn"]
        time.sleep(0.5)
        before = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
        assert before[-1] == "WaitStateEntered"
    finally:
        first.kill()

    second = Server(db, env).start()
    try:
        sfn = client(second.endpoint)
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        described = wait_done(sfn, execution, timeout=30)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"n": 7, "step": "resumed"}
        events = sfn.get_execution_history(executionArn=execution)["events"]
        assert [e["type"] for e in events] == [
            "ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered",
            "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
        assert [e["id"] for e in events] == list(range(1, 9))
    finally:
        second.stop()
