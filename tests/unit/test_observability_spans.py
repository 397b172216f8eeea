"""Spans derived from committed history: the pure pairing (spans.py), then real engines with the
OpenTelemetry SDK's in-memory exporter (tracing.py through the Observer)."""
from __future__ import annotations

import json

import pytest

from engine import Engine, task
from engine.observability import spans

pytest.importorskip("opentelemetry.sdk")
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/spans"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:spans-inc"


def ev(event_id, kind, previous, at, name=None, **details):
    body = {"name": name} if name is not None else details
    key = ("stateEnteredEventDetails" if kind.endswith("StateEntered") else
           "stateExitedEventDetails" if kind.endswith("StateExited") else f"{kind[0].lower()}{kind[1:]}EventDetails")
    return {"id": event_id, "previous_event_id": previous, "timestamp": at, "type": kind,
            "details": {key: body} if body else None}


# --- pure -------------------------------------------------------------------------------------
def test_a_state_entered_and_exited_in_one_step_spans_its_two_timestamps():
    events = [ev(2, "PassStateEntered", 1, 10.0, "A"), ev(3, "PassStateExited", 2, 10.5, "A")]
    [span] = spans.state_spans(events, {})
    assert (span.name, span.type, span.start, span.end, span.entered_id) == ("A", "Pass", 10.0, 10.5, 2)
    assert span.error is None and span.exited


def test_an_exit_whose_entry_an_earlier_step_committed_takes_the_entry_time_from_the_snapshot():
    # Given a path that was in Task "T" (entered as event 2 at 5.0) with 3 as its last event
    before = spans.open_states({"paths": {"0": {"state": "T", "entered_id": 2, "entered_at": 5.0,
                                                "last": 3, "phase": "task"}}})
    # When the answer's step commits TaskSucceeded and the exit
    events = [ev(4, "TaskSucceeded", 3, 9.0, output="{}"), ev(5, "TaskStateExited", 4, 9.0, "T")]
    # Then the span covers entry to exit
    [span] = spans.state_spans(events, before)
    assert (span.name, span.type, span.start, span.end, span.entered_id) == ("T", "Task", 5.0, 9.0, 2)


def test_a_caught_failure_marks_the_state_span_with_its_error():
    events = [ev(2, "TaskStateEntered", 1, 1.0, "T"),
              ev(3, "TaskFailed", 2, 2.0, error="Boom", cause="it broke"),
              ev(4, "TaskStateExited", 3, 2.0, "T")]
    [span] = spans.state_spans(events, {})
    assert (span.error, span.cause) == ("Boom", "it broke")


def test_a_retried_task_that_succeeded_last_has_no_error():
    events = [ev(2, "TaskStateEntered", 1, 1.0, "T"), ev(3, "TaskFailed", 2, 2.0, error="Boom"),
              ev(4, "TaskScheduled", 3, 3.0, resource="x"), ev(5, "TaskSucceeded", 4, 4.0, output="1"),
              ev(6, "TaskStateExited", 5, 4.0, "T")]
    [span] = spans.state_spans(events, {})
    assert span.error is None and (span.start, span.end) == (1.0, 4.0)


def test_states_still_running_when_the_execution_ends_end_with_it_and_its_error():
    before = spans.open_states({"paths": {"0": {"state": "T", "entered_id": 2, "entered_at": 1.0,
                                                "last": 3, "phase": "task"}}})
    events = [ev(4, "TaskFailed", 3, 7.0, error="Boom"), ev(5, "ExecutionFailed", 4, 7.0, error="Boom")]
    [span] = spans.state_spans(events, before, ended_at=7.0, error="Boom", cause="c")
    assert (span.name, span.start, span.end, span.error, span.exited) == ("T", 1.0, 7.0, "Boom", False)


def test_paths_not_yet_entered_or_silent_are_not_open_states():
    snapshot = {"paths": {"0": {"state": "A", "entered_id": None, "entered_at": 1.0, "last": 1, "phase": "enter"},
                          "1": {"state": "B", "entered_id": 4, "entered_at": 1.0, "last": 4, "phase": "waiting",
                                "silent": True}}}
    assert spans.open_states(snapshot) == {}


def test_ids_are_derived_from_the_execution_arn_so_every_process_agrees():
    arn = "arn:aws:states:us-east-1:123456789012:execution:sm:run-1"
    assert spans.trace_id(arn) == spans.trace_id(arn) != spans.trace_id(arn + "x")
    assert 0 < spans.trace_id(arn) < 2 ** 128 and 0 < spans.execution_span_id(arn) < 2 ** 64
    assert spans.execution_span_id(arn, 0) != spans.execution_span_id(arn, 1)  # a redrive: a new run


