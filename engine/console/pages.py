"""What each console page shows, gathered from the Engine facade, and the filters its templates
use. Synchronous: the app runs these in its thread pool."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from engine.console.history_view import read_history
from engine.paging import all_pages

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")
MAX_EVENTS_SHOWN = 5000   # a history may hold 25,000 events; the page stays readable
PAGE = 1000
INBOX_PAGE = 50   # each task is a card with two forms; the page refreshes while open


def all_state_machines(engine: Any) -> list[dict]:
    return all_pages(lambda **page: engine.list_state_machines(max_results=PAGE, **page),
                     "stateMachines")


def execution_page(engine: Any, arn: str) -> dict:
    execution = engine.describe_execution(arn)
    events = all_pages(lambda **page: engine.get_execution_history(arn, max_results=PAGE, **page),
                       "events", limit=MAX_EVENTS_SHOWN)
    view = read_history(events, execution["status"])
    definition = engine.describe_state_machine_for_execution(arn)["definition"]
    return {"execution": execution, "view": view, "truncated": len(events) >= MAX_EVENTS_SHOWN,
            "graph": graph_svg(definition, view.outcomes),
            "input": parsed(execution.get("input")), "output": parsed(execution.get("output")),
            "redrivable": execution["status"] in REDRIVABLE,
            "live": execution["status"] == "RUNNING"}


def waiting_tasks(engine: Any, state_name: str | None, page: str | None) -> dict:
    """A page of the inbox, oldest first (who waited longest is answered first)."""
    found = engine.list_waiting_tasks(state_name=state_name, max_results=INBOX_PAGE, next_token=page)
    for task in found["tasks"]:
        task["payload"] = parsed(task.get("input"))
    return found


def graph_svg(definition: str, outcomes: dict[str, str] | None) -> str:
    """The definition drawn as SVG; with ``outcomes`` (state name -> outcome, of an execution)
    its states are coloured by them and the states it never entered are faded."""
    from engine.graph import build_graph, to_svg  # the layout code loads with the first graph
    graph = build_graph(json.loads(definition))
    if outcomes is not None:
        outcomes = {name: outcomes.get(name, "not-run") for name in graph.state_names()}
    return to_svg(graph, outcomes)


# -- template filters ---------------------------------------------------------------------------

def when(epoch: Any) -> str:
    if not isinstance(epoch, (int, float)):  # absent: None, or a template's Undefined
        return "-"
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def duration(seconds: Any) -> str:
    """``850 ms``, ``12.4 s``, ``5m02s``, ``3h04m``: a span at a glance."""
    if not isinstance(seconds, (int, float)):
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def short_arn(arn: str) -> str:
    """The readable tail of an ARN: ``machine:execution`` or the name."""
    parts = arn.split(":")
    return ":".join(parts[-2:]) if len(parts) > 7 else parts[-1]


def parsed(text: str | None) -> Any:
    """JSON text as a value (shown indented), or the text itself when it is not JSON."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
