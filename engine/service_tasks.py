"""The Engine's activity and task-token operations (a part of the facade, mixed into Engine).

Tokens are handed out by the interpreter's steps and recorded with them (``store.tokens``);
this module answers them. Each answer is checked and queued for the execution in one
transaction, so an accepted answer survives a crash and a token is used at most once.

Answers to a token that cannot take one, as AWS gives them:

* a string that is not a token at all: ``InvalidToken``;
* a well-formed token this engine never handed out: ``TaskDoesNotExist``;
* a token whose task already ended (answered, timed out, or its execution stopped):
  ``TaskTimedOut``, AWS's "Provided task does not exist anymore".
"""
from __future__ import annotations

import re
import threading
from typing import Any

from engine import arns, errors
from engine.asl import history
from engine.paging import page_size

MAX_TOKEN_LENGTH = 2048
MAX_OUTPUT_BYTES = 256 * 1024
MAX_POLL_SECONDS = 60.0  # AWS's GetActivityTask long poll
_OUR_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32): 256 random bits


class TaskOperations:
    """Activities (Create/Describe/List/Delete, GetActivityTask) and SendTask* for Engine."""

    # provided by Engine
    store: Any
    clock: Any
    settings: Any
    executor: Any
    observer: Any

    def _init_tasks(self) -> None:
        self._tokens_changed = threading.Condition()

    def tokens_opened(self) -> None:
        """Wake long polls: a step handed out new activity tasks."""
        with self._tokens_changed:
            self._tokens_changed.notify_all()

    # ---- activities
    def create_activity(self, name: str, tags: list | None = None,
                        encryption_configuration: dict | None = None) -> dict:
        arns.check_name(name)
        arn = arns.activity_arn(self.settings.region, self.settings.account, name)
        existing = self.store.get_activity(arn)
        if existing is None:  # CreateActivity is idempotent
            try:
                self.store.insert_activity({"arn": arn, "name": name, "tags": tags or [],
                                            "creation_date": self.clock.now()})
            except errors.ConflictError:
                pass
            existing = self.store.get_activity(arn)
        return {"activityArn": arn, "creationDate": existing["creation_date"]}

    def describe_activity(self, activity_arn: str) -> dict:
        row = self._activity(activity_arn)
        return {"activityArn": row["arn"], "name": row["name"], "creationDate": row["creation_date"]}

    def list_activities(self, max_results: int | None = None, next_token: str | None = None) -> dict:
        rows, token = self.store.list_activities(page_size(max_results), next_token)
        answer: dict[str, Any] = {"activities": [
            {"activityArn": r["arn"], "name": r["name"], "creationDate": r["creation_date"]}
            for r in rows]}
        if token:
            answer["nextToken"] = token
        return answer

    def delete_activity(self, activity_arn: str) -> dict:
        arns.parse_activity_arn(activity_arn)
        self.store.delete_activity(activity_arn)
        return {}

    def get_activity_task(self, activity_arn: str, worker_name: str | None = None,
                          wait_seconds: float | None = None) -> dict:
        """The next task of the activity: {taskToken, input}; {} when none came in the poll."""
        self._activity(activity_arn)
        if worker_name is not None and len(worker_name) > 80:
            raise errors.ValidationException("workerName must be at most 80 characters")
        limit = min(self.settings.activity_poll_seconds if wait_seconds is None else wait_seconds,
                    MAX_POLL_SECONDS)
        deadline = self.clock.now() + limit
        while True:
            row = self.store.take_activity_task(activity_arn, worker_name, self.clock.now())
            if row is not None:
                self.executor.wake()
                return {"taskToken": row["token"], "input": row["input"]}
            remaining = deadline - self.clock.now()
            if remaining <= 0:
                return {}
            with self._tokens_changed:
                # other processes hand out tasks too: look again at least every poll interval
                self._tokens_changed.wait(min(remaining, self.settings.poll_seconds))

    # ---- answers
    def send_task_success(self, task_token: str, output: str) -> dict:
        value = _checked_output(output)
        self._answer(task_token, {"kind": "task_result", "output": value}, final=True)
        return {}

    def send_task_failure(self, task_token: str, error: str | None = None,
                          cause: str | None = None) -> dict:
        if error is not None and len(error) > 256:
            raise errors.ValidationException("error must be at most 256 characters")
        if cause is not None and len(cause) > 32768:
            raise errors.ValidationException("cause must be at most 32768 characters")
        self._answer(task_token, {"kind": "task_result", "error": error, "cause": cause}, final=True)
        return {}

    def send_task_heartbeat(self, task_token: str) -> dict:
        self._answer(task_token, {"kind": "heartbeat"}, final=False)
        return {}

    def list_waiting_tasks(self, execution_arn: str | None = None, state_name: str | None = None,
                           activity_arn: str | None = None, older_than_seconds: float | None = None,
                           max_results: int | None = None, next_token: str | None = None) -> dict:
        """Tasks waiting for an answer (people, workers, callbacks), oldest first."""
        now = self.clock.now()
        older = None if older_than_seconds is None else now - older_than_seconds
        rows, token = self.store.list_tokens(
            execution_arn=execution_arn, state_name=state_name, activity_arn=activity_arn,
            older_than=older, limit=page_size(max_results), after=next_token)
        answer: dict[str, Any] = {"tasks": [_waiting_task(row, now) for row in rows]}
        if token:
            answer["nextToken"] = token
        return answer

    def _answer(self, token: str, body: dict, final: bool) -> None:
        if not isinstance(token, str) or not 1 <= len(token) <= MAX_TOKEN_LENGTH:
            raise errors.InvalidToken(f"Invalid Token: '{token}'")
        answer = self.store.answer_token(token, body, self.clock.now(), final)
        if answer.outcome == "missing":
            if _OUR_TOKEN.match(token):
                raise errors.TaskDoesNotExist("Task does not exist: no task was handed out with this token")
            raise errors.InvalidToken(f"Invalid Token: '{token}'")
        if answer.outcome != "ok":
            raise errors.TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        if final:  # how long a person, worker or callback took: the same histogram as handlers
            row = answer.row
            self.observer.task_done(row["activity_arn"] or row["resource"] or "",
                                    self.clock.now() - row["created"])
        self.executor.wake()

    def _activity(self, arn: str) -> dict:
        arns.parse_activity_arn(arn)
        row = self.store.get_activity(arn)
        if row is None:
            raise errors.ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
        return row


