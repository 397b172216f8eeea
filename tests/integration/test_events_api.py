"""The EventBridge API through an unmodified boto3 ``events`` client against ``stepstone serve``:
every action, AWS's errors, delivery to a state machine, redelivery, dead letters (CLI)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from engine.store import Store
from support import REPO, ROLE, Server, client

PASS = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


@pytest.fixture(scope="module")
def bus_server(tmp_path_factory):
    db = tmp_path_factory.mktemp("bus") / "stepstone.db"
    running = Server(f"sqlite:///{db}", {"STEPSTONE_EVENT_RETRY_SECONDS": "0.2"}).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def events(bus_server):
    return client(bus_server.endpoint, "events")


@pytest.fixture(scope="module")
def sfn(bus_server):
    return client(bus_server.endpoint)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_code(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    return raised.value.response["Error"]["Code"]


def executions_of(sfn, arn: str, count: int, timeout: float = 15.0, settle: float = 1.0) -> list[dict]:
    """Wait for ``count`` executions, then watch ``settle`` seconds more for extra ones."""
    deadline, found = time.time() + timeout, []
    while time.time() < deadline:
        found = sfn.list_executions(stateMachineArn=arn)["executions"]
        if len(found) >= count:
            break
        time.sleep(0.1)
    time.sleep(settle)
    return sfn.list_executions(stateMachineArn=arn)["executions"]


def machine(sfn, name: str | None = None) -> str:
    return sfn.create_state_machine(name=name or unique("m"), definition=PASS, roleArn=ROLE)["stateMachineArn"]


def cli(bus_server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args, "--db", bus_server.db_url],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


# --- event buses ---------------------------------------------------------------------------------
def test_event_buses(events):
    name = unique("orders")
    arn = events.create_event_bus(Name=name, Description="orders")["EventBusArn"]
    assert arn == f"arn:aws:events:us-east-1:123456789012:event-bus/{name}"
    described = events.describe_event_bus(Name=name)
    assert (described["Name"], described["Arn"], described["Description"]) == (name, arn, "orders")
    assert events.describe_event_bus()["Arn"] == "arn:aws:events:us-east-1:123456789012:event-bus/default"
    assert events.describe_event_bus(Name=arn)["Name"] == name
    listed = events.list_event_buses()["EventBuses"]
    assert {"default", name} <= {bus["Name"] for bus in listed}
    assert [b["Name"] for b in events.list_event_buses(NamePrefix=name)["EventBuses"]] == [name]
    first = events.list_event_buses(Limit=1)
    assert len(first["EventBuses"]) == 1 and first["NextToken"]
    assert events.list_event_buses(Limit=1, NextToken=first["NextToken"])["EventBuses"] != first["EventBuses"]
    assert error_code(events.create_event_bus, Name=name) == "ResourceAlreadyExistsException"
    assert error_code(events.create_event_bus, Name="default") == "ResourceAlreadyExistsException"
    assert error_code(events.create_event_bus, Name="bad name!") == "ValidationException"
    assert error_code(events.delete_event_bus, Name="default") == "ValidationException"
    events.delete_event_bus(Name=name)
    assert error_code(events.describe_event_bus, Name=name) == "ResourceNotFoundException"
    events.delete_event_bus(Name=name)  # deleting a bus that is not there succeeds, as on AWS


def test_the_events_protocol_is_json_1_1(bus_server):
    request = urllib.request.Request(bus_server.endpoint, data=b"{}", method="POST", headers={
        "X-Amz-Target": "AWSEvents.ListEventBuses", "Content-Type": "application/x-amz-json-1.1"})
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"].startswith("application/x-amz-json-1.1")
        assert json.loads(response.read())["EventBuses"][0]["Name"] == "default"


# --- rules ----------------------------------------------------------------------------------------
def test_rules(events):
    prefix = unique("r")
    pattern = json.dumps({"source": ["shop"]})
    arn = events.put_rule(Name=f"{prefix}-a", EventPattern=pattern, Description="first")["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:123456789012:rule/{prefix}-a"
    events.put_rule(Name=f"{prefix}-b", ScheduleExpression="rate(5 minutes)", State="DISABLED")
    events.put_rule(Name=f"{prefix}-c", ScheduleExpression="cron(0 12 * * ? *)")
    described = events.describe_rule(Name=f"{prefix}-a")
    assert {k: described[k] for k in ("Name", "Arn", "EventPattern", "State", "Description", "EventBusName")} == {
        "Name": f"{prefix}-a", "Arn": arn, "EventPattern": pattern, "State": "ENABLED",
        "Description": "first", "EventBusName": "default"}
    assert events.describe_rule(Name=f"{prefix}-b")["ScheduleExpression"] == "rate(5 minutes)"
    page = events.list_rules(NamePrefix=prefix, Limit=2)
    assert [r["Name"] for r in page["Rules"]] == [f"{prefix}-a", f"{prefix}-b"]
    rest = events.list_rules(NamePrefix=prefix, Limit=2, NextToken=page["NextToken"])
    assert [r["Name"] for r in rest["Rules"]] == [f"{prefix}-c"] and "NextToken" not in rest
    events.disable_rule(Name=f"{prefix}-a")
    assert events.describe_rule(Name=f"{prefix}-a")["State"] == "DISABLED"
    events.enable_rule(Name=f"{prefix}-a")
    assert events.describe_rule(Name=f"{prefix}-a")["State"] == "ENABLED"
    events.put_rule(Name=f"{prefix}-a", EventPattern=pattern)  # a replace drops the description
    assert "Description" not in events.describe_rule(Name=f"{prefix}-a")
    for name in ("a", "b", "c"):
        events.delete_rule(Name=f"{prefix}-{name}")
    assert events.list_rules(NamePrefix=prefix)["Rules"] == []
    events.delete_rule(Name=f"{prefix}-a")  # deleting a rule that is not there succeeds


@pytest.mark.parametrize("arguments, code", [
    ({"Name": "r", "ScheduleExpression": "rate(1 minutes)"}, "ValidationException"),
    ({"Name": "r", "ScheduleExpression": "cron(0 12 * * * *)"}, "ValidationException"),
    ({"Name": "r", "EventPattern": "{not json"}, "InvalidEventPatternException"),
    ({"Name": "r", "EventPattern": '["source"]'}, "InvalidEventPatternException"),
    ({"Name": "r"}, "ValidationException"),
    ({"Name": "bad name", "EventPattern": '{"source": ["s"]}'}, "ValidationException"),
    ({"Name": "r", "EventPattern": '{"source": ["s"]}', "State": "SOMETIMES"}, "ValidationException"),
    ({"Name": "r", "EventPattern": '{"source": ["s"]}', "EventBusName": "no-such-bus"},
     "ResourceNotFoundException"),
])
def test_put_rule_errors(events, arguments, code):
    assert error_code(events.put_rule, **arguments) == code


def test_a_schedule_only_on_the_default_bus(events):
    name = unique("bus")
    events.create_event_bus(Name=name)
    assert error_code(events.put_rule, Name="r", ScheduleExpression="rate(1 day)",
                      EventBusName=name) == "ValidationException"
    events.put_rule(Name="r", EventPattern='{"source": ["s"]}', EventBusName=name)
    assert events.describe_rule(Name="r", EventBusName=name)["Arn"].endswith(f"rule/{name}/r")
    assert error_code(events.describe_rule, Name="r") == "ResourceNotFoundException"


# --- targets --------------------------------------------------------------------------------------
def test_targets(events, sfn):
    rule, arn = unique("t"), machine(sfn)
    events.put_rule(Name=rule, EventPattern='{"source": ["shop"]}')
    answer = events.put_targets(Rule=rule, Targets=[
        {"Id": "sm", "Arn": arn, "RoleArn": ROLE, "InputPath": "$.detail",
         "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
         "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"}},
        {"Id": "queue", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}])
    assert answer["FailedEntryCount"] == 1
    assert answer["FailedEntries"][0]["TargetId"] == "queue"
    assert answer["FailedEntries"][0]["ErrorCode"] == "ValidationException"
    [target] = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert target == {"Id": "sm", "Arn": arn, "RoleArn": ROLE, "InputPath": "$.detail",
                      "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
                      "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"}}
    assert events.list_rule_names_by_target(TargetArn=arn)["RuleNames"] == [rule]
    assert error_code(events.delete_rule, Name=rule) == "ValidationException"
    assert error_code(events.put_targets, Rule=rule, Targets=[
        {"Id": f"x{i}", "Arn": arn} for i in range(5)]) == "LimitExceededException"
    assert error_code(events.put_targets, Rule=rule, Targets=[
        {"Id": "both", "Arn": arn, "Input": "{}", "InputPath": "$"}]) == "ValidationException"
    assert error_code(events.put_targets, Rule=rule, Targets=[
        {"Id": "t", "Arn": arn, "InputTransformer": {"InputPathsMap": {"aws.events.event": "$"},
                                                     "InputTemplate": "{}"}}]) == "ValidationException"
    assert error_code(events.put_targets, Rule="no-such-rule",
                      Targets=[{"Id": "t", "Arn": arn}]) == "ResourceNotFoundException"
    assert events.remove_targets(Rule=rule, Ids=["sm"])["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []
    events.delete_rule(Name=rule)


# --- events ---------------------------------------------------------------------------------------
def test_put_events_answers_per_entry(events):
    answer = events.put_events(Entries=[
        {"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"a": 1}'},
        {"DetailType": "x", "Detail": "{}"},
        {"Source": "shop", "Detail": "{}"},
        {"Source": "shop", "DetailType": "x"},
        {"Source": "shop", "DetailType": "x", "Detail": "[1, 2]"},
        {"Source": "shop", "DetailType": "x", "Detail": "{not json"},
        {"Source": "shop", "DetailType": "x", "Detail": "{}", "EventBusName": "no-such-bus"},
        {"Source": "shop", "DetailType": "x", "Detail": "{}", "Resources": ["arn:r"]},
    ])
    entries = answer["Entries"]
    assert answer["FailedEntryCount"] == 6 and len(entries) == 8
    assert entries[0]["EventId"] and entries[7]["EventId"] and entries[0]["EventId"] != entries[7]["EventId"]
    assert [e.get("ErrorCode") for e in entries[1:7]] == [
        "InvalidArgument", "InvalidArgument", "InvalidArgument", "MalformedDetail", "MalformedDetail",
        "ResourceNotFoundException"]
    assert entries[1]["ErrorMessage"] == "Parameter Source is not valid. Reason: Source is a required argument."


def test_put_events_limits(events):
    entry = {"Source": "shop", "DetailType": "x", "Detail": "{}"}
    assert error_code(events.put_events, Entries=[entry] * 11) == "ValidationException"
    big = {**entry, "Detail": json.dumps({"blob": "x" * 200_000})}
    assert error_code(events.put_events, Entries=[big, big]) == "ValidationException"


@pytest.mark.parametrize("pattern, event, expected", [
    ({"source": ["shop"]}, {"source": "shop"}, True),
    ({"source": ["shop"], "detail": {"n": [1]}}, {"source": "shop", "detail": {"n": 2}}, False),
])
def test_test_event_pattern(events, pattern, event, expected):
    full = {"id": "1", "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
            "detail-type": "x", **event}
    assert events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(full))["Result"] is expected


def test_test_event_pattern_errors(events):
    event = json.dumps({"id": "1", "account": "1", "source": "s", "time": "t", "region": "r", "detail-type": "d"})
    assert error_code(events.test_event_pattern, EventPattern="{", Event=event) == "InvalidEventPatternException"
    assert error_code(events.test_event_pattern, EventPattern='{"source": ["s"]}',
                      Event='{"source": "s"}') == "ValidationException"


# --- delivery --------------------------------------------------------------------------------------
def test_a_rule_starts_one_execution_per_matching_event_with_the_transformed_input(events, sfn,
                                                                                   bus_server):
    rule, arn, source = unique("deliver"), machine(sfn), unique("src")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source], "detail-type": ["OrderPlaced"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"order": "$.detail.orderId", "amount": "$.detail.amount"},
        "InputTemplate": '{"order": <order>, "amount": <amount>, "text": "order <order>", '
                         '"rule": <aws.events.rule-name>}'}}])
    answer = events.put_events(Entries=[
        {"Source": source, "DetailType": "OrderPlaced", "Detail": json.dumps({"orderId": "o-1", "amount": 150})},
        {"Source": source, "DetailType": "OrderShipped", "Detail": json.dumps({"orderId": "o-2"})},
        {"Source": "elsewhere", "DetailType": "OrderPlaced", "Detail": json.dumps({"orderId": "o-3"})}])
    [execution] = executions_of(sfn, arn, 1)
    assert json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]) == \
        {"order": "o-1", "amount": 150, "text": "order o-1", "rule": rule}
    assert answer["Entries"][0]["EventId"] in execution["name"]

    # the acknowledgement lost: the event is delivered again, and no second execution starts
    store = Store(bus_server.db_url)
    try:
        assert store.redeliver(answer["Entries"][0]["EventId"], time.time()) == 1
    finally:
        store.close()
    assert executions_of(sfn, arn, 2, timeout=3.0, settle=0.5) == [execution]


def test_retries_then_dead_letters_then_redrive_with_the_cli(events, sfn, bus_server):
    rule, name, source = unique("dlq"), unique("later"), unique("src")
    missing = f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": missing, "InputPath": "$.detail",
                                            "RetryPolicy": {"MaximumRetryAttempts": 2}}])
    result = cli(bus_server, "events", "put", "--source", source, "--detail-type", "x",
                 "--detail", '{"n": 1}')
    assert result.returncode == 0, result.stderr
    event_id = result.stdout.strip()
    deadline, letters = time.time() + 15, []
    while time.time() < deadline and not letters:
        listed = cli(bus_server, "events", "dead-letters", "--json")
        letters = [d for d in json.loads(listed.stdout) if d["EventId"] == event_id]
        time.sleep(0.2)
    assert letters and letters[0]["Attempts"] == 3
    assert "StateMachineDoesNotExist" in letters[0]["Error"]

    arn = machine(sfn, name)
    redriven = cli(bus_server, "events", "dead-letters", "redrive", str(letters[0]["Id"]))
    assert redriven.returncode == 0, redriven.stderr
    [execution] = executions_of(sfn, arn, 1)
    assert json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"]) == {"n": 1}
    assert not [d for d in json.loads(cli(bus_server, "events", "dead-letters", "--json").stdout)
                if d["EventId"] == event_id]


def test_the_cli_lists_shows_and_tests_rules(events, bus_server, tmp_path):
    rule = unique("cli")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["shop"]}), Description="from the test")
    listed = cli(bus_server, "rules")
    assert rule in listed.stdout and "from the test" in listed.stdout
    shown = json.loads(cli(bus_server, "rules", "show", rule, "--json").stdout)
    assert shown["Name"] == rule and shown["Targets"] == []
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"id": "1", "account": "1", "source": "shop", "time": "t",
                                 "region": "r", "detail-type": "d"}))
    assert cli(bus_server, "rules", "test", rule, "--event", str(event)).stdout.strip() == "match"
    missed = cli(bus_server, "rules", "test", "--pattern", '{"source": ["other"]}', "--event", str(event))
    assert (missed.returncode, missed.stdout.strip()) == (1, "no match")
