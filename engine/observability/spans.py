"""What the trace of an execution is, derived from its committed history; pure (no OpenTelemetry).

An execution outlives processes and moves between workers, so no process can hold its spans
open. Each span is instead emitted whole, with explicit times, by whichever process commits the
event that ends it: a state's span when its ``*StateExited`` event is committed (from its
``*StateEntered`` timestamp), the execution's span when the execution ends. Ids derived from the
execution ARN join the spans of every process into one trace.

Pairing an exit with its entry: the interpreter chains each path's events through
``previous_event_id`` (``interpreter._Run.emit``), so walking back from a ``StateExited`` event
reaches its own ``StateEntered`` event. When the entry was committed by an earlier step, the walk
leaves this step's events at the id that was the path's ``last`` event before the step;
``open_states`` of the snapshot taken before the step tells which state that path was in and
since when.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable

from engine.asl import timestamps

ENTERED, EXITED = "StateEntered", "StateExited"
_FAILED = ("Failed", "TimedOut", "Aborted")  # TaskFailed, LambdaFunctionTimedOut, MapStateAborted ...
_OUTCOMES = ("Succeeded", *_FAILED)


@dataclass(frozen=True)
class OpenState:
    """A state a path was in when a step began (entered in an earlier step)."""
    name: str
    entered_id: int
    entered_at: float


@dataclass(frozen=True)
class StateSpan:
    name: str
    type: str  # the ASL type: Task, Pass, Map ...
    start: float
    end: float
    entered_id: int
    error: str | None = None  # the state's last outcome failed (a Catch may have moved on)
    cause: str | None = None
    exited: bool = True  # False: the execution ended while the state was still running


def trace_id(execution_arn: str) -> int:
    """The 128-bit trace id of an execution: the same in every process."""
    return int.from_bytes(hashlib.sha256(execution_arn.encode()).digest()[:16], "big") or 1


def execution_span_id(execution_arn: str, redrive_count: int = 0) -> int:
    """The 64-bit span id of an execution's run (each redrive is a run of its own)."""
    digest = hashlib.sha256(f"{execution_arn}#{redrive_count}".encode()).digest()
    return int.from_bytes(digest[:8], "big") or 1


def run_started(snapshot: dict) -> tuple[float | None, int]:
    """When the execution's current run began (its start, or its last redrive) and which run."""
    execution = snapshot.get("context", {}).get("Execution", {})
    count = execution.get("RedriveCount") or 0
    moment = timestamps.parse(execution.get("RedriveTime") if count else execution.get("StartTime"))
    return (timestamps.to_epoch(moment) if moment is not None else None), count


def open_states(snapshot: dict) -> dict[int, list[OpenState]]:
    """The states the snapshot's paths are in, by each path's last event id."""
    states: dict[int, list[OpenState]] = {}
    for path in snapshot.get("paths", {}).values():
        if path.get("entered_id") and path.get("phase") != "enter" and not path.get("silent"):
            states.setdefault(path.get("last"), []).append(
                OpenState(path["state"], path["entered_id"], path["entered_at"]))
    return states


def state_spans(events: list[dict], before: dict[int, list[OpenState]],
                ended_at: float | None = None, error: str | None = None,
                cause: str | None = None) -> list[StateSpan]:
    """The spans of the states these events (one step's) exited; with ``ended_at`` (the
    execution ended in this step), also those of the states still running then, which end
    with the execution's ``error`` and ``cause``."""
    by_id = {event["id"]: event for event in events}
    spans, closed = [], set()
    for event in events:
        if event["type"].endswith(EXITED):
            span = _exited(event, by_id, before)
            if span is not None:
                spans.append(span)
                closed.add(span.entered_id)
    if ended_at is not None:
        spans += [_unfinished(state, ended_at, error, cause)
                  for state in _still_open(events, before, closed)]
    return spans


def _exited(event: dict, by_id: dict[int, dict], before: dict[int, list[OpenState]]) -> StateSpan | None:
    name = _details(event).get("name", "")
    kind = event["type"][:-len(EXITED)]
    outcome = None
    previous = event["previous_event_id"]
    while previous in by_id:
        earlier = by_id[previous]
        if earlier["type"].endswith(ENTERED):
            return _span(name, kind, earlier["timestamp"], event, earlier["id"], outcome)
        if outcome is None and earlier["type"].endswith(_OUTCOMES):
            outcome = earlier
        previous = earlier["previous_event_id"]
    candidates = [state for state in before.get(previous, ()) if state.name == name]
    if not candidates:
        return None  # entered by a step whose snapshot we did not see: no start to give
    state = candidates[-1]
    return _span(name, kind, state.entered_at, event, state.entered_id, outcome)


def _span(name: str, kind: str, start: float, exited: dict, entered_id: int,
          outcome: dict | None) -> StateSpan:
    error = cause = None
    if outcome is not None and outcome["type"].endswith(_FAILED):
        details = _details(outcome)
        error, cause = details.get("error") or outcome["type"], details.get("cause")
    return StateSpan(name, kind, start, exited["timestamp"], entered_id, error, cause)


def _still_open(events: list[dict], before: dict[int, list[OpenState]],
                closed: set[int]) -> Iterable[tuple[str, str, int, float]]:
    """(name, type, entered id, entered at) of each state entered and not exited."""
    for states in before.values():
        for state in states:
            if state.entered_id not in closed:
                yield state.name, "", state.entered_id, state.entered_at
    for event in events:
        if event["type"].endswith(ENTERED) and event["id"] not in closed:
            yield (_details(event).get("name", ""), event["type"][:-len(ENTERED)], event["id"],
                   event["timestamp"])


def _unfinished(state: tuple[str, str, int, float], ended_at: float, error: str | None,
                cause: str | None) -> StateSpan:
    name, kind, entered_id, entered_at = state
    return StateSpan(name, kind, entered_at, ended_at, entered_id, error, cause, exited=False)


def _details(event: dict) -> dict:
    """The one ``*EventDetails`` member of a history row, or {}."""
    details = event.get("details") or {}
    return next(iter(details.values()), {}) if isinstance(details, dict) else {}
