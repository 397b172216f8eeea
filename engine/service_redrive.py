"""The Engine's RedriveExecution and the redrive fields of DescribeExecution (mixed into Engine).

An execution that ended FAILED, TIMED_OUT or ABORTED keeps its final snapshot (with the
interpreter's redrive tree, see ``asl/redrive.py``). A redrive runs the pure
``interpreter.redrive`` on it and commits, in one transaction guarded by the execution's status
and redrive count, the executions row (RUNNING again, ``redrive_count`` + 1, ``redrive_date``),
the new events and a new work item. Of two concurrent redrives only one wins; the other gets
``ExecutionNotRedrivable`` (or, with the same client token, the winner's date).

Idempotency as AWS: the last ``KEPT_TOKENS`` client tokens of an execution answer with the date
of the redrive they made for ``TOKEN_SECONDS`` after it, without redriving again.
"""
from __future__ import annotations

import re
from typing import Any

from engine import errors
from engine.asl import interpreter
from engine.runtime.executor import final_columns

REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")
REDRIVE_PERIOD = 14 * 24 * 3600.0  # seconds after the end during which a redrive is allowed
MAX_OPEN = 365 * 24 * 3600.0  # seconds: AWS's maximum execution time (one year)
MAX_EVENTS = 24_999  # a redrive needs room for ExecutionRedriven and one more event
TOKEN_SECONDS = 15 * 60.0  # how long a client token answers idempotently
KEPT_TOKENS = 10
_CLIENT_TOKEN = re.compile(r"^[!-~]{1,64}$")


class RedriveOperations:
    """RedriveExecution for Engine."""

    # provided by Engine
    store: Any
    clock: Any
    env: Any
    executor: Any

    def redrive_execution(self, execution_arn: str, client_token: str | None = None) -> dict:
        _check_client_token(client_token)
        row = self._execution(execution_arn)
        now = self.clock.now()
        earlier = _earlier_redrive(row, client_token, now)
        if earlier is not None:
            return {"redriveDate": earlier}
        snapshot = self.store.get_final_snapshot(row["arn"]) if row["status"] in REDRIVABLE else None
        events = None if snapshot is None else snapshot["next_id"] - 1
        reason = self._not_redrivable(row, events, now)
        if reason is not None:
            raise errors.ExecutionNotRedrivable(reason)
        step = interpreter.redrive(self._model(row["revision_id"]), snapshot, now, self.env)
        changes = {"status": "RUNNING", "stop_date": None, "output": None, "error": None,
                   "cause": None, "redrive_count": row["redrive_count"] + 1, "redrive_date": now,
                   "redrive_tokens": _remember(row, client_token, now)}
        if step.finished:
            changes.update(final_columns(step, now))
        try:
            self.store.redrive(row["arn"], row["redrive_count"], changes, snapshot=step.snapshot,
                               due_at=step.due_at, events=step.events,
                               token_changes=step.token_changes, now=now)
        except errors.ConflictError:
            return self._lost_redrive_race(row["arn"], client_token, now)
        self.observer.committed([(row["arn"], step, None)])
        self.executor.dispatch(row["arn"], step.commands)
        self.executor.wake()
        if step.token_changes:
            self.tokens_opened()
        return {"redriveDate": now}

    def redrive_fields(self, row: dict) -> dict:
        """DescribeExecution's redriveCount, redriveDate, redriveStatus and redriveStatusReason."""
        fields: dict[str, Any] = {"redriveCount": row.get("redrive_count") or 0}
        if row.get("redrive_date") is not None:
            fields["redriveDate"] = row["redrive_date"]
        events = self.store.final_event_count(row["arn"]) if row["status"] in REDRIVABLE else None
        reason = self._not_redrivable(row, events, self.clock.now())
        if reason is None:
            fields["redriveStatus"] = "REDRIVABLE"
        else:
            fields.update(redriveStatus="NOT_REDRIVABLE", redriveStatusReason=reason)
        return fields

    def _not_redrivable(self, row: dict, events: int | None, now: float) -> str | None:
        """Why the execution cannot be redriven now (AWS's words), or None when it can.

        ``events``: the history length of its kept final snapshot (None: none is kept).
        """
        if row["status"] not in REDRIVABLE:
            return f"Execution is {row['status']} and cannot be redriven"
        if row["type"] == "EXPRESS":
            return "Execution of an EXPRESS state machine cannot be redriven"
        if self.store.get_state_machine(row["state_machine_arn"]) is None:
            return "State machine is in DELETING status"
        if events is None:  # ended before this engine kept final snapshots
            return "Execution was started before the launch of RedriveExecution"
        if row["stop_date"] is not None and now - row["stop_date"] > REDRIVE_PERIOD:
            return "Execution redrivable period exceeded"
        if now - row["start_date"] > MAX_OPEN:
            return "Execution has exceeded the max execution time"
        if events >= MAX_EVENTS:
            return "Execution history event limit exceeded"
        return None

    def _lost_redrive_race(self, arn: str, client_token: str | None, now: float) -> dict:
        row = self._execution(arn)
        earlier = _earlier_redrive(row, client_token, now)
        if earlier is not None:
            return {"redriveDate": earlier}
        events = self.store.final_event_count(arn) if row["status"] in REDRIVABLE else None
        raise errors.ExecutionNotRedrivable(
            self._not_redrivable(row, events, now) or
            f"Execution {arn} was redriven by another request at the same time; describe it and "
            "try again")


# --- pure helpers ------------------------------------------------------------------------------
def _check_client_token(token: str | None) -> None:
    if token is not None and not _CLIENT_TOKEN.match(token):
        raise errors.ValidationException(
            f"1 validation error detected: Value '{token}' at 'clientToken' failed to satisfy "
            "constraint: Member must have length between 1 and 64 and satisfy regular "
            "expression pattern: [!-~]+")


def _earlier_redrive(row: dict, token: str | None, now: float) -> float | None:
    """The date of the redrive ``token`` already made, while it still answers idempotently."""
    if token is None:
        return None
    for kept in row.get("redrive_tokens") or []:
        if kept["token"] == token and now - kept["date"] <= TOKEN_SECONDS:
            return kept["date"]
    return None


def _remember(row: dict, token: str | None, now: float) -> list[dict] | None:
    kept = [k for k in row.get("redrive_tokens") or [] if now - k["date"] <= TOKEN_SECONDS]
    if token is not None:
        kept.append({"token": token, "date": now})
    return kept[-KEPT_TOKENS:] or None
