"""Handlers used only by the integration tests."""
import os
import time

from engine import task


class Flaky(Exception):
    """Fails the first attempts of a task."""


_attempts: dict[str, int] = {}


@task("echo")
def echo(event, context):
    return event


@task("boom")
def boom(event, context):
    raise ValueError("boom: " + str(event.get("why", "no reason")))


@task("flaky-twice")
def flaky_twice(event, context):
    key = context.execution_arn
    _attempts[key] = _attempts.get(key, 0) + 1
    if _attempts[key] <= 2:
        raise Flaky(f"attempt {_attempts[key]}")
    return {"attempts": _attempts[key]}


class NotYet(Exception):
    """The flag file a test creates to let the task succeed does not exist yet."""


@task("fail-until-flag")
def fail_until_flag(event, context):
    """Fails while ``event["flag"]`` names a missing file (unless ``event["ok"]``): a first run
    fails, the test creates the file, and a redrive succeeds."""
    if not event.get("ok") and not os.path.exists(event["flag"]):
        raise NotYet(f"{event['flag']} does not exist yet")
    return {"item": event.get("item"), "done": True}


@task("async-double")
async def async_double(event, context):
    return {"value": event["value"] * 2}


@task("sleep-then-echo")
def sleep_then_echo(event, context):
    """Outlives a short TimeoutSeconds: sleeps ``event["seconds"]``, then answers too late."""
    time.sleep(event["seconds"])
    return event


@task("huge-result")
def huge_result(event, context):
    return "a" * (257 * 1024)  # over Step Functions' 256 KiB limit on a task's result
