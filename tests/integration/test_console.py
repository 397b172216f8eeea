"""The console's pages and forms over a real Engine (SQLite in memory, running workers), through
the same Starlette app ``stepstone serve`` runs: login, CSRF, the inbox's approve and reject,
stop, redrive, search and filters."""
from __future__ import annotations

import json
import re
import time

import pytest
from starlette.testclient import TestClient

from engine import Engine, task
from engine.api.app import create_app
from engine.api.sigv4 import Verifier

ROLE = "arn:aws:iam::123456789012:role/console"
ASK = {"StartAt": "Ask", "States": {
    "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "console-ask",
                           "Payload": {"token.$": "$$.Task.Token", "question.$": "$.question"}},
            "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.why", "Next": "Declined"}],
            "Next": "Done"},
    "Declined": {"Type": "Fail", "Error": "Declined"},
    "Done": {"Type": "Succeed"}}}
FLAKY = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Oops", "Cause": "on purpose"}}}


@task("console-ask")
def _ask(event, context):
    return {"asked": event["question"]}


@pytest.fixture
def engine():
    running = Engine.in_memory().start(2)
    yield running
    running.close()


@pytest.fixture
def console(engine):
    with TestClient(create_app(engine), base_url="http://127.0.0.1:8083") as client:
        yield client


def _csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def _machine(engine, name, definition=ASK) -> str:
    return engine.create_state_machine(name, json.dumps(definition), ROLE)["stateMachineArn"]


def _waiting(engine, arn: str) -> dict:
    deadline = time.time() + 10
    while time.time() < deadline:
        tasks = engine.list_waiting_tasks(execution_arn=arn)["tasks"]
        if tasks:
            return tasks[0]
        time.sleep(0.02)
    raise AssertionError(f"no task of {arn} is waiting")


def test_the_inbox_approves_and_the_execution_succeeds(engine, console):
    arn = engine.start_execution(_machine(engine, "ask"), "q1", '{"question": "ship it?"}')["executionArn"]
    waiting = _waiting(engine, arn)
    page = console.get("/console/tasks")
    assert page.status_code == 200 and waiting["taskToken"] in page.text and "ship it?" in page.text
    answer = console.post("/console/tasks/approve", follow_redirects=False, data={
        "csrf_token": _csrf(page.text), "token": waiting["taskToken"], "state": "Ask",
        "output": '{"approvedBy": "ada"}', "back": "/console/tasks"})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/tasks"
    described = engine.wait(arn, timeout=10)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"approvedBy": "ada"}
    assert "Approved Ask." in console.get("/console/tasks").text
    # the person's answer time is a task duration like a handler's
    waited = 'stepstone_task_duration_seconds_count{resource="arn:aws:states:::lambda:invoke.waitForTaskToken"} 1.0'
    assert waited in engine.metrics.render().decode()


def test_the_inbox_rejects_into_the_catch(engine, console):
    arn = engine.start_execution(_machine(engine, "ask"), "q2", '{"question": "buy a boat?"}')["executionArn"]
    waiting = _waiting(engine, arn)
    page = console.get("/console/tasks")
    console.post("/console/tasks/reject", data={
        "csrf_token": _csrf(page.text), "token": waiting["taskToken"], "state": "Ask",
        "error": "Rejected", "cause": "too expensive"})
    assert engine.wait(arn, timeout=10)["status"] == "FAILED"
    shown = console.get("/console/execution", params={"arn": arn}).text
    assert 'data-state="Ask"' in shown and "outcome-caught" in shown and "outcome-failed" in shown
    assert "too expensive" in shown


def test_bad_output_is_refused_with_the_api_error(engine, console):
    arn = engine.start_execution(_machine(engine, "ask"), "q3", '{"question": "?"}')["executionArn"]
    waiting = _waiting(engine, arn)
    page = console.get("/console/tasks")
    shown = console.post("/console/tasks/approve", data={
        "csrf_token": _csrf(page.text), "token": waiting["taskToken"], "output": "{not json",
        "back": "/console/tasks"})
    assert "InvalidOutput" in shown.text
    assert engine.describe_execution(arn)["status"] == "RUNNING"


def test_forms_without_the_token_or_from_another_site_change_nothing(engine, console):
    arn = engine.start_execution(_machine(engine, "ask"), "q4", '{"question": "?"}')["executionArn"]
    waiting = _waiting(engine, arn)
    token = _csrf(console.get("/console/tasks").text)
    for data, headers in (({"token": waiting["taskToken"]}, {}),
                          ({"csrf_token": "guess", "token": waiting["taskToken"]}, {}),
                          ({"csrf_token": token, "token": waiting["taskToken"]},
                           {"origin": "https://evil.example"})):
        refused = console.post("/console/tasks/approve", data=data, headers=headers)
        assert refused.status_code == 403
    assert engine.describe_execution(arn)["status"] == "RUNNING"
    assert engine.list_waiting_tasks(execution_arn=arn)["tasks"]


