"""RedriveExecution through an unmodified boto3 client against ``stepstone serve``, and the CLI verb."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from support import ROLE, wait_done

REPO = Path(__file__).resolve().parents[2]
FLAGGED = "arn:aws:lambda:us-east-1:123456789012:function:fail-until-flag"


def create(sfn, definition: dict, type_: str = "STANDARD") -> str:
    return sfn.create_state_machine(name=f"redrive-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                    roleArn=ROLE, type=type_)["stateMachineArn"]


def start(sfn, machine: str, value: dict) -> str:
    return sfn.start_execution(stateMachineArn=machine, input=json.dumps(value))["executionArn"]


def not_redrivable(sfn, arn: str, **kwargs) -> str:
    with pytest.raises(ClientError) as raised:
        sfn.redrive_execution(executionArn=arn, **kwargs)
    assert raised.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    return raised.value.response["Error"]["Message"]


def history(sfn, arn: str) -> list[dict]:
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


TASK_MACHINE = {"StartAt": "Prepare", "States": {
    "Prepare": {"Type": "Pass", "Result": "ready", "ResultPath": "$.prep", "Next": "Call"},
    "Call": {"Type": "Task", "Resource": FLAGGED,
             "Parameters": {"flag.$": "$.flag", "item.$": "$$.Execution.RedriveCount"},
             "Retry": [{"ErrorEquals": ["NotYet"], "MaxAttempts": 1, "IntervalSeconds": 1}],
             "End": True}}}


def test_a_failed_task_is_redriven_from_its_state_and_then_succeeds(sfn, tmp_path):
    flag = tmp_path / "flag"
    machine = create(sfn, TASK_MACHINE)
    arn = start(sfn, machine, {"flag": str(flag)})

    # Given an execution whose Task failed after its retry
    failed = wait_done(sfn, arn)
    assert (failed["status"], failed["error"]) == ("FAILED", "NotYet")
    assert (failed["redriveCount"], failed["redriveStatus"]) == (0, "REDRIVABLE")
    assert "redriveStatusReason" not in failed and "redriveDate" not in failed
    first = history(sfn, arn)

    # When the handler is fixed and the execution redriven
    flag.write_text("go")
    redriven = sfn.redrive_execution(executionArn=arn)["redriveDate"]

    # Then it succeeds, with the Pass state's result kept and only the Task run again
    done = wait_done(sfn, arn)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == {"item": 1, "done": True}
    assert (done["redriveCount"], done["redriveDate"]) == (1, redriven)
    assert (done["redriveStatus"], done["redriveStatusReason"]) == (
        "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven")
    assert "stopDate" in done and "error" not in done
    events = history(sfn, arn)
    assert events[:len(first)] == first
    redrive_event, entered = events[len(first)], events[len(first) + 1]
    assert redrive_event["type"] == "ExecutionRedriven"
    assert redrive_event["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert redrive_event["previousEventId"] == first[-1]["id"]
    assert entered["type"] == "TaskStateEntered" and entered["stateEnteredEventDetails"]["name"] == "Call"
    assert json.loads(entered["stateEnteredEventDetails"]["input"]) == {"flag": str(flag), "prep": "ready"}
    assert types(events).count("PassStateEntered") == 1
    assert types(events)[-1] == "ExecutionSucceeded"

    # And the listing filters on it, and a succeeded execution cannot be redriven again
    listed = {e["executionArn"]: e for e in sfn.list_executions(
        stateMachineArn=machine, redriveFilter="REDRIVEN")["executions"]}
    assert listed[arn]["redriveCount"] == 1 and listed[arn]["redriveDate"] == redriven
    assert sfn.list_executions(stateMachineArn=machine, redriveFilter="NOT_REDRIVEN")["executions"] == []
    assert not_redrivable(sfn, arn) == "Execution is SUCCEEDED and cannot be redriven"


def test_a_map_reruns_only_its_unsuccessful_iterations(sfn, tmp_path):
    flag = tmp_path / "flag"
    machine = create(sfn, {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items",
        "ItemSelector": {"flag": str(flag), "item.$": "$$.Map.Item.Value.n", "ok.$": "$$.Map.Item.Value.ok"},
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": FLAGGED,
                                                                 "End": True}}},
        "End": True}}})
    items = [{"n": n, "ok": n not in (1, 3)} for n in range(5)]
    arn = start(sfn, machine, {"items": items})
    assert wait_done(sfn, arn)["status"] == "FAILED"
    first = history(sfn, arn)
    succeeded = {e["mapIterationSucceededEventDetails"]["index"] for e in first
                 if e["type"] == "MapIterationSucceeded"}
    assert 1 not in succeeded and 3 not in succeeded

    flag.write_text("go")
    sfn.redrive_execution(executionArn=arn)
    done = wait_done(sfn, arn)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"]) == [{"item": n, "done": True} for n in range(5)]
    rerun = [e["mapIterationStartedEventDetails"]["index"] for e in history(sfn, arn)[len(first):]
             if e["type"] == "MapIterationStarted"]
    assert sorted(rerun) == sorted(set(range(5)) - succeeded)


def test_running_unknown_and_express_executions_are_not_redrivable(sfn):
    waiting = create(sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
    arn = start(sfn, waiting, {})
    described = sfn.describe_execution(executionArn=arn)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven")
    assert not_redrivable(sfn, arn) == "Execution is RUNNING and cannot be redriven"

    # an aborted execution is redrivable: its Wait is entered again
    sfn.stop_execution(executionArn=arn)
    assert wait_done(sfn, arn)["redriveStatus"] == "REDRIVABLE"
    sfn.redrive_execution(executionArn=arn)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    assert types(history(sfn, arn))[-2:] == ["ExecutionRedriven", "WaitStateEntered"]
    sfn.stop_execution(executionArn=arn)

    with pytest.raises(ClientError) as raised:
        sfn.redrive_execution(executionArn=arn.rsplit(":", 1)[0] + ":missing")
    assert raised.value.response["Error"]["Code"] == "ExecutionDoesNotExist"

    express = create(sfn, {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}, "EXPRESS")
    failed = start(sfn, express, {})
    assert wait_done(sfn, failed)["status"] == "FAILED"
    assert "EXPRESS" in not_redrivable(sfn, failed)


def test_the_same_client_token_redrives_once(sfn, tmp_path):
    machine = create(sfn, TASK_MACHINE)
    arn = start(sfn, machine, {"flag": str(tmp_path / "never")})
    assert wait_done(sfn, arn)["status"] == "FAILED"

    first = sfn.redrive_execution(executionArn=arn, clientToken="token-1")["redriveDate"]
    assert sfn.redrive_execution(executionArn=arn, clientToken="token-1")["redriveDate"] == first
    failed_again = wait_done(sfn, arn)
    assert (failed_again["status"], failed_again["redriveCount"]) == ("FAILED", 1)
    # the token still answers after the redriven run failed again: no second redrive
    assert sfn.redrive_execution(executionArn=arn, clientToken="token-1")["redriveDate"] == first
    assert sfn.describe_execution(executionArn=arn)["redriveCount"] == 1
    # a new token redrives again
    second = sfn.redrive_execution(executionArn=arn, clientToken="token-2")["redriveDate"]
    assert second > first and sfn.describe_execution(executionArn=arn)["redriveCount"] == 2
    assert types(history(sfn, arn)).count("ExecutionRedriven") == 2
    wait_done(sfn, arn)


def test_cli_redrive(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    definition = tmp_path / "fails.json"
    definition.write_text(json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}))

    def stepstone(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "engine", *args, "--db", db], cwd=REPO,
                              capture_output=True, text=True, timeout=120)

    assert stepstone("run", str(definition), "--name", "once").returncode != 0
    [listed] = json.loads(stepstone("executions", "fails", "--json").stdout)
    redriven = stepstone("redrive", listed["executionArn"])
    assert redriven.returncode == 0, redriven.stderr
    assert redriven.stdout.startswith("redriven at ")
    events = json.loads(stepstone("history", listed["executionArn"], "--json").stdout)
    assert [e["type"] for e in events][-3:] == ["ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]
    again = stepstone("redrive", listed["executionArn"], "--client-token", "bad token")
    assert again.returncode == 1 and "ValidationException" in again.stderr
