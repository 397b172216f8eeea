"""Choreography through the bus: a workflow's end starts another; a workflow publishes events."""
from __future__ import annotations

import json
import time

from support import ROLE, client, wait_done

PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "Result": {"shipped": True}, "End": True}}}
FAIL = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}}}
ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}


def _machine(sfn, name: str, definition: dict) -> str:
    return sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                    roleArn=ROLE)["stateMachineArn"]


def _executions(sfn, arn: str, count: int, timeout: float = 20.0) -> list[dict]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = sfn.list_executions(stateMachineArn=arn)["executions"]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    return sfn.list_executions(stateMachineArn=arn)["executions"]


def test_status_changes_are_published_and_start_a_follow_up(sfn, server):
    events = client(server.endpoint, "events")
    upstream = _machine(sfn, "choreo-upstream", PASS)
    failing = _machine(sfn, "choreo-failing", FAIL)
    follow_up = _machine(sfn, "choreo-follow-up", ECHO)
    events.put_rule(Name="on-upstream-done", EventPattern=json.dumps({
        "source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["SUCCEEDED", "FAILED"], "stateMachineArn": [upstream, failing]}}))
    events.put_targets(Rule="on-upstream-done", Targets=[{"Id": "next", "Arn": follow_up}])

    done = sfn.start_execution(stateMachineArn=upstream, name="u1", input='{"order": 7}')["executionArn"]
    broken = sfn.start_execution(stateMachineArn=failing, name="f1")["executionArn"]
    assert wait_done(sfn, done)["status"] == "SUCCEEDED"
    started = _executions(sfn, follow_up, 2)
    assert len(started) == 2
    inputs = [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in started]
    by_status = {event["detail"]["status"]: event for event in inputs}
    succeeded = by_status["SUCCEEDED"]
    assert succeeded["source"] == "aws.states" and succeeded["resources"] == [done]
    assert succeeded["detail"]["executionArn"] == done and succeeded["detail"]["name"] == "u1"
    assert json.loads(succeeded["detail"]["output"]) == {"shipped": True}
    assert json.loads(succeeded["detail"]["input"]) == {"order": 7}
    assert isinstance(succeeded["detail"]["startDate"], int) and succeeded["detail"]["stopDate"] >= \
        succeeded["detail"]["startDate"]
    failed = by_status["FAILED"]["detail"]
    assert (failed["executionArn"], failed["error"], failed["cause"], failed["output"]) == (
        broken, "Broken", "on purpose", None)
    time.sleep(0.5)  # RUNNING changes are published too, but this rule does not match them
    assert len(sfn.list_executions(stateMachineArn=follow_up)["executions"]) == 2


def test_a_workflow_publishes_events_with_put_events(sfn, server):
    events = client(server.endpoint, "events")
    receiver = _machine(sfn, "choreo-receiver", ECHO)
    events.put_rule(Name="order-shipped", EventPattern=json.dumps({"source": ["shop.shipping"]}))
    events.put_targets(Rule="order-shipped", Targets=[{"Id": "r", "Arn": receiver}])
    publisher = _machine(sfn, "choreo-publisher", {"StartAt": "Publish", "States": {"Publish": {
        "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {"Entries": [{"Source": "shop.shipping", "DetailType": "OrderShipped",
                                    "Detail": {"orderId.$": "$.orderId"}}]}, "End": True}}})
    execution = sfn.start_execution(stateMachineArn=publisher, input='{"orderId": "o-9"}')["executionArn"]
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    answer = json.loads(described["output"])
    assert answer["FailedEntryCount"] == 0 and len(answer["Entries"]) == 1
    [received] = _executions(sfn, receiver, 1)
    event = json.loads(sfn.describe_execution(executionArn=received["executionArn"])["input"])
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert event["detail"] == {"orderId": "o-9"} and event["detail-type"] == "OrderShipped"
    assert event["resources"] == [execution, publisher]  # appended as AWS's integration does


def test_a_failed_entry_fails_the_task(sfn):
    publisher = _machine(sfn, "choreo-bad-publisher", {"StartAt": "Publish", "States": {"Publish": {
        "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
        "Parameters": {"Entries": [{"Source": "s", "DetailType": "t", "Detail": {},
                                    "EventBusName": "no-such-bus"}]}, "End": True}}})
    described = wait_done(sfn, sfn.start_execution(stateMachineArn=publisher)["executionArn"])
    assert (described["status"], described["error"]) == ("FAILED", "EventBridge.FailedEntry")
    assert json.loads(described["cause"])["FailedEntryCount"] == 1
