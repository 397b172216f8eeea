"""The only package that talks to the database; ``Store`` is its whole public surface (with
``Step``/``StepWrite``, the steps handed to its group commit)."""
from engine.store.sql import Step, Store
from engine.store.workitems import StepWrite

__all__ = ["Step", "StepWrite", "Store"]
