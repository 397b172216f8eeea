"""What a state's data-flow evaluation may read besides its input: the context object ("$$"),
the workflow variables ("$name"), who is evaluating (for error messages) and the two sources of non-determinism the intrinsics
need (States.MathRandom, States.UUID), injected so the interpreter stays pure and replayable.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.asl.failures import RUNTIME, Failure


class Scope:
    """Read-only once built. Every member is a property so that the interpreter's scopes can
    work each out only when something reads it: most states read none but their data."""

    __slots__ = ("_context", "_state_name", "_entered_event_id", "_random", "_new_uuid",
                 "_variables", "_language", "_now")

    def __init__(self, context: dict | None, state_name: str, entered_event_id: int,
                 random: Any = None, new_uuid: Callable[[], str] | None = None,
                 variables: dict | None = None, language: str = "JSONPath", now: float | None = None):
        self._context = context
        self._state_name = state_name
        self._entered_event_id = entered_event_id
        self._random = random
        self._new_uuid = new_uuid
        self._variables = variables
        self._language = language
        self._now = now

    @property
    def context(self) -> dict:
        """The context object, what "$$" refers to."""
        return self._context

    @property
    def state_name(self) -> str:
        """For error messages."""
        return self._state_name

    @property
    def entered_event_id(self) -> int:
        """Id of the state's *StateEntered event, for error messages."""
        return self._entered_event_id

    @property
    def random(self) -> Any:
        """A random.Random for States.MathRandom and retry jitter (the caller's)."""
        return self._random

    @property
    def new_uuid(self) -> Callable[[], str] | None:
        """For States.UUID and map-run ids (the caller's)."""
        return self._new_uuid

    @property
    def variables(self) -> dict | None:
        """Workflow variables (Assign), what "$name" refers to."""
        return self._variables

    @property
    def language(self) -> str:
        """The state's query language: which data-flow fields apply."""
        return self._language

    @property
    def now(self) -> float | None:
        """Epoch seconds of this step, what JSONata's $now()/$millis() read."""
        return self._now

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
