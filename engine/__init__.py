"""Stepstone: Amazon States Language state machines, run durably, behind an AWS-compatible API.

The public Python API is this small, test-pinned ``__all__``::

    from engine import Engine, task, errors
"""
from engine import errors
from engine.runtime.handlers import task
from engine.service import Engine

__all__ = ["Engine", "task", "errors"]
