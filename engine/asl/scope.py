"""What a state's data-flow evaluation may read besides its input: the context object ("$$"),
the workflow variables ("$name"), who is evaluating (for error messages) and the two sources of non-determinism the intrinsics
need (States.MathRandom, States.UUID), injected so the interpreter stays pure and replayable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from engine.asl.failures import RUNTIME, Failure


@dataclass(frozen=True)
class Scope:
    context: dict  # the context object, what "$$" refers to
    state_name: str  # for error messages
    entered_event_id: int  # id of the state's *StateEntered event, for error messages
    random: Any = None  # a random.Random for States.MathRandom and retry jitter (the caller's)
    new_uuid: Callable[[], str] | None = None  # for States.UUID and map-run ids (the caller's)
    variables: dict | None = None  # workflow variables (Assign), what "$name" refers to
    language: str = "JSONPath"  # the state's query language: which data-flow fields apply
    now: float | None = None  # epoch seconds of this step, what JSONata's $now()/$millis() read

    def prefix(self) -> str:
        """The sentence AWS puts in front of every States.Runtime cause."""
        return (
            f"An error occurred while executing the state '{self.state_name}' "
            f"(entered at the event id #{self.entered_event_id}). "
        )

    def runtime_failure(self, message: str) -> Failure:
        """A States.Runtime failure whose cause reads exactly like AWS's."""
        return Failure(RUNTIME, self.prefix() + message)
