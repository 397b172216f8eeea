"""The only package that talks to the database; ``Store`` is its whole public surface."""
from engine.store.sql import Store

__all__ = ["Store"]
