"""What the execution page shows, read off an execution's history (pure: events in, rows out).

A *state run* is one entry into a state: from its ``…StateEntered`` event to its
``…StateExited`` (or to the end of the history when it never exited). A Map state's
iterations enter the same inner states many times, possibly interleaved, so an exit closes
the oldest open run of that name. Failure events carry no state name; they belong to the run
entered most recently that is still open, which is the state that handed the work out.

The graph colours each state by one *outcome*, folded over its runs (``OUTCOMES``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

# how a state ended, in the order that wins when a state ran several times (Map iterations):
# a failure anywhere is what the reader must see first
OUTCOMES = ("failed", "aborted", "running", "caught", "retried", "succeeded")
SCHEDULED_TYPES = frozenset({"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled"})
_END_STATUS = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED",
               "ExecutionAborted": "ABORTED", "ExecutionTimedOut": "TIMED_OUT"}
# a run that never exited: still going, or ended by the execution's end (a sibling branch's
# failure aborts the others, so an unexited run in a successful execution was cut short)
_OPEN_RUN_OUTCOME = {"RUNNING": "running", "FAILED": "failed", "TIMED_OUT": "failed",
                     "ABORTED": "aborted", "SUCCEEDED": "aborted", "PENDING_REDRIVE": "failed"}


@dataclass
class StateRun:
    name: str
    type: str                      # Task, Choice, Map, ... (from the event type)
    entered: float
    input: Any = None
    exited: float | None = None
    output: Any = None
    attempts: int = 0              # scheduled task attempts: more than one means retries
    errors: list[dict] = field(default_factory=list)   # {"error", "cause", "event"}

    @property
    def retries(self) -> int:
        return max(self.attempts - 1, 0)

    @property
    def duration(self) -> float | None:
        return None if self.exited is None else self.exited - self.entered

    def outcome(self, execution_status: str) -> str:
        if self.exited is None:
            return "failed" if self.errors else _OPEN_RUN_OUTCOME.get(execution_status, "running")
        if self.errors:
            # it left through a Catch, or its last retry worked after failures
            return "retried" if self.attempts > len(self.errors) else "caught"
        return "retried" if self.retries else "succeeded"


@dataclass
class TimelineRow:
    id: int
    type: str
    timestamp: float
    elapsed: float                 # since the execution started
    gap: float                     # since the previous event
    state: str | None
    summary: str
    details: str | None            # the event's details as indented JSON, for unfolding
    is_error: bool


@dataclass
class ExecutionView:
    status: str
    runs: list[StateRun]
    outcomes: dict[str, str]       # state name -> outcome, for the graph
    timeline: list[TimelineRow]


def read_history(events: Iterable[dict], status: str) -> ExecutionView:
    """The state runs, per-state outcomes and timeline of one execution whose described status
    is ``status`` (the history may lag behind it by an event while an execution ends)."""
    events = list(events)
    runs: list[StateRun] = []
    open_runs: list[StateRun] = []
    timeline: list[TimelineRow] = []
    started = events[0]["timestamp"] if events else 0.0
    previous = started
    for event in events:
        kind, details = event["type"], event_details(event)
        state = None
        if kind.endswith("StateEntered"):
            run = StateRun(details.get("name", "?"), kind[:-len("StateEntered")], event["timestamp"],
                           _json(details.get("input")))
            runs.append(run)
            open_runs.append(run)
            state = run.name
        elif kind.endswith("StateExited"):
            run = _oldest_open(open_runs, details.get("name"))
            if run is not None:
                run.exited, run.output = event["timestamp"], _json(details.get("output"))
                open_runs.remove(run)
            state = details.get("name")
        elif open_runs:
            run = open_runs[-1]
            state = run.name
            if kind in SCHEDULED_TYPES:
                run.attempts += 1
            # the execution's own end is not the state's error: its status decides open runs
            if _is_failure(kind, details) and not kind.startswith("Execution"):
                run.errors.append({"error": details.get("error"), "cause": details.get("cause"),
                                   "event": kind})
        status = _END_STATUS.get(kind, status)
        timeline.append(TimelineRow(event["id"], kind, event["timestamp"],
                                    event["timestamp"] - started, event["timestamp"] - previous,
                                    state, _summary(details), _pretty(details),
                                    _is_failure(kind, details)))
        previous = event["timestamp"]
    return ExecutionView(status, runs, fold_outcomes(runs, status), timeline)


def fold_outcomes(runs: Iterable[StateRun], status: str) -> dict[str, str]:
    """One outcome per state name: the most alarming of its runs'."""
    outcomes: dict[str, str] = {}
    for run in runs:
        outcome = run.outcome(status)
        known = outcomes.get(run.name)
        if known is None or OUTCOMES.index(outcome) < OUTCOMES.index(known):
            outcomes[run.name] = outcome
    return outcomes


def event_details(event: dict) -> dict:
    """The ``…EventDetails`` member of a history event ({} for events without one)."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _oldest_open(open_runs: list[StateRun], name: str | None) -> StateRun | None:
    return next((run for run in open_runs if run.name == name), None)


def _is_failure(kind: str, details: dict) -> bool:
    return kind.endswith(("Failed", "TimedOut", "Aborted")) or (
        "error" in details and not kind.endswith(("Succeeded", "Started")))


def _summary(details: dict) -> str:
    if "error" in details or "cause" in details:
        parts = [details.get("error") or "", details.get("cause") or ""]
        return _clip(": ".join(part for part in parts if part), 160)
    for key in ("resource", "name", "index"):
        if key in details:
            return f"{key} {details[key]}"
    return ""


def _pretty(details: dict) -> str | None:
    if not details:
        return None
    shown = {key: _json(value) if key in ("input", "output", "parameters") else value
             for key, value in details.items()}
    return json.dumps(shown, indent=2, ensure_ascii=False, default=str)


def _json(text: Any) -> Any:
    """Inputs and outputs are JSON text in the history: show them as values when they parse."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