def test_stop_and_redrive_from_the_execution_page(engine, console):
    arn = engine.start_execution(_machine(engine, "ask"), "q5", '{"question": "?"}')["executionArn"]
    _waiting(engine, arn)
    page = console.get("/console/execution", params={"arn": arn})
    assert "Stop execution" in page.text and 'data-live="1"' in page.text
    console.post("/console/execution/stop", data={"csrf_token": _csrf(page.text), "arn": arn})
    assert engine.describe_execution(arn)["status"] == "ABORTED"
    page = console.get("/console/execution", params={"arn": arn})
    assert "Redrive" in page.text and "data-live" not in page.text and "outcome-aborted" in page.text
    console.post("/console/execution/redrive", data={"csrf_token": _csrf(page.text), "arn": arn})
    assert engine.describe_execution(arn)["status"] == "RUNNING"
    assert engine.describe_execution(arn)["redriveCount"] == 1


def test_executions_are_found_by_name_and_status(engine, console):
    fails = _machine(engine, "fails", FLAKY)
    for name in ("nightly-2026-11-01", "nightly-2026-11-02", "adhoc"):
        engine.wait(engine.start_execution(fails, name, "{}")["executionArn"], timeout=10)
    found = console.get("/console/executions", params={"q": "NIGHTLY"}).text
    assert "nightly-2026-11-01" in found and "nightly-2026-11-02" in found and "adhoc" not in found
    assert "adhoc" not in console.get("/console/executions", params={"q": "%"}).text
    assert "No executions match" in console.get("/console/executions", params={"status": "SUCCEEDED"}).text
    by_machine = console.get("/console/state-machine", params={"arn": fails, "status": "FAILED"}).text
    assert by_machine.count('data-status="FAILED"') == 3
    assert 'data-state="Boom"' in by_machine     # the definition's graph


def test_unknown_things_are_a_clear_404(console):
    missing = console.get("/console/execution",
                          params={"arn": "arn:aws:states:us-east-1:123456789012:execution:nope:x"})
    assert missing.status_code == 404 and "ExecutionDoesNotExist" in missing.text


def test_pages_forbid_framing_and_foreign_scripts(console):
    page = console.get("/console/state-machines")
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self' rules
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_with_access_keys_the_console_needs_a_login(engine):
    app = create_app(engine, verifier=Verifier({"AKID": "s3cret"}))
    with TestClient(app, base_url="http://127.0.0.1:8083") as client:
        away = client.get("/console/tasks", follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"].startswith("/console/login")
        login = client.get(away.headers["location"])
        token = _csrf(login.text)
        wrong = client.post("/console/login", data={"csrf_token": token, "access_key_id": "AKID",
                                                    "secret_access_key": "guess",
                                                    "next": "/console/tasks"})
        assert "wrong secret" in wrong.text
        assert client.get("/console/tasks", follow_redirects=False).status_code == 303
        right = client.post("/console/login", follow_redirects=False, data={
            "csrf_token": _csrf(wrong.text), "access_key_id": "AKID", "secret_access_key": "s3cret",
            "next": "/console/tasks"})
        assert right.headers["location"] == "/console/tasks"
        inside = client.get("/console/tasks")
        assert inside.status_code == 200 and "AKID" in inside.text
        # the token from before the login is worth nothing now
        assert client.post("/console/logout", data={"csrf_token": token}).status_code == 403
        client.post("/console/logout", data={"csrf_token": _csrf(inside.text)})
        assert client.get("/console/tasks", follow_redirects=False).status_code == 303


def test_a_login_form_posted_from_another_site_is_refused(engine):
    app = create_app(engine, verifier=Verifier({"AKID": "s3cret"}))
    with TestClient(app, base_url="http://127.0.0.1:8083") as client:
        token = _csrf(client.get("/console/login").text)
        client.post("/console/login", headers={"origin": "https://evil.example"}, data={
            "csrf_token": token, "access_key_id": "AKID", "secret_access_key": "s3cret"})
        assert client.get("/console/tasks", follow_redirects=False).status_code == 303


def test_the_inbox_filters_by_state_and_pages(engine, console):
    machine = _machine(engine, "ask")
    arns = [engine.start_execution(machine, f"many-{n}", '{"question": "?"}')["executionArn"]
            for n in range(55)]
    for arn in arns:
        _waiting(engine, arn)
    first = console.get("/console/tasks").text
    assert first.count('<article class="task"') == 50 and "More waiting tasks" in first
    more = re.search(r'href="\?([^"]+)">More waiting tasks', first).group(1).replace("&amp;", "&")
    assert console.get(f"/console/tasks?{more}").text.count('<article class="task"') == 5
    assert "Nothing in Elsewhere is waiting" in console.get("/console/tasks", params={"state": "Elsewhere"}).text
    assert console.get("/console/tasks", params={"state": "Ask"}).text.count('<article class="task"') == 50
