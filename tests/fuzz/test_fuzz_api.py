"""Fuzz the HTTP API of a real ``stepstone serve``: a boto3-shaped fuzzer. Bodies are built from
botocore's own models of the Step Functions (AWS JSON 1.0) and EventBridge (AWS JSON 1.1)
operations, with members of the right type, the wrong type, awkward values (huge numbers, deep
nesting, lone surrogates) and unknown members; or the body is damaged outright (invalid JSON or
UTF-8, not an object, nested past any parser). Targets and content types are fuzzed too.

Every answer is 200 or a 4xx whose body is AWS's error document (``__type`` and ``message``),
never a 5xx; afterwards the server is healthy, answers a normal request, and every execution the
fuzzer started ends unless its definition waits.
"""
from __future__ import annotations

import json
import time

import botocore.session
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.api.operations import SERVICES
from fuzzing import _decode as decode
from fuzzing import event
from fuzzing import (AWKWARD_STRINGS, DEEP, DEEP_TEXT, HUGE_NUMBERS, INPUTS, budget, corpus, machine, mangle,
                     to_json)
from support import ROLE, client, wait_done

SESSION = botocore.session.get_session()
MODELS = {"AWSStepFunctions": SESSION.get_service_model("stepfunctions"), "AWSEvents": SESSION.get_service_model("events")}
CONTENT_TYPES = {"AWSStepFunctions": "application/x-amz-json-1.0", "AWSEvents": "application/x-amz-json-1.1"}
# long polls and synchronous runs wait by design (GetActivityTask, StartSyncExecution on a Wait)
SLOW = {"GetActivityTask", "StartSyncExecution"}
SERVED = sorted((prefix, name) for prefix, service in SERVICES.items() for name in service.operations
                if name not in SLOW)
