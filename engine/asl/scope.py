"""What a state's data-flow evaluation may read besides its input: the context object ("$$"),
the workflow variables ("$name"), who is evaluating (for error messages) and the two sources of non-determinism the intrinsics
need (States.MathRandom, States.UUID), injected so the interpreter stays pure and replayable.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.asl.failures import RUNTIME, Failure


class Scope:
    """Read-only once built. ``context`` and ``variables`` are properties so that the
    interpreter's scopes can build them only when an expression reads them (most never do)."""

    __slots__ = ("_context", "state_name", "entered_event_id", "random", "new_uuid", "_variables",
                 "language", "now")

    def __init__(self, context: dict | None, state_name: str, entered_event_id: int,
                 random: Any = None, new_uuid: Callable[[], str] | None = None,
                 variables: dict | None = None, language: str = "JSONPath", now: float | None = None):
        self._context = context  # the context object, what "$$" refers to
        self.state_name = state_name  # for error messages
        self.entered_event_id = entered_event_id  # id of the state's *StateEntered event, for error messages
        self.random = random  # a random.Random for States.MathRandom and retry jitter (the caller's)
        self.new_uuid = new_uuid  # for States.UUID and map-run ids (the caller's)
        self._variables = variables  # workflow variables (Assign), what "$name" refers to
        self.language = language  # the state's query language: which data-flow fields apply
        self.now = now  # epoch seconds of this step, what JSONata's $now()/$millis() read

    @property
    def context(self) -> dict:
        return self._context

    @property
    def variables(self) -> dict | None:
        return self._variables

    def prefix(self) -> str:
        """The sentence AWS puts in front of every States.Runtime cause."""
        return (
            f"An error occurred while executing the state '{self.state_name}' "
            f"(entered at the event id #{self.entered_event_id}). "
        )

    def runtime_failure(self, message: str) -> Failure:
        """A States.Runtime failure whose cause reads exactly like AWS's."""
        return Failure(RUNTIME, self.prefix() + message)

    def __repr__(self) -> str:
        return f"Scope(state_name={self.state_name!r}, entered_event_id={self.entered_event_id})"
