"""Engine: the one facade the CLI, the HTTP API and Python users call.

Method names and keyword arguments are the Step Functions API's in snake_case, and responses
are the API's camelCase dicts (dates as epoch seconds), so the HTTP layer is a thin dispatch
table. Everything durable goes through the store; the pure interpreter decides.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import json
import random
import secrets
import threading
import time
import uuid
from concurrent import futures
from typing import TYPE_CHECKING, Any

from engine import arns, errors
from engine.asl import history, interpreter, model, parse, timestamps, validate
from engine.clock import Clock
from engine.eventbus import status
from engine.eventbus.dispatcher import Dispatcher
from engine.observability import spans
from engine.observability.observer import Observer
from engine.paging import page_size
from engine.runtime import connections, handlers
from engine.runtime.executor import Executor, final_columns, output_text
from engine.runtime.retention import Retention
from engine.runtime.services import EngineServices
from engine.service_redrive import RedriveOperations
from engine.service_tasks import TaskOperations
from engine.settings import MEMORY_DB, Settings, from_environment
from engine.store import Store

if TYPE_CHECKING:
    from engine.eventbus import sources as event_sources
    from engine.observability.metrics import Metrics
    from engine.service_events import EventsOperations

MAX_INPUT_BYTES = 256 * 1024
MAX_DEFINITION_CHARS = 1024 * 1024  # AWS: a definition of at most 1 MB (a hard quota)
SYNC_EXECUTION_LIMIT = 300.0  # seconds: AWS's Express duration limit is 5 minutes
TYPES = ("STANDARD", "EXPRESS")
# how stale a start may see another process's update of a state machine (AWS: "a few seconds")
STATE_MACHINE_TTL_SECONDS = 1.0
_NO_LOGGING = {"level": "OFF", "includeExecutionData": False}
_NO_TRACING = {"enabled": False}
_REDRIVE_FILTERS = {"REDRIVEN": True, "NOT_REDRIVEN": False}


class Engine(TaskOperations, RedriveOperations):
    """A Stepstone engine over one database (``sqlite://`` for a throw-away in-memory one)."""

    def __init__(self, db_url: str | None = None, *, settings: Settings | None = None,
                 clock: Clock | None = None, upgrade: bool = True, mocks=None,
                 tracer_provider: Any = None):
        """``tracer_provider``: an OpenTelemetry TracerProvider for this engine's spans
        (default: the global one, once configured; none: no spans)."""
        self.settings = (settings or from_environment()).with_flags(db_url=db_url)
        self.clock = clock or Clock()
        self.store = Store(self.settings.db_url)
        if upgrade:
            self.store.upgrade()
        handlers.load(self.settings.handlers)
        connections.config(self.settings)  # a bad STEPSTONE_CONNECTIONS file fails here, not mid-run
        # broker event sources (STEPSTONE_SOURCES): a bad file fails here; they run from start()
        self._source_configs: list = []
        if self.settings.sources:
            # imported only then: ~10 ms of start-up that `stepstone run` does without
            from engine.eventbus import sources as event_sources

            self._source_configs = event_sources.load_file(self.settings.sources)
        self._sources: event_sources.Sources | None = None
        self.env = interpreter.Env(region=self.settings.region, account=self.settings.account,
                                   random=random.Random(), new_uuid=lambda: str(uuid.uuid4()),
                                   new_token=lambda: secrets.token_urlsafe(32),
                                   skip_waits=self.settings.skip_waits,
                                   task_redispatch_seconds=self.settings.task_redispatch_seconds)
        # (a millisecond, not 0: the step that hands a task out must not hand it out again)
        self._env_leaving_tasks = dataclasses.replace(self.env, task_redispatch_seconds=0.001)
        self._models: dict[int, model.Machine] = {}
        # execution ARN -> pinned revision id: asked on every step, and a pin never changes
        self._revision_of = functools.lru_cache(maxsize=65536)(
            lambda arn: self._execution(arn)["revision_id"])
        self._models_lock = threading.Lock()
        self._recent_machines: dict[str, tuple[float, dict]] = {}  # ARN -> (read at, row)
        self._listener = None  # wakeups.Listener on PostgreSQL, from start()
        self._handler_pool: futures.ThreadPoolExecutor | None = None  # StartSyncExecution's handlers
        self._init_tasks()
        # counters, spans and the log record of each end, from committed steps (observability/)
        self.observer = Observer(tracer_provider=tracer_provider)
        # mocks: an engine.runtime.mocks.Session whose test case answers mocked Task states
        self.executor = Executor(self.store, self.settings, self.clock, self._model_of_execution,
                                 self.env, services=EngineServices(self), mocks=mocks,
                                 observer=self.observer)
        self.dispatcher = Dispatcher(self.store, self.settings, self.clock, self._start_target,
                                     on_delivery=self.observer.delivery)
        self.retention = Retention(self.store, self.settings, self.clock)

    @functools.cached_property
    def events(self) -> EventsOperations:
        """The EventBridge API (its own object: its action names clash with Step Functions')."""
        # built on first use: its module and the pattern compiler cost `stepstone run` ~15 ms to import
        from engine.service_events import EventsOperations

        return EventsOperations(self)

    @functools.cached_property
    def metrics(self) -> Metrics:
        """This engine's Prometheus metrics: ``metrics.render()`` is the text ``GET /metrics``
        answers, ``metrics.registry`` the CollectorRegistry (its own, not the global one)."""
        # built on first use: prometheus_client costs `stepstone run` ~60 ms to import
        from engine.observability.metrics import Metrics

        return Metrics(self.observer.counters, lambda: self.store.gauges(self.clock.now()))

    @classmethod
    def in_memory(cls, **settings: Any) -> "Engine":
        return cls(settings=from_environment().with_flags(db_url=MEMORY_DB, **settings))

    # ---- lifecycle
    def start(self, workers: int | None = None) -> "Engine":
        self.executor.start(workers)
        if self._listener is None:  # PostgreSQL: other processes' new work wakes the workers
            self._listener = self.store.listen(self.executor.wake)
        self.dispatcher.start()
        self.retention.start()
        if self._source_configs and self._sources is None:
            from engine.eventbus import sources as event_sources  # imported with _source_configs

            self._sources = event_sources.start_sources(
                self._source_configs, event_sources.bus_sink(self.publish_events),
                account=self.settings.account, region=self.settings.region)
        return self

    def stop(self) -> None:
        if self._sources is not None:  # first: they finish their batch in flight into the bus
            self._sources.stop()
            self._sources = None
        self.retention.stop()
        self.dispatcher.stop()
        self.executor.stop()
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    def close(self) -> None:
        self.stop()
        if self._handler_pool is not None:
            self._handler_pool.shutdown(wait=False, cancel_futures=True)
        self.store.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def run_until_idle(self) -> None:
        """Advance every execution (and deliver every event) that can move now, in this thread
        (tests, ``stepstone run``)."""
        while True:
            delivered = self.dispatcher.run_until_idle()
            self.executor.run_until_idle()
            if not delivered:
                return

    def publish_events(self, events: list[dict], event_bus_name: str = "default") -> list[str]:
        """Put complete events (each with its ``id``) on a bus, skipping ids already stored:
        an idempotent PutEvents for sources with their own message ids. Returns the new ids."""
        return self.events.publish(events, event_bus_name)

    def _start_target(self, state_machine_arn: str, name: str, input: str) -> str:
        """StartExecution for a rule's target; a name already taken means it already started."""
        try:
            return self.start_execution(state_machine_arn, name=name, input=input)["executionArn"]
        except errors.ExecutionAlreadyExists:
            return arns.execution_arn(state_machine_arn, name)

    def wait(self, execution_arn: str, timeout: float | None = None) -> dict:
        """Drive (or wait for) an execution until it ends; returns DescribeExecution's answer."""
        deadline = None if timeout is None else self.clock.now() + timeout
        while True:
            described = self.describe_execution(execution_arn)
            if described["status"] != "RUNNING":
                return described
            if deadline is not None and self.clock.now() >= deadline:
                return described
            if self.executor.running:
                self.executor.wait_finished(0.2)
                continue
            self.run_until_idle()
            described = self.describe_execution(execution_arn)
            if described["status"] != "RUNNING":
                return described
            due = self.store.next_due()
            pause = 0.05 if due is None else max(0.0, min(1.0, due - self.clock.now()))
            threading.Event().wait(pause)

    # ---- state machines
    def create_state_machine(self, name: str, definition: str, role_arn: str, type: str = "STANDARD",
                             logging_configuration: dict | None = None,
                             tracing_configuration: dict | None = None, tags: list | None = None,
                             publish: bool = False, version_description: str | None = None,
                             encryption_configuration: dict | None = None) -> dict:
        if version_description is not None and not publish:
            raise errors.ValidationException("Version description can only be set when publish is true")
        if type not in TYPES:
            raise errors.ValidationException(
                f"1 validation error detected: Value '{type}' at 'type' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [STANDARD, EXPRESS]")
        arns.check_name(name)
        text = self._checked_definition(definition, type)
        arn = arns.state_machine_arn(self.settings.region, self.settings.account, name)
        existing = self.store.get_state_machine(arn)
        if existing is not None:
            if (existing["definition"], existing["role_arn"], existing["type"]) == (text, role_arn, type):
                return {"stateMachineArn": arn, "creationDate": existing["creation_date"]}
            raise errors.StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'")
        now = self.clock.now()
        revision = self.store.insert_revision(arn, text, role_arn, now)
        try:
            self.store.insert_state_machine({
                "arn": arn, "name": name, "type": type, "status": "ACTIVE", "definition": text,
                "role_arn": role_arn, "revision_id": revision, "description": None,
                "logging_configuration": logging_configuration or _NO_LOGGING,
                "tracing_configuration": tracing_configuration or _NO_TRACING,
                "tags": tags or [], "creation_date": now, "update_date": None})
        except errors.ConflictError:
            raise errors.StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'") from None
        return {"stateMachineArn": arn, "creationDate": now}

    def describe_state_machine(self, state_machine_arn: str) -> dict:
        row = self._state_machine(state_machine_arn)
        answer = {"stateMachineArn": row["arn"], "name": row["name"], "status": row["status"],
                  "definition": row["definition"], "roleArn": row["role_arn"], "type": row["type"],
                  "creationDate": row["creation_date"],
                  "loggingConfiguration": row["logging_configuration"] or _NO_LOGGING,
                  "tracingConfiguration": row["tracing_configuration"] or _NO_TRACING}
        if row.get("description"):
            answer["description"] = row["description"]
        return answer

    def update_state_machine(self, state_machine_arn: str, definition: str | None = None,
                             role_arn: str | None = None, logging_configuration: dict | None = None,
                             tracing_configuration: dict | None = None, publish: bool = False,
                             version_description: str | None = None) -> dict:
        if version_description is not None and not publish:
            raise errors.ValidationException("Version description can only be set when publish is true")
        if definition is None and role_arn is None and logging_configuration is None \
                and tracing_configuration is None:
            raise errors.MissingRequiredParameter(
                "Either the definition, the roleArn, the loggingConfiguration or the "
                "tracingConfiguration must be specified")
        row = self._state_machine(state_machine_arn)
        now = self.clock.now()
        changes: dict[str, Any] = {"update_date": now}
        if definition is not None:
            changes["definition"] = self._checked_definition(definition, row["type"])
        if role_arn is not None:
            changes["role_arn"] = role_arn
        if logging_configuration is not None:
            changes["logging_configuration"] = logging_configuration
        if tracing_configuration is not None:
            changes["tracing_configuration"] = tracing_configuration
        if "definition" in changes or "role_arn" in changes:
            changes["revision_id"] = self.store.insert_revision(
                row["arn"], changes.get("definition", row["definition"]),
                changes.get("role_arn", row["role_arn"]), now)
        self.store.update_state_machine(row["arn"], changes)
        self._forget_state_machine(row["arn"])
        return {"updateDate": now}

    def delete_state_machine(self, state_machine_arn: str) -> dict:
        arns.parse_state_machine_arn(state_machine_arn)
        # Running executions go on: each is pinned to its own revision.
        self.store.delete_state_machine(state_machine_arn)
        self._forget_state_machine(state_machine_arn)
        return {}

    def list_state_machines(self, max_results: int | None = None, next_token: str | None = None) -> dict:
        rows, token = self.store.list_state_machines(page_size(max_results), next_token)
        answer: dict[str, Any] = {"stateMachines": [
            {"stateMachineArn": r["arn"], "name": r["name"], "type": r["type"],
             "creationDate": r["creation_date"]} for r in rows]}
        if token:
            answer["nextToken"] = token
        return answer

    def validate_state_machine_definition(self, definition: str, type: str | None = None,
                                          severity: str | None = None,
                                          max_results: int | None = None) -> dict:
        diagnostics = self._diagnostics(definition, type or "STANDARD")
        result = validate.validation_result(diagnostics)
        if max_results and len(result["diagnostics"]) > max_results:
            result["diagnostics"] = result["diagnostics"][:max_results]
            result["truncated"] = True
        return result

    # ---- executions
    def start_execution(self, state_machine_arn: str, name: str | None = None,
                        input: str | None = None, trace_header: str | None = None) -> dict:
        answer = self._start(state_machine_arn, name, input, None)
        return {"executionArn": answer["executionArn"], "startDate": answer["startDate"]}

    def start_child_execution(self, state_machine_arn: str, name: str, input: str,
                              started_by: dict) -> dict:
        """StartExecution from a parent's task; ``finished`` holds the row of a child that ended.

        Starting the same child again (a task re-sent after a crash) finds the first one.
        """
        return self._start(state_machine_arn, name, input, started_by)

    def _start(self, state_machine_arn: str, name: str | None, input: str | None,
               started_by: dict | None) -> dict:
        machine = self._state_machine_to_start(state_machine_arn)
        name = arns.check_name(name) if name is not None else str(uuid.uuid4())
        text, value = _checked_input(input)
        arn = arns.execution_arn(machine["arn"], name)
        # no read first: an execution of that name makes the insert below conflict (_same_start)
        now = self.clock.now()
        context = self._context(machine, arn, name, value, now, express=False)
        # a process that runs no worker leaves the tasks to the workers (or to run_until_idle):
        # due for dispatch at once, as after a crash, instead of run in the caller's thread
        env = self.env if self.executor.running else self._env_leaving_tasks
        step = interpreter.start(self._model(machine["revision_id"]), context, value, now, env, text)
        row = {"arn": arn, "state_machine_arn": machine["arn"], "revision_id": machine["revision_id"],
               "name": name, "type": machine["type"], "status": "RUNNING", "input": text,
               "start_date": now, "role_arn": machine["role_arn"], "state_machine_name": machine["name"],
               "redrive_count": 0, "started_by": started_by}
        step.snapshot["revision_id"] = machine["revision_id"]  # saves the executor a read
        if started_by is not None:
            step.snapshot["parent"] = started_by
        standard = machine["type"] == "STANDARD"  # AWS publishes status changes of STANDARD ones
        if standard:
            step.snapshot["status_events"] = now
        listened = standard and self.dispatcher.has_rules(status.DEFAULT_BUS)
        published = [status.status_change(row, self.settings.region, self.settings.account, now)] \
            if listened else []
        if step.finished:
            row.update(final_columns(step, now))
            if listened:
                published.append(status.status_change(row, self.settings.region, self.settings.account, now))
        published = [event for event in published if self.dispatcher.has_listener(event)]
        try:
            # a snapshot that ended unsuccessfully is kept for RedriveExecution
            self.store.insert_execution(row, step.snapshot, step.due_at, step.events,
                                        step.token_changes, published)
        except errors.ConflictError:
            return self._same_start(self.store.get_execution(arn), text, started_by)
        self.observer.started(arn, step)
        if env is self.env:
            self.executor.dispatch(arn, step.commands)
        self.executor.wake()
        if step.token_changes:
            self.tokens_opened()
        if published:
            self.dispatcher.wake()
        return {"executionArn": arn, "startDate": now, "finished": row if step.finished else None}

    def _same_start(self, existing: dict, text: str, started_by: dict | None) -> dict:
        answer = {"executionArn": existing["arn"], "startDate": existing["start_date"], "finished": None}
        if started_by is not None and existing.get("started_by") == started_by:
            answer["finished"] = existing if existing["status"] != "RUNNING" else None
            return answer  # the same parent task asking again
        # AWS: the same name and input as a *running* execution returns that execution
        if existing["status"] == "RUNNING" and existing["input"] == text:
            return answer
        raise errors.ExecutionAlreadyExists(f"Execution Already Exists: '{existing['arn']}'")

    def start_sync_execution(self, state_machine_arn: str, name: str | None = None,
                             input: str | None = None, trace_header: str | None = None) -> dict:
        """Run an EXPRESS execution in memory to its end; only its start and result are stored."""
        machine = self._state_machine_to_start(state_machine_arn)
        if machine["type"] != "EXPRESS":
            raise errors.StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine")
        name = arns.check_name(name) if name is not None else str(uuid.uuid4())
        text, value = _checked_input(input)
        arn = arns.express_execution_arn(machine["arn"], name, str(uuid.uuid4()))
        started = self.clock.now()
        context = self._context(machine, arn, name, value, started, express=True)
        step = self._run_in_memory(self._model(machine["revision_id"]), arn, context, value, text, started)
        stopped = self.clock.now()
        answer = {"executionArn": arn, "stateMachineArn": machine["arn"], "name": name,
                  "startDate": started, "stopDate": stopped, "status": step.status, "input": text,
                  "inputDetails": {"included": True},
                  "billingDetails": {"billedMemoryUsedInMB": 64,
                                     "billedDurationInMilliseconds": max(100, int((stopped - started) * 1000))}}
        if step.status == "SUCCEEDED":
            answer["output"] = output_text(step)
            answer["outputDetails"] = {"included": True}
        for key in ("error", "cause"):
            if getattr(step, key) is not None:
                answer[key] = getattr(step, key)
        return answer

    def _run_in_memory(self, machine: model.Machine, arn: str, context: dict, value: Any, text: str,
                       started: float) -> interpreter.Step:
        """Run an EXPRESS execution to its end in this thread; handlers run on a pool so that a
        task's TimeoutSeconds fires on time even while its handler is still busy."""
        step = interpreter.start(machine, context, value, started, self.env, text)
        self.observer.started(arn, step)  # counted and traced as it runs, though nothing is stored
        running: dict[futures.Future, dict] = {}
        while not step.finished:
            now = self.clock.now()
            if now - started > SYNC_EXECUTION_LIMIT:
                return _timed_out(step)
            commands = [c for c in step.commands if c["kind"] == "invoke"]
            replies, commands = self.executor.mocks.split(arn, commands) if self.executor.mocks \
                else ([], commands)
            for command in commands:
                running[self._sync_pool().submit(self.executor.replies_to, arn, command)] = command
            if not replies:
                wait = SYNC_EXECUTION_LIMIT if step.due_at is None else max(0.0, step.due_at - now)
                done, _ = futures.wait(running, timeout=min(wait, SYNC_EXECUTION_LIMIT),
                                       return_when=futures.FIRST_COMPLETED)
                replies = [reply for future in done for reply in future.result()]
                for future in done:
                    running.pop(future)
            before = spans.open_states(step.snapshot) if self.observer.tracing else None
            step = interpreter.advance(machine, step.snapshot, replies, self.clock.now(), self.env)
            self.observer.committed([(arn, step, before)])
        return step

    def _sync_pool(self) -> futures.ThreadPoolExecutor:
        with self._models_lock:
            if self._handler_pool is None:
                self._handler_pool = futures.ThreadPoolExecutor(
                    self.settings.handler_threads, thread_name_prefix="stepstone-sync-task")
            return self._handler_pool

    def describe_execution(self, execution_arn: str) -> dict:
        row = self._execution(execution_arn)
        answer = {"executionArn": row["arn"], "stateMachineArn": row["state_machine_arn"],
                  "name": row["name"], "status": row["status"], "startDate": row["start_date"],
                  "input": row["input"], "inputDetails": {"included": True},
                  **self.redrive_fields(row)}
        if row["stop_date"] is not None:
            answer["stopDate"] = row["stop_date"]
        if row["status"] == "SUCCEEDED":
            answer["output"] = row["output"]
            answer["outputDetails"] = {"included": True}
        for column in ("error", "cause"):
            if row.get(column) is not None:
                answer[column] = row[column]
        return answer

    def list_executions(self, state_machine_arn: str | None = None, status_filter: str | None = None,
                        max_results: int | None = None, next_token: str | None = None,
                        map_run_arn: str | None = None, redrive_filter: str | None = None) -> dict:
        if state_machine_arn is None:
            raise errors.ValidationException("Must provide a StateMachine ARN or MapRun ARN")
        self._state_machine(state_machine_arn)
        if status_filter is not None and status_filter not in (
                "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"):
            raise errors.ValidationException(
                f"1 validation error detected: Value '{status_filter}' at 'statusFilter' failed to "
                f"satisfy constraint: Member must satisfy enum value set: "
                f"[RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]")
        if redrive_filter is not None and redrive_filter not in _REDRIVE_FILTERS:
            raise errors.ValidationException(
                f"1 validation error detected: Value '{redrive_filter}' at 'redriveFilter' failed "
                f"to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]")
        rows, token = self.store.list_executions(state_machine_arn, status_filter,
                                                 page_size(max_results), next_token,
                                                 _REDRIVE_FILTERS.get(redrive_filter))
        answer: dict[str, Any] = {"executions": [_execution_item(r) for r in rows]}
        if token:
            answer["nextToken"] = token
        return answer

    def search_executions(self, state_machine_arn: str | None = None, status_filter: str | None = None,
                          name_contains: str | None = None, max_results: int | None = None,
                          next_token: str | None = None) -> dict:
        """Executions of one state machine or of all, newest first, whose name contains
        ``name_contains`` (ignoring case): the console's search, beyond ListExecutions."""
        rows, token = self.store.list_executions(state_machine_arn, status_filter,
                                                 page_size(max_results), next_token,
                                                 name_contains=name_contains)
        answer: dict[str, Any] = {"executions": [_execution_item(r) for r in rows]}
        if token:
            answer["nextToken"] = token
        return answer

    def stop_execution(self, execution_arn: str, error: str | None = None, cause: str | None = None,
                       wait: bool = True) -> dict:
        row = self._execution(execution_arn)
        if row["status"] == "RUNNING":
            message = {"kind": "stop"}
            if error is not None:
                message["error"] = error
            if cause is not None:
                message["cause"] = cause
            if self.store.post(row["arn"], message, self.clock.now()):
                self.executor.wake()
                if wait:
                    row = self._await_end(row["arn"])
        return {"stopDate": row["stop_date"] if row["stop_date"] is not None else self.clock.now()}

    def _await_end(self, arn: str, timeout: float = 10.0) -> dict:
        deadline = self.clock.now() + timeout
        while True:
            if not self.executor.running:
                self.run_until_idle()
            row = self._execution(arn)
            if row["status"] != "RUNNING" or self.clock.now() >= deadline:
                return row
            self.executor.wait_finished(0.05)

    def get_execution_history(self, execution_arn: str, max_results: int | None = None,
                              reverse_order: bool = False, next_token: str | None = None,
                              include_execution_data: bool = True) -> dict:
        self._execution(execution_arn)
        limit = page_size(max_results)
        after = _history_cursor(next_token)
        rows = self.store.get_history(execution_arn, after, limit + 1, reverse_order)
        answer: dict[str, Any] = {"events": [_history_event(r, include_execution_data) for r in rows[:limit]]}
        if len(rows) > limit:
            answer["nextToken"] = base64.urlsafe_b64encode(str(rows[limit - 1]["id"]).encode()).decode()
        return answer

    def describe_state_machine_for_execution(self, execution_arn: str) -> dict:
        row = self._execution(execution_arn)
        revision = self.store.get_revision(row["revision_id"]) if row.get("revision_id") else None
        if revision is None:
            raise errors.StateMachineDoesNotExist(
                f"State Machine Does Not Exist: '{row['state_machine_arn']}'")
        machine = self.store.get_state_machine(row["state_machine_arn"]) or {}
        return {"stateMachineArn": row["state_machine_arn"], "name": row.get("state_machine_name")
                or row["state_machine_arn"].rsplit(":", 1)[-1], "definition": revision["definition"],
                "roleArn": revision["role_arn"], "updateDate": revision["created"],
                "loggingConfiguration": machine.get("logging_configuration") or _NO_LOGGING,
                "tracingConfiguration": machine.get("tracing_configuration") or _NO_TRACING}

    # ---- helpers
    def _checked_definition(self, definition: Any, type: str) -> str:
        if isinstance(definition, str) and len(definition) > MAX_DEFINITION_CHARS:
            raise errors.ValidationException(
                "1 validation error detected: Value at 'definition' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_DEFINITION_CHARS}")
        diagnostics = self._diagnostics(definition, type)
        if diagnostics:
            raise errors.InvalidDefinition(validate.invalid_definition_message(diagnostics))
        return definition if isinstance(definition, str) else json.dumps(definition)

    def _diagnostics(self, definition: Any, type: str) -> list:
        if isinstance(definition, str):
            try:
                loaded = parse.load_text(definition)
            except errors.DefinitionError as error:
                return [validate.Diagnostic("$", str(error))]
            return [d for d in validate.validate(loaded.document, type, loaded.lines) if d.severity == "ERROR"]
        return [d for d in validate.validate(definition, type) if d.severity == "ERROR"]

    def _state_machine(self, arn: str) -> dict:
        arns.parse_state_machine_arn(arn)
        row = self.store.get_state_machine(arn)
        if row is None:
            raise errors.StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
        return row

    def _state_machine_to_start(self, arn: str) -> dict:
        """The state machine a start runs, as read at most STATE_MACHINE_TTL_SECONDS ago.

        AWS, too, may run the previous definition for executions started right after an update;
        this process's own updates and deletes are seen at once (``_forget_state_machine``).
        """
        cached = self._recent_machines.get(arn)
        if cached is not None and time.monotonic() - cached[0] < STATE_MACHINE_TTL_SECONDS:
            return cached[1]
        row = self._state_machine(arn)
        self._recent_machines[arn] = (time.monotonic(), row)  # one entry per state machine
        return row

    def _forget_state_machine(self, arn: str) -> None:
        self._recent_machines.pop(arn, None)

    def _execution(self, arn: str) -> dict:
        arns.parse_execution_arn(arn)
        row = self.store.get_execution(arn)
        if row is None:
            raise errors.ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
        return row

    def _context(self, machine: dict, arn: str, name: str, value: Any, now: float, express: bool) -> dict:
        execution = {"Id": arn, "Input": value, "StartTime": timestamps.iso(now), "Name": name,
                     "RoleArn": machine["role_arn"]}
        if not express:
            execution["RedriveCount"] = 0
        return {"Execution": execution, "StateMachine": {"Id": machine["arn"], "Name": machine["name"]}}

    def _model(self, revision_id: int) -> model.Machine:
        with self._models_lock:
            found = self._models.get(revision_id)
        if found is None:
            revision = self.store.get_revision(revision_id)
            found = model.build(parse.load_text(revision["definition"]).document)
            with self._models_lock:
                self._models[revision_id] = found
        return found

    def _model_of_execution(self, execution_arn: str, snapshot: dict | None = None) -> model.Machine:
        """The compiled definition an execution is pinned to; its snapshot names the revision
        (executions started before it did are looked up)."""
        revision = (snapshot or {}).get("revision_id")
        return self._model(revision if revision is not None else self._revision_of(execution_arn))


# --- pure helpers ------------------------------------------------------------------------------
def _checked_input(text: str | None) -> tuple[str, Any]:
    text = "{}" if text is None else text
    if not isinstance(text, str):
        raise errors.InvalidExecutionInput("Invalid State Machine Execution Input: 'the input must be JSON text'")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise errors.InvalidExecutionInput(
            f"Invalid State Machine Execution Input: 'the input is larger than {MAX_INPUT_BYTES} bytes'")
    try:
        return text, history.from_json(text)
    except ValueError as error:
        raise errors.InvalidExecutionInput(f"Invalid State Machine Execution Input: '{error}'") from None


def _history_cursor(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, binascii.Error, UnicodeError):
        raise errors.InvalidToken(f"Invalid Token: '{token}'") from None


def _execution_item(row: dict) -> dict:
    item = {"executionArn": row["arn"], "stateMachineArn": row["state_machine_arn"], "name": row["name"],
            "status": row["status"], "startDate": row["start_date"],
            "redriveCount": row.get("redrive_count") or 0}
    if row["stop_date"] is not None:
        item["stopDate"] = row["stop_date"]
    if row.get("redrive_date") is not None:
        item["redriveDate"] = row["redrive_date"]
    return item


_DATA_FIELDS = ("input", "output")


def _history_event(row: dict, include_data: bool) -> dict:
    event = {"timestamp": row["timestamp"], "type": row["type"], "id": row["id"],
             "previousEventId": row["previous_event_id"] or 0}
    for key, details in (row["details"] or {}).items():
        if not include_data and isinstance(details, dict):
            details = {k: v for k, v in details.items() if k not in _DATA_FIELDS}
        event[key] = details
    return event


def _timed_out(step: interpreter.Step) -> interpreter.Step:
    step.status, step.error, step.cause = "TIMED_OUT", "States.Timeout", None
    return step

