"""The execution page's reading of a history: state runs, outcomes, the timeline."""
from __future__ import annotations

from hypothesis import given, strategies as st

from engine.console.history_view import OUTCOMES, fold_outcomes, read_history


def history(*entries):
    """Events from (type, details) pairs, one second apart."""
    events = []
    for index, (kind, details) in enumerate(entries, start=1):
        event = {"id": index, "type": kind, "timestamp": 1000.0 + index, "previousEventId": index - 1}
        if details is not None:
            event["detailsEventDetails"] = details
        events.append(event)
    return events


def entered(kind, name, value="{}"):
    return (f"{kind}StateEntered", {"name": name, "input": value})


def exited(kind, name, value="{}"):
    return (f"{kind}StateExited", {"name": name, "output": value})


def test_a_clean_run_succeeds_and_keeps_its_input_and_output():
    view = read_history(history(("ExecutionStarted", {"input": "{}"}),
                                entered("Pass", "A", '{"a": 1}'), exited("Pass", "A", '{"b": 2}'),
                                ("ExecutionSucceeded", {"output": '{"b": 2}'})), "SUCCEEDED")
    [run] = view.runs
    assert (run.name, run.type, run.input, run.output) == ("A", "Pass", {"a": 1}, {"b": 2})
    assert run.duration == 1.0
    assert view.outcomes == {"A": "succeeded"}


def test_a_task_that_failed_and_then_worked_is_retried():
    view = read_history(history(entered("Task", "Call"),
                                ("TaskScheduled", {"resource": "x"}),
                                ("TaskFailed", {"error": "Boom", "cause": "first try"}),
                                ("TaskScheduled", {"resource": "x"}),
                                ("TaskSucceeded", {"output": "{}"}),
                                exited("Task", "Call")), "SUCCEEDED")
    [run] = view.runs
    assert run.retries == 1
    assert run.errors == [{"error": "Boom", "cause": "first try", "event": "TaskFailed"}]
    assert view.outcomes == {"Call": "retried"}


def test_a_failure_caught_by_catch_is_caught_and_the_catcher_runs():
    view = read_history(history(entered("Task", "Call"), ("TaskScheduled", {}),
                                ("TaskFailed", {"error": "Boom"}), exited("Task", "Call"),
                                entered("Pass", "Recover"), exited("Pass", "Recover")),
                        "SUCCEEDED")
    assert view.outcomes == {"Call": "caught", "Recover": "succeeded"}


def test_the_state_the_execution_failed_in_is_failed():
    view = read_history(history(entered("Pass", "A"), exited("Pass", "A"), entered("Fail", "Stop"),
                                ("ExecutionFailed", {"error": "Nope", "cause": "because"})),
                        "FAILED")
    assert view.outcomes == {"A": "succeeded", "Stop": "failed"}
    assert view.timeline[-1].is_error and view.timeline[-1].summary == "Nope: because"


def test_a_state_still_waiting_is_running_and_an_aborted_execution_leaves_it_aborted():
    events = history(entered("Task", "Wait4Human"), ("TaskScheduled", {}))
    assert read_history(events, "RUNNING").outcomes == {"Wait4Human": "running"}
    aborted = events + history(("ExecutionAborted", None))[:1]
    assert read_history(aborted, "RUNNING").outcomes == {"Wait4Human": "aborted"}


def test_map_iterations_close_their_own_runs_and_the_worst_outcome_colours_the_state():
    view = read_history(history(entered("Map", "Each"),
                                entered("Task", "Item"), entered("Task", "Item"),
                                exited("Task", "Item"),
                                ("TaskFailed", {"error": "Bad"}),
                                exited("Task", "Item"), exited("Map", "Each")), "SUCCEEDED")
    items = [run for run in view.runs if run.name == "Item"]
    assert len(items) == 2 and all(run.exited is not None for run in items)
    assert fold_outcomes(view.runs, "SUCCEEDED")["Item"] == "caught"


def test_the_timeline_measures_elapsed_time_and_gaps():
    view = read_history(history(("ExecutionStarted", {}), entered("Pass", "A"), exited("Pass", "A")),
                        "RUNNING")
    assert [(row.elapsed, row.gap) for row in view.timeline] == [(0, 0), (1, 1), (2, 1)]
    assert [row.state for row in view.timeline] == [None, "A", "A"]


def test_an_empty_history_reads_as_nothing():
    view = read_history([], "RUNNING")
    assert (view.runs, view.outcomes, view.timeline) == ([], {}, [])


names = st.sampled_from(["A", "B", "C"])
step = st.one_of(
    st.tuples(st.just("enter"), names), st.tuples(st.just("exit"), names),
    st.tuples(st.sampled_from(["TaskScheduled", "TaskFailed", "TaskSucceeded", "ExecutionFailed",
                               "MapIterationFailed", "WaitStateExited"]), st.none()))


@given(st.lists(step, max_size=40), st.sampled_from(
    ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]))
def test_any_history_reads_into_one_run_per_entry_and_known_outcomes(steps, status):
    entries = []
    for kind, name in steps:
        if kind == "enter":
            entries.append(entered("Task", name))
        elif kind == "exit":
            entries.append(exited("Task", name))
        else:
            entries.append((kind, {"error": "E"} if "Failed" in kind else {}))
    view = read_history(history(*entries), status)
    assert len(view.runs) == sum(1 for kind, _ in steps if kind == "enter")
    assert len(view.timeline) == len(steps)
    assert set(view.outcomes) == {run.name for run in view.runs}
    assert set(view.outcomes.values()) <= set(OUTCOMES)
    for run in view.runs:
        assert run.exited is None or run.exited >= run.entered
