"""The console in a real browser: headless Chromium (Debian's), driven by Playwright.

A person signs in with an access key, finds the running expense approval, approves it in the
task inbox, and watches the execution page turn SUCCEEDED without reloading it. Screenshots of
each page land in ``tests/output/screenshots/`` (CI keeps them as artifacts).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.config import Config

from support import REPO, ROLE, Server

CHROMIUM = os.environ.get("STEPSTONE_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO / "tests" / "output" / "screenshots"
KEY_ID, SECRET = "AKIDCONSOLETEST", "console-test-secret"
# Chromium on a closed network: no first-run, sync or update traffic, no sandbox as root
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 20_000


def _browser_or_skip() -> str:
    missing = [what for what, ok in (("Debian's chromium", Path(CHROMIUM).exists()),
                                      ("playwright", _has_playwright())) if not ok]
    if missing:
        message = f"{' and '.join(missing)} missing (.ci/run installs both)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory):
    db = tmp_path_factory.mktemp("console") / "stepstone.db"
    running = Server(f"sqlite:///{db}", {"STEPSTONE_ACCESS_KEY_ID": KEY_ID,
                                         "STEPSTONE_SECRET_ACCESS_KEY": SECRET}).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    executable = _browser_or_skip()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screenshots():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


def _sfn(endpoint: str):
    return boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                        config=Config(retries={"max_attempts": 1}))


def test_a_person_approves_a_waiting_task_in_the_browser(signed_server, browser, screenshots):
    sfn = _sfn(signed_server.endpoint)
    definition = yaml.safe_load((REPO / "definitions" / "approval.yaml").read_text())
    machine = sfn.create_state_machine(name="expense-approval", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="exp-7-browser",
                                    input=(REPO / "definitions" / "approval.input.json").read_text())
    console = f"{signed_server.endpoint}/console"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    # the console is behind the login: a wrong secret is refused, the right one lets us in
    page.goto(f"{console}/executions")
    assert "/console/login" in page.url
    page.fill("input[name=access_key_id]", KEY_ID)
    page.fill("input[name=secret_access_key]", "not-the-secret")
    page.click("button[type=submit]")
    page.wait_for_selector(".flash.error")
    page.screenshot(path=str(screenshots / "01-login-refused.png"))
    page.fill("input[name=access_key_id]", KEY_ID)
    page.fill("input[name=secret_access_key]", SECRET)
    page.click("button[type=submit]")
    page.wait_for_url(f"{console}/executions")

    # find the running execution and open it: the waiting state is drawn as running
    row = page.locator("tr", has_text="exp-7-browser")
    row.locator(".status.running").wait_for()
    page.screenshot(path=str(screenshots / "02-executions.png"), full_page=True)
    row.locator("a", has_text="exp-7-browser").click()
    page.wait_for_selector("#execution-status")
    assert page.inner_text("#execution-status") == "RUNNING"
    page.wait_for_selector('.graph g.state.outcome-running[data-state="RequestApproval"]')
    assert page.locator('.graph g.state.outcome-succeeded[data-state="HoldBudget"]').count() == 1
    page.screenshot(path=str(screenshots / "03-execution-running.png"), full_page=True)

    # a second tab approves in the inbox, the first tab turns SUCCEEDED by itself
    inbox = context.new_page()   # the same session: signed in already
    inbox.set_default_timeout(TIMEOUT_MS)
    inbox.goto(f"{console}/tasks")
    task = inbox.locator(f'article.task[data-execution="{execution["executionArn"]}"]')
    task.wait_for()
    assert "RequestApproval" in task.inner_text()
    inbox.screenshot(path=str(screenshots / "04-task-inbox.png"), full_page=True)
    task.locator("textarea[name=output]").fill('{"approvedBy": "grace@example.com"}')
    task.locator("button.approve").click()
    inbox.wait_for_selector(".flash.ok")
    assert inbox.locator(f'article.task[data-execution="{execution["executionArn"]}"]').count() == 0

    # no reload: the page's own refresh brings the new status (the CSP forbids evaluated JS,
    # so the wait is a locator, not wait_for_function)
    page.locator("#execution-status", has_text="SUCCEEDED").wait_for()
    page.wait_for_selector('.graph g.state.outcome-succeeded[data-state="RequestApproval"]')
    assert "grace@example.com" in page.inner_text(".io")
    # the graph inspector: a click on a state opens its run's input and output
    page.click('.graph g.state[data-state="RequestApproval"]')
    inspected = page.locator('tr.run.inspected[data-state="RequestApproval"]')
    inspected.locator("details[open]").wait_for()
    assert "grace@example.com" in inspected.inner_text()
    page.screenshot(path=str(screenshots / "05-execution-succeeded.png"), full_page=True)
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "SUCCEEDED"

    page.goto(f"{console}/state-machine?arn={machine}")
    page.wait_for_selector('.graph g.state[data-state="Escalate"]')
    page.screenshot(path=str(screenshots / "06-state-machine.png"), full_page=True)
    context.close()