def _checked_output(output: str) -> Any:
    if not isinstance(output, str):
        raise errors.InvalidOutput("Invalid Output: 'output must be a JSON string'")
    if len(output.encode("utf-8", "surrogatepass")) > MAX_OUTPUT_BYTES:
        raise errors.InvalidOutput(f"Invalid Output: 'the output is larger than {MAX_OUTPUT_BYTES} bytes'")
    try:
        return history.from_json(output)
    except ValueError as error:
        raise errors.InvalidOutput(f"Invalid Output: '{error}'") from None


def _waiting_task(row: dict, now: float) -> dict:
    deadlines = [row["timeout_at"]]
    if row["heartbeat_seconds"] and row["last_beat"] is not None:
        deadlines.append(row["last_beat"] + row["heartbeat_seconds"])
    deadline = min((d for d in deadlines if d is not None), default=None)
    task = {"taskToken": row["token"], "executionArn": row["execution_arn"],
            "stateName": row["state_name"], "resource": row["resource"],
            "status": row["status"], "created": row["created"], "ageSeconds": now - row["created"],
            "input": row["input"]}
    if deadline is not None:
        task["deadline"] = deadline
    if row["activity_arn"]:
        task["activityArn"] = row["activity_arn"]
    if row["worker_name"]:
        task["workerName"] = row["worker_name"]
    return task
