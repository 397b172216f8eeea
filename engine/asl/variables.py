"""Workflow variables (``Assign``): where they live, who sees them, how big they may be.

Each path of the snapshot (the main path, a Parallel branch, a Map iteration) keeps the
variables its own states assigned in ``path["vars"]``, so they survive a restart with the rest
of the snapshot. A state sees its own path's variables over those of the enclosing paths
(inner scopes read outer variables); it writes only to its own path (an inner scope never
changes an outer variable, and validation refuses an inner Assign of an outer name). A
distributed Map's child workflows see none of the parent's variables, as on AWS.

New values take effect when the assigning state exits: every expression of a state, its
Assign included, reads the values from before the state.
"""
from __future__ import annotations

from typing import Any

from engine.asl.history import to_json


MAX_VARIABLE_BYTES = 256 * 1024  # AWS's limit on one variable's value (UTF-8 JSON text)
MAX_ASSIGN_BYTES = 256 * 1024  # AWS's limit on all the values one Assign sets
MAX_TOTAL_BYTES = 10 * 1024 * 1024  # AWS's limit on the variables stored in one execution
RESERVED = ("states",)  # $states is the JSONata binding Step Functions defines


def visible(paths: dict[str, dict], path: dict) -> dict:
    """The variables ``path``'s states read: its own over each enclosing path's."""
    chain = [path]
    while chain[-1].get("parent") is not None and not chain[-1].get("isolated"):
        parent = paths.get(chain[-1]["parent"])
        if parent is None:
            break
        chain.append(parent)
    merged: dict = {}
    for frame in reversed(chain):
        merged.update(frame.get("vars") or {})
    return merged


def commit(path: dict, assigned: dict | None) -> None:
    """Store what a state's Assign set, in the state's own scope."""
    if assigned:
        path.setdefault("vars", {}).update(assigned)


def size_problem(assigned: dict, current: dict) -> str | None:
    """Why an Assign's values are over AWS's size limits, or None when they are not."""
    total = 0
    for name, value in assigned.items():
        size = _size(value)
        if size > MAX_VARIABLE_BYTES:
            return (f"The value assigned to the variable '{name}' has a size of {size} bytes, "
                    f"over the limit of {MAX_VARIABLE_BYTES} bytes.")
        total += size
    if total > MAX_ASSIGN_BYTES:
        return (f"The variables assigned by Assign have a combined size of {total} bytes, "
                f"over the limit of {MAX_ASSIGN_BYTES} bytes.")
    stored = sum(_size(value) for name, value in current.items() if name not in assigned)
    if stored + total > MAX_TOTAL_BYTES:
        return (f"The variables of the execution would have a combined size of {stored + total} "
                f"bytes, over the limit of {MAX_TOTAL_BYTES} bytes.")
    return None


def _size(value: Any) -> int:
    return len(to_json(value).encode("utf-8"))
