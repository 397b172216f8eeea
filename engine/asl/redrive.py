"""What an unsuccessful execution keeps so that RedriveExecution can continue it, as plain JSON.

AWS redrives every state that was entered and not exited when the execution ended, with the
input it was entered with; successful states are not run again. Here that is a *redrive tree*
kept in the final snapshot (``snapshot["redrive"]``), built by :func:`freeze` from the path table
when the execution ends:

* a **leaf node** is a state to enter again: ``state``, ``scope``, ``input`` (and ``index``, the
  iteration or branch it belongs to);
* a **container node** is a Map or Parallel state that did not finish: its ``kids`` bookkeeping
  (results of the successful children kept) and ``redo``, one node per child that failed, was
  aborted or was waiting to be rerun. Children never started are still counted by
  ``kids["next"]`` and start as usual.

The interpreter turns the tree back into paths (``interpreter.redrive``): leaves are entered
anew (retry counters restart), containers go on pumping their ``redo`` children first.
"""
from __future__ import annotations

# ``invocation`` goes on counting, so a late answer to a task of the first run stays stale
_NODE_FIELDS = ("state", "scope", "input", "index", "entered_id", "entered_at", "invocation")
_TRANSIENT_KIDS = ("children", "lost", "redo")


def freeze(paths: dict[str, dict], path: dict) -> dict:
    """The redrive node of ``path``; its live children are read from ``paths``."""
    node = {key: path.get(key) for key in _NODE_FIELDS}
    kids = path.get("kids") or path.get("failed_kids")
    if kids is not None:
        node["kids"] = _frozen_kids(paths, kids)
    return node


def lost_child(kids: dict, paths: dict[str, dict], child: dict) -> None:
    """Remember a child that failed or was aborted: a redrive of its parent reruns it."""
    kids.setdefault("lost", {})[str(child["index"])] = freeze(paths, child)


def has_unstarted(kids: dict) -> bool:
    """True while some child (a new one or one to rerun) waits to be started."""
    return bool(kids.get("redo")) or kids["next"] < kids["total"]


def _frozen_kids(paths: dict[str, dict], kids: dict) -> dict:
    redo = {node["index"]: node for node in kids.get("redo", [])}
    redo.update({node["index"]: node for node in kids.get("lost", {}).values()})
    for pid in kids["children"]:
        if pid in paths:
            redo[paths[pid]["index"]] = freeze(paths, paths[pid])
    kept = {key: value for key, value in kids.items() if key not in _TRANSIENT_KIDS}
    # every unsuccessful child runs again, so none counts as failed any more
    return {**kept, "running": 0, "failed": 0, "failure": None, "children": [],
            "redo": [redo[index] for index in sorted(redo)]}