UNSERVED = sorted((prefix, name) for prefix, model in MODELS.items() for name in model.operation_names
                  if name not in SERVICES[prefix].operations)

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
CALLBACK = {"StartAt": "T", "States": {"T": {"Type": "Task", "End": True, "TimeoutSeconds": 3600,
                                             "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                                             "Parameters": {"FunctionName": "nope", "Payload": {"t.$": "$$.Task.Token"}}}}}
ENVELOPE = {"version": "0", "id": "1", "source": "s", "detail-type": "d", "account": "123456789012",
            "time": "2022-07-13T13:48:01Z", "region": "us-east-1", "resources": [], "detail": {}}


@pytest.fixture(scope="module")
def api(fuzz_server):
    """The server, an HTTP client on it and the resources the fuzzer's members may name."""
    sfn, events = client(fuzz_server.endpoint), client(fuzz_server.endpoint, "events")
    machines = {kind: sfn.create_state_machine(name=f"fuzz-{kind}", definition=json.dumps(definition),
                                               roleArn=ROLE)["stateMachineArn"]
                for kind, definition in (("pass", PASS), ("wait", WAIT), ("callback", CALLBACK))}
    # the fuzzer may delete what it can name: test_executions_with_random_input runs its own two
    runs = {kind: sfn.create_state_machine(name=f"fuzz-run-{kind}", definition=json.dumps(definition),
                                           roleArn=ROLE)["stateMachineArn"]
            for kind, definition in (("pass", PASS), ("wait", WAIT))}
    execution = sfn.start_execution(stateMachineArn=machines["wait"], input="{}")["executionArn"]
    activity = sfn.create_activity(name="fuzz-activity")["activityArn"]
    events.put_rule(Name="fuzz-rule", EventPattern=json.dumps({"source": ["s"]}))
    resources = {"machines": list(machines.values()), "executions": [execution], "activities": [activity],
                 "pass": runs["pass"], "wait": runs["wait"], "started": []}
    with httpx.Client(base_url=fuzz_server.endpoint, timeout=30) as http:
        yield http, sfn, resources


# --- bodies shaped by botocore's models --------------------------------------------------------

WRONG = st.sampled_from([[], {}, [1, "a"], {"a": 1}, 0, -1, 1.5, True, False, "x", "", None])
AWKWARD = AWKWARD_STRINGS | HUGE_NUMBERS | DEEP | WRONG
JSON_TEXT = INPUTS.map(to_json) | DEEP_TEXT | st.sampled_from(["", "{", "nul", "[1,]", '{"a":1}{', "\"\\ud800\"",
                                                               "{\"a\": \"\\udfff\"}", "1e400", "-", "NaN"])


def _strings(name: str, resources: dict) -> st.SearchStrategy:
    """Plausible values of a string member, by its name."""
    lowered = name.lower()
    known = lambda key: st.sampled_from(resources[key])  # noqa: E731
    if lowered in ("statemachinearn", "resourcearn", "arn"):
        return known("machines") | known("activities") | st.sampled_from(["arn:aws:states:us-east-1:1:stateMachine:x", "arn:"])
    if lowered == "executionarn":
        return known("executions") | st.builds(lambda m: m.replace("stateMachine", "execution") + ":x", known("machines"))
    if lowered == "activityarn":
        return known("activities")
    if lowered == "definition":
        return st.builds(machine, st.data()).map(json.dumps) | st.sampled_from([json.dumps(PASS), json.dumps(WAIT)]) | JSON_TEXT
    if lowered in ("input", "output", "detail", "event", "eventpattern", "inputpath", "inputtemplate"):
        return JSON_TEXT | st.just(json.dumps(ENVELOPE)) | st.just('{"source": ["s"], "detail": {"a": [{"numeric": [">", 1e400]}]}}')
    if lowered in ("rolearn",):
        return st.just(ROLE)
    if lowered in ("type",):
        return st.sampled_from(["STANDARD", "EXPRESS", "bogus"])
    if lowered in ("name", "rule", "eventbusname"):
        return st.sampled_from(["fuzz-rule", "default", "fuzz-pass"]) | st.text(max_size=12)
    return st.text(max_size=12)


def value_for(shape, name: str, data: st.DataObject, resources: dict, depth: int = 0):
    mode = data.draw(st.sampled_from(["right"] * 8 + ["wrong", "awkward"]))
    if mode == "wrong":
        return data.draw(WRONG)
    if mode == "awkward":
        return data.draw(AWKWARD)
    kind = shape.type_name
    if kind == "string":
        return data.draw(_strings(name, resources))
    if kind in ("integer", "long"):
        return data.draw(st.integers(-5, 1000) | HUGE_NUMBERS.filter(lambda n: isinstance(n, int)))
    if kind in ("double", "float"):
        return data.draw(st.floats(allow_nan=False, allow_infinity=False))
    if kind == "boolean":
        return data.draw(st.booleans())
    if kind == "timestamp":
        return data.draw(st.sampled_from([0, 1_700_000_000, 1e20, -1e20, 1e400, "2020-01-01T00:00:00Z", "x"]))
    if kind == "blob":
        return data.draw(st.sampled_from(["", "aGk=", "!!"]))
    if depth >= 3:
        return None
    if kind == "list":
        return [value_for(shape.member, name, data, resources, depth + 1) for _ in range(data.draw(st.integers(0, 3)))]
    if kind == "map":
        return {data.draw(st.text(max_size=5)): value_for(shape.value, name, data, resources, depth + 1)
                for _ in range(data.draw(st.integers(0, 2)))}
    return body_for(shape, data, resources, depth + 1)  # structure


def body_for(shape, data: st.DataObject, resources: dict, depth: int = 0) -> dict:
    body = {}
    for member, member_shape in shape.members.items():
        if member in shape.required_members or data.draw(st.integers(0, 3)):
            body[member] = value_for(member_shape, member, data, resources, depth)
    if data.draw(st.integers(0, 4)) == 0:
        body[data.draw(st.sampled_from(["unknown", "Name", "name", "__type", "", "x" * 300]))] = data.draw(AWKWARD)
    return body


def raw_body(data: st.DataObject, prefix: str, action: str, resources: dict) -> bytes:
    shape = MODELS[prefix].operation_model(action).input_shape if action in MODELS[prefix].operation_names else None
    body = body_for(shape, data, resources) if shape is not None else {"a": 1}
    try:
        text = json.dumps(body)
    except RecursionError:  # a DEEP member past json.dumps' own depth: send it as deep text
        text = "{\"a\":" + DEEP_TEXT.example() + "}" if False else '{"input": ' + json.dumps(to_json(body)) + "}"
    how = data.draw(st.sampled_from(["json"] * 6 + ["mangled", "deep", "not-object", "empty", "garbage"]))
    event(how)
    if how == "mangled":
        return mangle(text, data)
    if how == "deep":
        return data.draw(DEEP_TEXT).encode()
    if how == "not-object":
        return data.draw(st.sampled_from([b"[]", b"1", b'"x"', b"null", b"true", b"1e400"]))
    if how == "empty":
        return data.draw(st.sampled_from([b"", b" ", b"{}"]))
    if how == "garbage":
        return data.draw(st.binary(max_size=40))
    return text.encode("utf-8", "surrogatepass")


# --- the contract ------------------------------------------------------------------------------

def check_answer(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    document = response.json()  # every answer, error or not, is JSON
    assert isinstance(document, dict), f"{what}: {response.text[:300]}"
    if response.status_code != 200:
        assert 400 <= response.status_code < 500
        assert isinstance(document.get("__type"), str) and document["__type"], f"{what}: {document}"
        assert isinstance(document.get("message", document.get("Message")), str), f"{what}: {document}"
        event(f"{response.status_code} {document['__type']}")
    else:
        event("200")


def post(http: httpx.Client, target: str | None, content_type: str | None, body: bytes) -> httpx.Response:
    headers = {}  # bytes: header values beyond ASCII go out as their UTF-8
    if target is not None:
        headers["X-Amz-Target"] = target.encode()
    if content_type is not None:
        headers["Content-Type"] = content_type.encode()
    return http.post("/", content=body, headers=headers)


def healthy(api) -> None:
    http, sfn, resources = api
    assert http.get("/health").json()["status"] == "ok"
    assert isinstance(sfn.list_state_machines()["stateMachines"], list)  # the fuzzer may have deleted its machines


@pytest.mark.parametrize("case", corpus("api"))
def test_corpus(api, case):
    http = api[0]
    body = decode(case["body"])
    body = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    response = post(http, case["target"], case.get("content_type"), body)
    check_answer(response, case["target"] or "no target")
    assert response.status_code == case.get("status", 400), response.text  # each of these inputs is bad
    if response.status_code == 200:
        assert response.json()["FailedEntryCount"] == 1
    healthy(api)


@budget(400)
@given(st.data())
def test_actions_with_fuzzed_members(api, data):
    http, _, resources = api
    prefix, action = data.draw(st.sampled_from(SERVED) if data.draw(st.integers(0, 9)) else st.sampled_from(UNSERVED))
    body = raw_body(data, prefix, action, resources)
    check_answer(post(http, f"{prefix}.{action}", CONTENT_TYPES[prefix], body), f"{prefix}.{action} {body[:200]!r}")


@budget(100)
@given(st.data())
def test_targets_and_content_types(api, data):
    http, _, resources = api
    target = data.draw(st.none() | st.sampled_from(["", ".", "AWSStepFunctions", "AWSStepFunctions.", "AWSEvents.Nope",
                                                    "AWSStepFunctions.create_state_machine", "Nope.ListRules",
                                                    "AWSStepFunctions.__init__", "AWSEvents.events", "AWSStepFunctions.Start\u00e9",
                                                    "AWSStepFunctions.ListStateMachines", "AWSEvents.ListRules"]))
    content_type = data.draw(st.none() | st.sampled_from(["application/x-amz-json-1.0", "application/x-amz-json-1.1",
                                                          "text/plain", "application/json", "\u00e9"]))
    body = data.draw(st.sampled_from([b"{}", b"", b"\xff", b"[", b'{"maxResults": "x"}']))
    check_answer(post(http, target, content_type, body), f"{target!r} {content_type!r} {body!r}")


@budget(60)
@given(INPUTS | DEEP, st.sampled_from(["pass", "wait"]))
def test_executions_with_random_input(api, value, kind):
    http, sfn, resources = api
    text = to_json(value)
    response = post(http, "AWSStepFunctions.StartExecution", CONTENT_TYPES["AWSStepFunctions"],
                    json.dumps({"stateMachineArn": resources[kind], "input": text}).encode())
    check_answer(response, text[:200])
    depth_ok = not DEEP_VALUE_REFUSED(value)
    assert (response.status_code == 200) == depth_ok, f"{response.status_code} {response.text[:200]}"
    if response.status_code == 200:
        resources["started"].append((kind, response.json()["executionArn"]))


def DEEP_VALUE_REFUSED(value) -> bool:  # noqa: N802 - deeper than history.MAX_DEPTH, or a lone surrogate
    from engine.asl.history import from_json

    try:
        from_json(to_json(value))
    except ValueError:
        return True
    return False


def test_server_survived_and_no_execution_is_stuck(api):
    """Runs last in this module: the server still answers, the random-input executions of the
    Pass machine succeeded (those of the Wait machine wait), and every execution of a machine
    that does not wait has ended."""
    http, sfn, resources = api
    healthy(api)
    for kind, arn in resources["started"]:
        described = wait_done(sfn, arn) if kind == "pass" else sfn.describe_execution(executionArn=arn)
        assert described["status"] == ("SUCCEEDED" if kind == "pass" else "RUNNING"), described
    waiting = {resources["wait"]} | {arn for arn in resources["machines"] if "callback" in arn}
    deadline = time.time() + 60
    for page in sfn.get_paginator("list_state_machines").paginate():
        for listed in page["stateMachines"]:
            arn = listed["stateMachineArn"]
            definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
            waits = arn in waiting or '"Wait"' in json.dumps(definition) or '"Task"' in json.dumps(definition)
            for execution in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
                if not waits:
                    described = wait_done(sfn, execution["executionArn"], timeout=max(1.0, deadline - time.time()))
                    assert described["status"] != "RUNNING", f"stuck: {execution['executionArn']} of {definition}"
