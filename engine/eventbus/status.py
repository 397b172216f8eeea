"""Execution status changes as events on the default bus, as Step Functions publishes them.

Every STANDARD execution publishes ``Step Functions Execution Status Change`` (source
``aws.states``) when it starts and when it ends, so one workflow's end can start another.
The events are written into the bus's outbox in the same transaction as the change itself:
a status change is never published without happening, nor happens without being published.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from engine.eventbus.delivery import iso_time

DETAIL_TYPE = "Step Functions Execution Status Change"
SOURCE = "aws.states"
DEFAULT_BUS = "default"


def status_change(execution: dict, region: str, account: str, now: float) -> dict:
    """The outbox row of the event for ``execution`` (executions-table columns) now."""
    status = execution["status"]
    succeeded = status == "SUCCEEDED"
    detail = {
        "executionArn": execution["arn"], "stateMachineArn": execution["state_machine_arn"],
        "name": execution["name"], "status": status,
        "startDate": _millis(execution["start_date"]), "stopDate": _millis(execution.get("stop_date")),
        "input": execution.get("input"), "output": execution.get("output") if succeeded else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if succeeded else None,
        "error": execution.get("error"), "cause": execution.get("cause"),
        "redriveCount": execution.get("redrive_count") or 0,
        "stateMachineVersionArn": None, "stateMachineAliasArn": None,
    }
    # one event per (execution, status, redrive): a commit repeated after a crash rewrites the same id
    event_id = _event_id(execution["arn"], status, detail["redriveCount"])
    event = {"version": "0", "id": event_id, "detail-type": DETAIL_TYPE, "source": SOURCE,
             "account": account, "time": iso_time(now), "region": region,
             "resources": [execution["arn"]], "detail": detail}
    return {"id": event_id, "bus": DEFAULT_BUS, "event": event, "ingested": now, "rule": None,
            "matched": False, "due_at": now}


def execution_of_snapshot(snapshot: dict, columns: dict) -> dict:
    """The executions-table view of a finishing execution, from its snapshot and final columns."""
    context = snapshot["context"]
    return {"arn": context["Execution"]["Id"], "state_machine_arn": context["StateMachine"]["Id"],
            "name": context["Execution"]["Name"], "start_date": snapshot["status_events"],
            "input": json.dumps(context["Execution"].get("Input"), separators=(",", ":"),
                                ensure_ascii=False),
            "redrive_count": context["Execution"].get("RedriveCount", 0), **columns}


def _event_id(arn: str, status: str, redrive_count: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}#{status}#{redrive_count}"))


def _millis(epoch: Any) -> int | None:
    return None if epoch is None else int(round(float(epoch) * 1000))
