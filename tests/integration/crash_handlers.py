"""Handlers for the worker crash tests (loaded by `stepstone worker --handlers`)."""
from engine import task


@task("crash-inc")
def inc(event, context):
    return {**event, "n": event["n"] + 1}  # the rest of the state passes through


@task("crash-flaky")
def flaky(event, context):
    """Fails the first attempt of each execution's task, so that its Retry runs."""
    if event["attempt"] == 0:
        raise RuntimeError("first attempt fails on purpose")
    return {"n": event["n"] + 100}
