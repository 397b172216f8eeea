"""The pure interpreter: ``start`` and ``advance`` turn (model, snapshot, messages, now) into a Step.

No database, clock, network, threads or sleeps here. The caller persists what a Step returns
(the new snapshot, the history events, the commands to carry out) in one transaction, then
carries out the commands and feeds their results back as messages.

The snapshot is the whole state of one execution as plain JSON: a table of *paths*, one per
thread of control (the main path, each running Parallel branch, each running Map iteration).
Each path sits in one phase:

    enter -> exec -> (waiting | task | children | retry) -> ... -> next state's enter, or done

Pure work is chained in memory: a path runs until it must wait for time (a Wait, a retry
back-off) or for the outside world (a task result), so a run of Pass/Choice states costs one
commit. Map iterations and Parallel branches are *pumped* by their parent: each child is started
and run at once until it blocks, which makes pure iterations deterministic (iteration i finishes
before i+1 starts) and a failure stops the rest from starting.

A transition is the hot loop, so it does little: each state's fields were read and compiled once
per model (plan.py), a state's scope builds the context object and variables only if an
expression reads them, and an output is serialised once, for its StateExited event, the next
state's StateEntered event and the size check.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.asl import (choice, dataflow, failures, fields, history, redrive as redrives, retry,
                        task_state, timestamps, variables)
from engine.asl.failures import Failure
from engine.asl.model import Machine, is_distributed, scope_of
from engine.asl.plan import StatePlan, plan_of
from engine.asl.scope import Scope

MAX_HISTORY_EVENTS = 25_000  # AWS's hard quota: event 25,000 may only end the execution
HISTORY_FULL_CAUSE = f"The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS})."
TOO_DEEP_CAUSE = "The execution's data is nested too deeply (arrays and objects within one another)."
_ENDINGS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})


class _HistoryFull(Exception):
    """Raised by emit for a 25,000th event that does not end the execution (not a Failure:
    no Retry or Catch applies); the run fails the execution, as AWS does."""


@dataclass
class Env:
    """What the interpreter needs from the world, passed in so tests can pin it."""

    region: str = "us-east-1"
    account: str = "123456789012"
    # the only sources of non-determinism, owned by the caller (random.Random, uuid4)
    random: Any = None
    new_uuid: Callable[[], str] | None = None
    new_token: Callable[[], str] | None = None  # task tokens: at least 128 random bits
    skip_waits: bool = False  # virtual time: Waits and retry back-offs take no time
    task_redispatch_seconds: float = 300.0  # ask again for a task answer lost in a crash


@dataclass
class Step:
    """What one call of the interpreter decided."""

    snapshot: dict
    # each event is a history_events row: id, previous_event_id, timestamp, type, details
    events: list[dict] = field(default_factory=list)
    commands: list[dict] = field(default_factory=list)
    # task tokens handed out ({"op": "open", ...}) or given up ({"op": "close", "token", "status"})
    token_changes: list[dict] = field(default_factory=list)
    due_at: float | None = None
    status: str = "RUNNING"
    output: Any = None
    output_text: str | None = None  # output as JSON text (ExecutionSucceeded's): no need to serialise it again
    error: str | None = None
    cause: str | None = None
    transitions: int = 0  # states entered in this step (what metrics count, without a pass over events)

    @property
    def finished(self) -> bool:
        return self.status != "RUNNING"


# --- entry points ------------------------------------------------------------------------------
def start(model: Machine, context: dict, input_value: Any, now: float, env: Env,
          input_text: str | None = None) -> Step:
    """Begin an execution: ExecutionStarted, then run until the first block.

    ``context`` holds the context object's ``Execution`` and ``StateMachine`` members.
    """
    snapshot = {
        "next_id": 1,
        "next_path": 1,
        "context": context,
        "deadline": now + model.timeout_seconds if model.timeout_seconds else None,
        "paths": {"0": _new_path("0", None, [], model.start_at, input_value, 0, now)},
    }
    run = _Run(model, snapshot, now, env)
    role = context["Execution"].get("RoleArn", "")
    run.emit(None, history.execution_started(input_text if input_text is not None
                                             else history.to_json(input_value), role))
    snapshot["paths"]["0"]["last"] = 1
    return run.go([])


def advance(model: Machine, snapshot: dict, messages: list[dict], now: float, env: Env,
            owned: bool = False) -> Step:
    """Apply ``messages`` (task results, stop requests) and run every path that can move.

    The step's snapshot is a new one, unless the caller hands ``snapshot`` over (``owned``: a
    snapshot just read from the database, which nobody else holds): copying it costs more
    than the rest of a short step.
    """
    return _Run(model, snapshot if owned else copy_snapshot(snapshot), now, env).go(messages)


def redrive(model: Machine, snapshot: dict, now: float, env: Env) -> Step:
    """Continue an execution that ended FAILED, TIMED_OUT or ABORTED (see ``asl/redrive.py``).

    ExecutionRedriven, then every unfinished state again with the input it was entered with;
    Map and Parallel states rerun only their unsuccessful children. The execution timeout
    starts again, and ``$$.Execution`` gains the new ``RedriveCount`` and ``RedriveTime``.
    """
    snapshot = copy_snapshot(snapshot)
    tree = snapshot.pop("redrive", None)
    if tree is None:
        raise ValueError("this snapshot has no redrive tree: only an execution that ended "
                         "unsuccessfully can be redriven")
    execution = snapshot["context"]["Execution"]
    count = execution.get("RedriveCount", 0) + 1
    execution.update(RedriveCount=count, RedriveTime=timestamps.iso(now))
    snapshot["deadline"] = now + model.timeout_seconds if model.timeout_seconds else None
    snapshot["paths"] = {}
    run = _Run(model, snapshot, now, env)
    try:
        redriven = run.emit(None, history.execution_redriven(count))
        run._run(run.revive(tree, "0", None, redriven))
    except _HistoryFull:
        run._finish("FAILED", error=failures.RUNTIME, cause=HISTORY_FULL_CAUSE)
    return run.go([])


def _new_path(pid: str, parent: str | None, scope: list, state: str, value: Any, index: int,
              now: float) -> dict:
    return {"id": pid, "parent": parent, "scope": scope, "state": state, "phase": "enter",
            "input": value, "index": index, "retries": {}, "due": None, "invocation": 0,
            "last": None, "entered_id": None, "entered_at": now, "vars": {}}


# --- one run ---------------------------------------------------------------------------------
class _Run(task_state.TaskStates):
    def __init__(self, model: Machine, snapshot: dict, now: float, env: Env):
        self.model = model
        self.snap = snapshot
        self.paths: dict[str, dict] = snapshot["paths"]
        self.now = now
        self.env = env
        self.step = Step(snapshot)
        self._pumping: set[str] = set()
        self._texts: dict[str, tuple] = {}  # path id -> (its input, that input's JSON text)
        self._scopes: dict[str, Machine] = {}  # path id -> the scope its states belong to

    # ---- driver
    def go(self, messages: list[dict]) -> Step:
        try:
            self._go(messages)
        except _HistoryFull:  # a loop without waits ends here instead of running forever
            self._finish("FAILED", error=failures.RUNTIME, cause=HISTORY_FULL_CAUSE)
        except RecursionError:  # data an execution nested deeper than Python can walk
            self._finish("FAILED", error=failures.RUNTIME, cause=TOO_DEEP_CAUSE)
        if not self.step.finished:
            self.step.due_at = self._due_at()
        return self.step

    def _go(self, messages: list[dict]) -> None:
        for message in messages:
            if self.step.finished:
                break
            self._apply(message)
        deadline = self.snap.get("deadline")
        if not self.step.finished and deadline is not None and deadline <= self.now:
            self._finish("TIMED_OUT", error=None, cause=None)
        progressed = True
        while progressed and not self.step.finished:
            progressed = False
            for pid in sorted(self.paths, key=int):
                path = self.paths.get(pid)
                if path is not None and self._runnable(path) and not self.step.finished:
                    self._run(path)
                    progressed = True

    def _apply(self, message: dict) -> None:
        kind = message.get("kind")
        if kind == "stop":
            self._finish("ABORTED", error=message.get("error"), cause=message.get("cause"))
            return
        path = self.paths.get(str(message.get("path")))
        if path is None or path["phase"] != "task" or path["invocation"] != message.get("invocation"):
            return  # late, duplicate or for an aborted path: at-least-once delivery
        if kind == "task_result":
            if path["due"] is not None and message.get("at") is not None and message["at"] >= path["due"]:
                return  # finished after TimeoutSeconds: the timeout fires instead, as in AWS
            self._task_answered(path, message)
        elif kind == "task_submitted":
            self._task_submitted(path, message.get("output"))
        elif kind == "task_started":
            self.emit(path, history.activity_started(message.get("worker")))
            self._beat(path, message.get("at", self.now))
        elif kind == "heartbeat":
            self._beat(path, message.get("at", self.now))

    def _runnable(self, path: dict) -> bool:
        phase = path["phase"]
        if phase in ("enter", "exec", "children_done"):
            return True
        if phase in ("waiting", "retry", "task"):
            return any(at is not None and at <= self.now for at in _timers(path))
        return False

    def _due_at(self) -> float | None:
        dues = [at for p in self.paths.values() if p["phase"] in ("waiting", "retry", "task")
                for at in _timers(p) if at is not None]
        if self.snap.get("deadline") is not None:
            dues.append(self.snap["deadline"])
        return min(dues) if dues else None

    # ---- events
    def emit(self, path: dict | None, event: history.Event) -> int:
        """Record ``event`` after the path's last one (after the previous event when no path)."""
        kind, details = event
        snap = self.snap
        event_id = snap["next_id"]
        if event_id >= MAX_HISTORY_EVENTS and kind not in _ENDINGS and not (path and path.get("silent")):
            raise _HistoryFull
        if path is None:
            previous = event_id - 1
        elif path.get("silent"):
            return path.get("last") or 0
        else:
            previous = path.get("last")
            path["last"] = event_id
        snap["next_id"] = event_id + 1
        self.step.events.append({"id": event_id, "previous_event_id": previous or None,
                                 "timestamp": self.now, "type": kind, "details": details})
        return event_id

    # ---- the state machine of one path
    def _run(self, path: dict) -> None:
        pid, paths, step = path["id"], self.paths, self.step
        while pid in paths and step.status == "RUNNING":
            phase = path["phase"]
            try:
                if phase == "enter":
                    self._enter(path)
                elif phase == "exec":
                    self._exec(path, self._plan(path))
                elif phase == "waiting" and path["due"] <= self.now:
                    self._transition(path, self._plan(path), path.pop("output"),
                                     assigned=path.pop("assigned", None))
                elif phase == "retry" and path["due"] <= self.now:
                    path["phase"], path["due"] = "exec", None
                elif phase == "task" and path["due"] is not None and path["due"] <= self.now:
                    self._task_timed_out(path, failures.TIMEOUT)
                elif phase == "task" and path.get("beat_due") is not None and path["beat_due"] <= self.now:
                    self._task_timed_out(path, failures.HEARTBEAT_TIMEOUT)
                elif phase == "task" and path.get("redispatch") and path["redispatch"] <= self.now:
                    self._dispatch(path)
                    return
                elif phase == "children":
                    self._pump(path)
                    if path["phase"] == "children":
                        return
                elif phase == "children_done":
                    self._children_done(path)
                else:
                    return
            except Failure as failure:
                self._fail_state(path, failure)

    def _plan(self, path: dict) -> StatePlan:
        machine = self._scopes.get(path["id"])
        if machine is None:
            machine = self._scopes[path["id"]] = scope_of(self.model, path["scope"])
        return plan_of(machine, path["state"])

    def _state(self, path: dict) -> dict:
        return self._plan(path).spec

    def scope(self, path: dict, map_item: tuple | None = None) -> Scope:
        """What the path's state evaluates its fields with; ``map_item``: (index, value) of the
        Map item whose input is being built ($$.Map.Item)."""
        return _PathScope(self, path, self._plan(path), map_item)

    def context_object(self, path: dict, plan: StatePlan, map_item: tuple | None) -> dict:
        entered = {"Name": path["state"], "EnteredTime": _iso(path["entered_at"])}
        if plan.counts_retries:
            entered["RetryCount"] = sum(path["retries"].values())
        context = {**self.snap["context"], "State": entered}
        if path.get("token"):
            context["Task"] = {"Token": path["token"]}
        if map_item is not None:
            context["Map"] = {"Item": {"Index": map_item[0], "Value": map_item[1]}}
        return context

    def _enter(self, path: dict) -> None:
        """The state's StateEntered event, then its work at once."""
        plan = self._plan(path)
        path["entered_at"] = self.now
        path["retries"] = {}
        known = self._texts.pop(path["id"], None)
        text = known[1] if known is not None and known[0] is path["input"] else None
        entered = history.state_entered(plan.entered_event, plan.name, path["input"], text)
        path["entered_id"] = self.emit(path, entered)
        self.step.transitions += 1
        path["phase"] = "exec"
        _HANDLERS[plan.type](self, path, plan, _PathScope(self, path, plan, None))  # as _exec does

    def _exec(self, path: dict, plan: StatePlan) -> None:
        _HANDLERS[plan.type](self, path, plan, _PathScope(self, path, plan, None))

    # ---- state types
    def _exec_pass(self, path: dict, plan: StatePlan, scope: Scope) -> None:
        output, assigned = dataflow.leave_pass(plan, path["input"], scope)
        self._transition(path, plan, output, assigned=assigned)

    def _exec_succeed(self, path: dict, plan: StatePlan, scope: Scope) -> None:
        effective = dataflow.effective_input(plan, path["input"], scope)
        output, _ = dataflow.leave_plain(plan, path["input"], effective, scope)
        self._transition(path, plan, output)

    def _exec_choice(self, path: dict, plan: StatePlan, scope: Scope) -> None:
        effective = dataflow.effective_input(plan, path["input"], scope)
        rule = choice.matching_rule(plan.spec, effective, scope, plan.rule_tests)
        target = rule["Next"] if rule is not None else plan.spec.get("Default")
        if target is None:
            raise Failure(failures.NO_CHOICE_MATCHED,
                          fields.state_error(scope, "No Choice Rule matched and no Default state was specified."))
        # the matched rule's Assign/Output apply; the state's own go with Default
        output, assigned = dataflow.leave_plain(plan, path["input"], effective, scope, rule=rule)
        self._transition(path, plan, output, target, assigned=assigned)

    def _exec_fail(self, path: dict, plan: StatePlan, scope: Scope) -> None:
        error = fields.fail_field(plan.spec, "Error", path["input"], scope)
        cause = fields.fail_field(plan.spec, "Cause", path["input"], scope)
        self._path_done(path, ok=False, error=error, cause=cause)

    def _exec_wait(self, path: dict, plan: StatePlan, scope: Scope) -> None:
        effective = dataflow.effective_input(plan, path["input"], scope)
        until = fields.wait_until(plan.spec, effective, path["entered_at"], scope)
        path["output"], path["assigned"] = dataflow.leave_plain(plan, path["input"], effective, scope)
        path["phase"] = "waiting"
        path["due"] = self.now if self.env.skip_waits else max(until, self.now)

    # ---- Map and Parallel
    def _exec_parallel(self, path: dict, plan: StatePlan, scope: Scope) -> None:
        effective = dataflow.effective_input(plan, path["input"], scope)
        value = dataflow.parameters(plan, effective, scope)
        branches = plan.spec.get("Branches", [])
        path.pop("failed_kids", None)
        self.emit(path, history.bare("ParallelStateStarted"))
        path["kids"] = {"kind": "parallel", "total": len(branches), "next": 0, "running": 0,
                        "limit": 0, "inputs": None, "value": value, "results": [None] * len(branches),
                        "failed": 0, "failure": None, "children": []}
        path["phase"] = "children"

    def _exec_map(self, path: dict, plan: StatePlan, scope: Scope) -> None:
        if not plan.jsonata:
            self._start_map(path, plan, scope)
            return
        try:
            self._start_map(path, plan, scope)
        except Failure as failure:
            # AWS closes a JSONata Map that cannot start (bad Items ...) with MapStateFailed
            self._fail_state(path, failure, gave_up=history.bare("MapStateFailed"))

    def _start_map(self, path: dict, plan: StatePlan, scope: Scope) -> None:
        state = plan.spec
        effective = dataflow.effective_input(plan, path["input"], scope)
        items = dataflow.map_items(plan, path["input"], effective, scope)
        if not isinstance(items, list):
            raise Failure(failures.RUNTIME, fields.state_error(
                scope, f"Invalid input: the ItemsPath '{state.get('ItemsPath', '$')}' "
                       f"must reference a JSON array, got: {history.to_json(items)}"))
        limit = fields.int_field(state, "MaxConcurrency", effective, scope)
        distributed = is_distributed(state)
        path.pop("failed_kids", None)
        path["kids"] = {"kind": "map", "total": len(items), "next": 0, "running": 0,
                        "limit": limit or 0, "inputs": items, "value": effective,
                        "results": [None] * len(items), "failed": 0, "failure": None,
                        "children": [], "silent": distributed,
                        "tolerated_count": fields.int_field(state, "ToleratedFailureCount", effective, scope),
                        "tolerated_pct": fields.number_field(state, "ToleratedFailurePercentage", effective, scope)}
        self.emit(path, history.map_started(len(items)))
        if distributed:
            ctx = self.snap["context"]
            label = state.get("Label") or path["state"]
            sm_name = ctx["StateMachine"]["Name"]
            run_id = self.env.new_uuid() if self.env.new_uuid else f"{sm_name}-{path['id']}"
            arn = f"arn:aws:states:{self.env.region}:{self.env.account}:mapRun:{sm_name}/{label}:{run_id}"
            self.emit(path, history.map_run_started(arn))
        path["phase"] = "children"

    def _pump(self, parent: dict) -> None:
        """Start children while the concurrency limit allows; each runs at once until it blocks."""
        kids = parent["kids"]
        plan = self._plan(parent)
        self._pumping.add(parent["id"])
        try:
            while (kids["failure"] is None and redrives.has_unstarted(kids)
                   and (not kids["limit"] or kids["running"] < kids["limit"])
                   and not self.step.finished and parent["id"] in self.paths):
                child = self._start_child(parent, plan)
                kids["running"] += 1
                self._run(child)
        finally:
            self._pumping.discard(parent["id"])
        if kids["running"] == 0 and (kids["failure"] is not None or not redrives.has_unstarted(kids)):
            parent["phase"] = "children_done"

    def _start_child(self, parent: dict, plan: StatePlan) -> dict:
        """The next child: one to rerun (after a redrive) first, then the next new one."""
        kids = parent["kids"]
        if kids.get("redo"):
            return self._respawn(parent, kids["redo"].pop(0))
        kids["next"] += 1
        return self._spawn(parent, plan, kids["next"] - 1)

    def _respawn(self, parent: dict, node: dict) -> dict:
        pid = str(self.snap["next_path"])
        self.snap["next_path"] += 1
        child = self.revive(node, pid, parent, parent["last"])
        parent["kids"]["children"].append(pid)
        if parent["kids"]["kind"] == "map":
            self.emit(child, history.map_iteration("Started", parent["state"], node["index"]))
        return child

    def revive(self, node: dict, pid: str, parent: dict | None, last: int | None) -> dict:
        """A path at an unfinished state of a redrive tree: a leaf state is entered anew, a Map
        or Parallel state goes on with its unsuccessful children only."""
        path = _new_path(pid, parent["id"] if parent else None, node["scope"], node["state"],
                         node["input"], node["index"], self.now)
        path["last"], path["invocation"] = last, node.get("invocation") or 0
        if parent is not None and (parent["kids"].get("silent") or parent.get("silent")):
            path["silent"] = True
        if "kids" in node:
            path.update(phase="children", kids=node["kids"], entered_id=node["entered_id"],
                        entered_at=node["entered_at"])
        self.paths[pid] = path
        return path

    def _spawn(self, parent: dict, plan: StatePlan, index: int) -> dict:
        kids = parent["kids"]
        pid = str(self.snap["next_path"])
        self.snap["next_path"] += 1
        if kids["kind"] == "map":
            branch, value = 0, self._item_input(parent, plan, index)
        else:
            branch, value = index, kids["value"]
        scope_key = parent["scope"] + [[parent["state"], branch]]
        machine = self._scopes[pid] = plan.branches[branch]
        child = _new_path(pid, parent["id"], scope_key, machine.start_at, value, index, self.now)
        child["last"] = parent["last"]
        if kids.get("silent") or parent.get("silent"):
            child["silent"] = True
        if kids.get("silent"):
            child["isolated"] = True  # a distributed Map's children see no outer variables
        self.paths[pid] = child
        kids["children"].append(pid)
        if kids["kind"] == "map":
            self.emit(child, history.map_iteration("Started", parent["state"], index))
        return child

    def _item_input(self, parent: dict, plan: StatePlan, index: int) -> Any:
        kids = parent["kids"]
        item = kids["inputs"][index]
        if not plan.selects_items:
            return item
        scope = _PathScope(self, parent, plan, (index, item))
        return dataflow.item_input(plan, item, kids["value"], scope)

    def _child_done(self, child: dict, ok: bool, value: Any, error: str | None, cause: str | None) -> None:
        parent = self.paths[child["parent"]]
        kids = parent["kids"]
        index = child["index"]
        if not ok:
            redrives.lost_child(kids, self.paths, child)
        self._drop(child)
        kids["running"] -= 1
        if kids["kind"] == "map":
            outcome = "Succeeded" if ok else "Failed"
            self.emit(child, history.map_iteration(outcome, parent["state"], index))
        if ok:
            kids["results"][index] = value
        else:
            kids["failed"] += 1
            kids["results"][index] = {"Error": error, "Cause": cause}
            if not self._tolerated(kids):
                kids["failure"] = _child_failure(kids, error, cause)
                self._abort_children(parent)
        if parent["id"] not in self._pumping and kids["failure"] is None:
            self._pump(parent)
        elif kids["running"] == 0 and (kids["failure"] is not None or not redrives.has_unstarted(kids)):
            parent["phase"] = "children_done"
        if parent["phase"] == "children_done" and parent["id"] not in self._pumping:
            self._run(parent)

    def _tolerated(self, kids: dict) -> bool:
        if kids["kind"] != "map":
            return False
        count, pct = kids.get("tolerated_count"), kids.get("tolerated_pct")
        if count is None and pct is None:
            return False
        within_count = count is not None and kids["failed"] <= count
        within_pct = pct is not None and kids["total"] and 100.0 * kids["failed"] / kids["total"] <= pct
        return bool(within_count or within_pct)

    def _abort_children(self, parent: dict) -> None:
        kids = parent["kids"]
        for pid in list(kids["children"]):
            child = self.paths.get(pid)
            if child is None:
                continue
            redrives.lost_child(kids, self.paths, child)
            self._drop(child)
            kids["running"] -= 1
            if kids["kind"] == "map":
                self.emit(child, history.map_iteration("Aborted", parent["state"], child["index"]))

    def _drop(self, path: dict) -> None:
        """Remove a path and everything running under it."""
        kids = path.get("kids")
        for kid in list(kids.get("children", ())) if kids else ():  # (the calls below remove kids)
            if kid in self.paths:
                self._drop(self.paths[kid])
        self._abandon_task(path)
        self.paths.pop(path["id"], None)
        parent = self.paths.get(path["parent"]) if path["parent"] else None
        if parent is not None and path["id"] in parent["kids"]["children"]:
            parent["kids"]["children"].remove(path["id"])

    def _children_done(self, path: dict) -> None:
        kids = path.pop("kids")
        family = "Map" if kids["kind"] == "map" else "Parallel"
        if kids["failure"] is not None:
            path["failed_kids"] = kids  # what a redrive goes on with, unless Retry or Catch moves on
            error, cause = kids["failure"]
            if kids.get("silent"):
                self.emit(path, history.map_run_failed(error, cause))
            self._state_failed(path, error, cause, gave_up=history.bare(f"{family}StateFailed"))
            return
        if kids.get("silent"):
            self.emit(path, history.bare("MapRunSucceeded"))
        self.emit(path, history.bare(f"{family}StateSucceeded"))
        scope = self.scope(path)
        output, assigned = dataflow.leave_with_result(scope.plan, path["input"], kids["results"], scope)
        self._transition(path, scope.plan, output, assigned=assigned)

    # ---- transitions and failures
    def _transition(self, path: dict, plan: StatePlan, output: Any, target: str | None = None,
                    assigned: dict | None = None) -> None:
        """Leave the current state with ``output``: StateExited, then Next/End. ``assigned``:
        the variables the state's Assign set, stored now (they were evaluated earlier, against
        the values from before the state)."""
        text = history.to_json(output)  # serialised once: size check, StateExited, next StateEntered
        if task_state.text_too_large(text):
            raise Failure(failures.DATA_LIMIT_EXCEEDED, task_state.data_limit_cause(path["state"]))
        path.pop("failed_kids", None)
        self.emit(path, history.state_exited(plan.exited_event, plan.name, output, assigned, text))
        if assigned:
            variables.commit(path, assigned)
        path["due"] = None
        next_state = target or plan.next
        if next_state is None or plan.type == "Succeed":
            self._path_done(path, ok=True, value=output, text=text)
            return
        path["state"], path["phase"], path["input"], path["retries"] = next_state, "enter", output, {}
        self._texts[path["id"]] = (output, text)

    def _fail_state(self, path: dict, failure: Failure, gave_up: history.Event | None = None) -> None:
        """A Failure raised while the state ran: its EvaluationFailed event, then Retry/Catch."""
        self._evaluation_failed(path, failure)
        self._state_failed(path, failure.error, failure.cause, gave_up)

    def _evaluation_failed(self, path: dict, failure: Failure) -> None:
        if failure.error == failures.QUERY_EVALUATION_ERROR:
            self.emit(path, history.evaluation_failed(path["state"], failure.error, failure.cause,
                                                      failure.location))

    def _state_failed(self, path: dict, error: str | None, cause: str | None,
                      gave_up: history.Event | None = None, by_task: bool = False) -> None:
        """Retry, Catch, or fail the path, as the state's Retry and Catch fields say.

        ``gave_up`` is the event recorded when no retrier applies (MapStateFailed,
        ParallelStateFailed): AWS writes it before the catch or the failure, never before a retry.
        ``by_task``: the error is the task's own outcome, not one the interpreter raised, so the
        wildcards match it whatever its name (AWS's States.ALL catches a task's
        States.DataLimitExceeded), and a caught States.Timeout carries an empty Cause though its
        TaskTimedOut and ExecutionFailed events carry none.
        """
        state = self._state(path)
        name = error or failures.TASK_FAILED
        retriers = state.get("Retry", [])
        index = retry.find_retrier(retriers, name, by_task)
        if index is not None:
            used = path["retries"].get(str(index), 0)
            if retry.attempts_left(retriers[index], used):
                path["retries"][str(index)] = used + 1
                unit = self.env.random.random() if self.env.random is not None else 1.0
                delay = retry.delay_seconds(retriers[index], used, unit)
                path["phase"] = "retry"
                path["due"] = self.now if self.env.skip_waits else self.now + delay
                return
        if gave_up is not None:
            self.emit(path, gave_up)
        catcher = retry.find_catcher(state.get("Catch", []), name, by_task)
        if catcher is not None:
            scope = self.scope(path)
            if by_task and name == failures.TIMEOUT and cause is None:
                cause = ""
            error_output = {"Error": error, "Cause": cause} if cause is not None else {"Error": error}
            try:
                output, assigned = dataflow.leave_caught(catcher, path["input"], error_output, scope)
            except Failure as failure:
                self._evaluation_failed(path, failure)
                self._path_done(path, ok=False, error=failure.error, cause=failure.cause)
                return
            self._transition(path, scope.plan, output, catcher["Next"], assigned=assigned)
            return
        self._path_done(path, ok=False, error=error, cause=cause)

    def _path_done(self, path: dict, ok: bool, value: Any = None, error: str | None = None,
                   cause: str | None = None, text: str | None = None) -> None:
        """``text``: ``value`` as JSON text, when the caller has it."""
        if path["parent"] is None:
            if ok:
                self._finish("SUCCEEDED", output=value, output_text=text)
            else:
                self._finish("FAILED", error=error, cause=cause)
            return
        self._child_done(path, ok, value, error, cause)

    def _finish(self, status: str, output: Any = None, error: str | None = None,
                cause: str | None = None, output_text: str | None = None) -> None:
        root = self.paths.get("0")
        for path in self.paths.values():
            self._abandon_task(path)  # the store closes every token of a finished execution
        if status == "SUCCEEDED":
            output_text = history.to_json(output) if output_text is None else output_text
            self.emit(root, history.execution_succeeded(output, output_text))
        else:
            kind = {"FAILED": "ExecutionFailed", "ABORTED": "ExecutionAborted",
                    "TIMED_OUT": "ExecutionTimedOut"}[status]
            self.emit(root, history.execution_ended(kind, error, cause))
        if status != "SUCCEEDED" and root is not None:
            self.snap["redrive"] = redrives.freeze(self.paths, root)  # see asl/redrive.py
        self.paths.clear()
        self.step.status, self.step.output = status, output
        self.step.output_text = output_text
        self.step.error, self.step.cause = error, cause
        self.step.due_at = None


