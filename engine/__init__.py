"""Stepstone: Amazon States Language state machines, run durably, behind an AWS-compatible API.

The public Python API is this small, test-pinned ``__all__``::

    from engine import Engine, task, errors
"""
from typing import TYPE_CHECKING

from engine import errors
from engine.runtime.handlers import task

if TYPE_CHECKING:
    from engine.service import Engine

__all__ = ["Engine", "task", "errors"]


def __getattr__(name: str):
    # Engine (the service, the store, SQLAlchemy) is imported on first use, not with the package:
    # every ``engine.*`` import (the CLI's start-up) would otherwise pay for it
    if name == "Engine":
        from engine.service import Engine

        globals()["Engine"] = Engine
        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
