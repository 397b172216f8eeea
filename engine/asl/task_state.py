"""The Task state's lifecycle, mixed into the interpreter's run: scheduling, task tokens
(activities, ``.waitForTaskToken``, ``.sync``), heartbeats, submissions, and the end events of
each family (``LambdaFunction*``, ``Activity*``, ``Task*``).

A waiting task is a path in phase ``task`` with timers (``due`` for TimeoutSeconds, ``beat_due``
for HeartbeatSeconds, ``redispatch`` for an answer lost in a crash). Tokens come from
``Env.new_token``; the step reports every token it opens or gives up in ``token_changes``.
"""
from __future__ import annotations

from typing import Any

from engine.asl import dataflow, failures, fields, history
from engine.asl.failures import Failure
from engine.asl.plan import StatePlan
from engine.asl.scope import Scope
from engine.asl.tasks import describe_resource

MAX_PAYLOAD_BYTES = 256 * 1024  # AWS's limit on state input/output and task results


class TaskStates:
    """Task methods of ``interpreter._Run`` (which provides emit, scope, _plan, _state, _transition...)."""

    def _exec_task(self, path: dict, plan: StatePlan, scope: Scope) -> None:
        state = plan.spec
        effective = dataflow.effective_input(plan, path["input"], scope)
        resource = describe_resource(state["Resource"], self.env.region, self.env.account)
        path["invocation"] += 1
        if resource.kind == "activity" or resource.pattern:
            # the token exists before Parameters are rendered: they hand out $$.Task.Token
            path["token"] = self._new_token(path)
            scope = self.scope(path)
        payload = dataflow.parameters(plan, effective, scope)
        timeout = fields.seconds_field(state, "TimeoutSeconds", effective, scope)
        heartbeat = fields.seconds_field(state, "HeartbeatSeconds", effective, scope)
        path.update(phase="task", due=self.now + timeout if timeout else None, heartbeat=heartbeat,
                    submitted=False)
        if resource.kind == "activity":
            self.emit(path, history.activity_scheduled(resource.arn, payload, timeout, heartbeat))
            self._open_token(path, resource, payload, timeout, heartbeat)
            return  # a worker takes it with GetActivityTask; no command
        if resource.legacy_lambda:
            self.emit(path, history.lambda_scheduled(resource.arn, payload, timeout))
            self.emit(path, history.bare("LambdaFunctionStarted"))
        else:
            self.emit(path, history.task_scheduled(resource.service, resource.action, self.env.region,
                                                   payload, timeout, heartbeat))
            self.emit(path, history.task_started(resource.service, resource.action))
        if path.get("token"):
            self._open_token(path, resource, payload, timeout, heartbeat)
            self._beat(path, self.now)
        path["command"] = {
            "kind": "invoke", "path": path["id"], "invocation": path["invocation"],
            "resource": state["Resource"], "payload": payload, "timeout": timeout,
            "heartbeat": heartbeat, "state": path["state"], "context": scope.context,
        }
        self._dispatch(path)

    def _dispatch(self, path: dict) -> None:
        """Hand the task out (again, if its answer may have been lost with a crashed worker)."""
        path["redispatch"] = self.now + self.env.task_redispatch_seconds
        self.step.commands.append(path["command"])

    # ---- task tokens (activities, .waitForTaskToken, .sync)
    def _new_token(self, path: dict) -> str:
        if self.env.new_token is not None:
            return self.env.new_token()
        execution = self.snap["context"]["Execution"].get("Name", "")
        return f"{execution}-{path['id']}-{path['invocation']}"  # tests without an Env source

    def _open_token(self, path: dict, resource: Any, payload: Any, timeout: int | None,
                    heartbeat: int | None) -> None:
        self.step.token_changes.append({
            "op": "open", "token": path["token"], "path": path["id"],
            "invocation": path["invocation"], "state": path["state"], "resource": resource.arn,
            "activity_arn": resource.arn if resource.kind == "activity" else None,
            "input": history.to_json(payload), "timeout_at": path["due"],
            "heartbeat_seconds": heartbeat})

    def _close_token(self, path: dict, status: str = "CLOSED") -> None:
        token = path.pop("token", None)
        if token is not None:
            self.step.token_changes.append({"op": "close", "token": token, "status": status})

    def _beat(self, path: dict, at: float) -> None:
        """Start or restart the heartbeat clock of a waiting task."""
        if path.get("heartbeat"):
            path["beat_due"] = at + path["heartbeat"]

    def _task_submitted(self, path: dict, output: Any) -> None:
        """A callback or .sync task was handed to its service; now it waits for the answer."""
        if path.get("submitted"):
            return
        path["submitted"] = True
        path.pop("command", None)
        path.pop("redispatch", None)  # the submission is done: never send it again
        if isinstance(output, dict) and isinstance(output.get("ExecutionArn"), str):
            path["child"] = output["ExecutionArn"]  # stopped with this execution
        resource = describe_resource(self._state(path)["Resource"], self.env.region, self.env.account)
        self.emit(path, history.task_submitted(resource.service, resource.action, output))
        early = path.pop("early", None)
        if early is not None:
            self._task_answered(path, early)

    def _task_answered(self, path: dict, message: dict) -> None:
        waits_for_submission = "command" in path and path.get("token") and not path.get("submitted")
        if waits_for_submission and "error" not in message and not message.get("direct"):
            path["early"] = message  # the token came back before the service call returned
            return
        if "error" in message:
            self._task_failed(path, message.get("error"), message.get("cause"))
        else:
            self._task_succeeded(path, message.get("output"))

    # ---- the end of a task
    def _task_events(self, path: dict) -> tuple[str, Any]:
        """The family of end events of the path's task: lambda, activity or task."""
        resource = describe_resource(self._state(path)["Resource"], self.env.region, self.env.account)
        family = "lambda" if resource.legacy_lambda else "activity" if resource.kind == "activity" else "task"
        return family, resource

    def _task_succeeded(self, path: dict, output: Any) -> None:
        family, resource = self._task_events(path)
        plan = self._plan(path)
        state = plan.spec
        if too_large(output):
            # AWS records an oversized result as the task's failure (TaskFailed or
            # LambdaFunctionFailed), naming the function ARN or the integration's service
            who = state["Resource"] if resource.legacy_lambda else resource.service
            self._task_failed(path, failures.DATA_LIMIT_EXCEEDED, data_limit_cause(who))
            return
        self._task_over(path)
        if family == "lambda":
            self.emit(path, history.lambda_succeeded(output))
        elif family == "activity":
            self.emit(path, history.activity_succeeded(output))
        else:
            self.emit(path, history.task_succeeded(resource.service, resource.action, output))
        try:
            scope = self.scope(path)
            value, assigned = dataflow.leave_with_result(plan, path["input"], output, scope)
            self._transition(path, plan, value, assigned=assigned)
        except Failure as failure:
            self._fail_state(path, failure)

    def _task_failed(self, path: dict, error: str | None, cause: str | None,
                     timed_out: bool = False) -> None:
        family, resource = self._task_events(path)
        self._task_over(path, "TIMED_OUT" if timed_out else "CLOSED")
        outcome = "TimedOut" if timed_out else "Failed"
        if family == "lambda":
            self.emit(path, history.lambda_ended(f"LambdaFunction{outcome}", error, cause))
        elif family == "activity":
            self.emit(path, history.activity_ended(f"Activity{outcome}", error, cause))
        else:
            self.emit(path, history.task_ended(f"Task{outcome}", resource.service, resource.action,
                                               error, cause))
        self._state_failed(path, error or failures.TASK_FAILED, cause, by_task=True)

    def _task_timed_out(self, path: dict, error: str) -> None:
        path["invocation"] += 1  # a result arriving later is stale
        self._task_failed(path, error, None, timed_out=True)

    def _task_over(self, path: dict, token_status: str = "CLOSED") -> None:
        self._close_token(path, token_status)
        for key in ("command", "redispatch", "beat_due", "heartbeat", "submitted", "early", "child"):
            path.pop(key, None)
        path["due"] = None

    def _abandon_task(self, path: dict) -> None:
        """A task cut short by a failure elsewhere: its token dies, its child execution stops."""
        if path["phase"] != "task":
            return
        self._close_token(path)
        if path.get("child"):
            self.step.commands.append({"kind": "stop_execution", "arn": path["child"],
                                       "error": "States.Aborted",
                                       "cause": "The parent execution stopped."})


def too_large(value: Any) -> bool:
    return text_too_large(history.to_json(value))


def text_too_large(text: str) -> bool:
    """Is this JSON text over the limit in UTF-8? (Short texts are answered without encoding.)"""
    return len(text) * 4 > MAX_PAYLOAD_BYTES and len(text.encode()) > MAX_PAYLOAD_BYTES


def data_limit_cause(who: str) -> str:
    return (f"The state/task '{who}' returned a result with a size "
            f"exceeding the maximum number of bytes service limit.")