class _PathScope(Scope):
    """The scope of the state a path is in, made for every state visited: it keeps the path and
    works out each member when it is first read (most states read none). What the members come
    from does not change while the state's fields are evaluated."""

    __slots__ = ("_run", "_path", "plan", "_map_item")

    def __init__(self, run: _Run, path: dict, plan: StatePlan, map_item: tuple | None):
        self._context = self._variables = None
        self._run, self._path, self.plan, self._map_item = run, path, plan, map_item

    @property
    def context(self) -> dict:
        if self._context is None:
            self._context = self._run.context_object(self._path, self.plan, self._map_item)
        return self._context

    @property
    def variables(self) -> dict:
        if self._variables is None:
            self._variables = variables.visible(self._run.paths, self._path)
        return self._variables

    @property
    def state_name(self) -> str:
        return self._path["state"]

    @property
    def entered_event_id(self) -> int:
        return self._path["entered_id"] or 0

    @property
    def random(self) -> Any:
        return self._run.env.random

    @property
    def new_uuid(self) -> Callable[[], str] | None:
        return self._run.env.new_uuid

    @property
    def language(self) -> str:
        return self.plan.language

    @property
    def now(self) -> float:
        return self._run.now


# the handler of each state type: (run, path, plan, scope)
_HANDLERS: dict[str, Callable] = {
    "Pass": _Run._exec_pass, "Succeed": _Run._exec_succeed, "Choice": _Run._exec_choice,
    "Fail": _Run._exec_fail, "Wait": _Run._exec_wait, "Parallel": _Run._exec_parallel,
    "Map": _Run._exec_map, "Task": _Run._exec_task,
}


# --- pure helpers ----------------------------------------------------------------------------
_ATOMS = (str, int, float, bool, type(None))


def copy_snapshot(value: Any) -> Any:
    """A deep copy of a snapshot, which is plain JSON data (the store keeps it as JSON text):
    dicts and lists copied, strings, numbers, booleans and null shared, as copy.deepcopy would,
    at a fraction of its cost. Like a round trip through the store, it keeps no aliasing
    between parts. Anything else goes to copy.deepcopy."""
    kind = type(value)
    if kind is dict:
        return {key: copy_snapshot(item) for key, item in value.items()}
    if kind is list:
        return [copy_snapshot(item) for item in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


_iso = functools.lru_cache(maxsize=1024)(timestamps.iso)  # many states enter at the same instant


def _timers(path: dict) -> tuple:
    """Every time at which a waiting path needs attention."""
    return (path["due"], path.get("redispatch"), path.get("beat_due"))


def _child_failure(kids: dict, error: str | None, cause: str | None) -> tuple:
    if kids.get("silent") or kids.get("tolerated_count") is not None or kids.get("tolerated_pct") is not None:
        return (failures.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded")
    return (error, cause)