# --- through real engines ---------------------------------------------------------------------
@task("spans-inc")
def spans_inc(event, context):
    return {**event, "n": event["n"] + 1}


DEFINITION = {"StartAt": "Inc", "States": {
    "Inc": {"Type": "Task", "Resource": LAMBDA, "Next": "Both"},
    "Both": {"Type": "Parallel", "ResultPath": "$.both", "Next": "Check", "Branches": [
        {"StartAt": "Left", "States": {"Left": {"Type": "Task", "Resource": LAMBDA, "End": True}}},
        {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}}]},
    "Check": {"Type": "Choice", "Default": "Small",
              "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}]},
    "Big": {"Type": "Succeed"},
    "Small": {"Type": "Fail", "Error": "TooSmall", "Cause": "n was small"}}}


@pytest.fixture
def exporter():
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter):
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def run(engine: Engine, n: int) -> str:
    machine = engine.create_state_machine(name="spans", definition=json.dumps(DEFINITION),
                                          role_arn=ROLE)["stateMachineArn"]
    arn = engine.start_execution(machine, input=json.dumps({"n": n}))["executionArn"]
    engine.wait(arn, timeout=30)
    return arn


def by_name(finished) -> dict:
    return {span.name: span for span in finished}


def test_a_failed_execution_is_one_trace_of_state_spans_under_the_execution_span(provider, exporter):
    with Engine("sqlite://", tracer_provider=provider) as engine:
        arn = run(engine, 1)
    found = by_name(exporter.get_finished_spans())
    assert set(found) == {"spans", "Inc", "Both", "Left", "Right", "Check", "Small"}
    execution = found["spans"]
    # one trace, whose ids any process derives from the ARN
    assert {span.context.trace_id for span in found.values()} == {spans.trace_id(arn)}
    assert execution.context.span_id == spans.execution_span_id(arn) and execution.parent is None
    assert all(span.parent.span_id == execution.context.span_id
               for name, span in found.items() if name != "spans")
    # timing: states in order, inside the execution
    order = [found[name] for name in ("Inc", "Both", "Check", "Small")]
    assert all(a.end_time <= b.start_time for a, b in zip(order, order[1:]))
    assert found["Both"].start_time <= found["Left"].start_time <= found["Left"].end_time <= found["Both"].end_time
    assert execution.start_time <= found["Inc"].start_time and found["Small"].end_time <= execution.end_time
    # attributes and statuses
    assert found["Inc"].attributes["stepstone.state.type"] == "Task"
    assert found["Inc"].attributes["stepstone.execution.arn"] == arn
    assert found["Inc"].status.status_code == StatusCode.UNSET
    assert execution.attributes["stepstone.execution.status"] == "FAILED"
    assert execution.status.status_code == StatusCode.ERROR
    assert execution.attributes["stepstone.error"] == "TooSmall"
    assert execution.attributes["stepstone.cause"] == "n was small"
    assert found["Small"].status.status_code == StatusCode.ERROR  # the state the execution failed in


def test_a_succeeded_execution_has_no_error_status(provider, exporter):
    with Engine("sqlite://", tracer_provider=provider) as engine:
        run(engine, 10)
    found = by_name(exporter.get_finished_spans())
    assert "Big" in found and "Small" not in found
    assert all(span.status.status_code == StatusCode.UNSET for span in found.values())


def test_spans_emitted_by_another_process_join_the_same_trace(provider, exporter, tmp_path):
    # Given an execution started by an engine that runs no workers (its task is left due)...
    url = f"sqlite:///{tmp_path / 'spans.db'}"
    with Engine(url) as starter:
        machine = starter.create_state_machine(name="spans", definition=json.dumps(DEFINITION),
                                               role_arn=ROLE)["stateMachineArn"]
        arn = starter.start_execution(machine, input=json.dumps({"n": 10}))["executionArn"]
    # ...when another engine (another process, for all it knows) runs it to its end
    with Engine(url, tracer_provider=provider) as worker:
        assert worker.wait(arn, timeout=30)["status"] == "SUCCEEDED"
    # then its spans carry the trace and parent derived from the ARN, the entry time included
    found = by_name(exporter.get_finished_spans())
    assert {span.context.trace_id for span in found.values()} == {spans.trace_id(arn)}
    assert found["Inc"].parent.span_id == found["spans"].context.span_id == spans.execution_span_id(arn)
    assert found["Inc"].start_time <= found["Inc"].end_time


def test_without_a_tracer_provider_nothing_is_traced():
    with Engine("sqlite://") as engine:
        # the test process imported the API (above) but configured no global provider
        assert not engine.observer.tracing
