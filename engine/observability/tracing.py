"""OpenTelemetry spans from committed steps (see ``spans.py`` for what they are).

Optional in two ways: without opentelemetry-api nothing here is imported by anyone, and
without a real TracerProvider (the API's default is a no-op proxy) ``tracer_from`` answers None
and the observer computes nothing. Nothing in this module is imported before a provider exists.

The execution span must carry the id its state spans name as their parent, but a tracer picks
span ids itself; ``_ChosenIds`` wraps the SDK tracer's id generator to hand out the derived ids
for that one span. A provider that is not the SDK's gets random ids there: its state spans then
still share the execution's trace, under a parent that is never exported.
"""
from __future__ import annotations

import threading
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from engine.observability import spans

INSTRUMENTATION = "stepstone"
CAUSE_CHARS = 1024  # attributes keep the first KiB of a cause (Lambda's carry stack traces)
_STATUS_ERRORS = ("FAILED", "TIMED_OUT", "ABORTED")


def provider_configured() -> Any | None:
    """The global TracerProvider if one was set (None while it is the API's proxy/no-op)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    return provider


class _ChosenIds:
    """An id generator that hands out the ids set for the current thread once, else delegates."""

    def __init__(self, generator: Any):
        self.generator = generator
        self.chosen = threading.local()

    def generate_trace_id(self) -> int:
        chosen = getattr(self.chosen, "trace_id", None)
        return chosen if chosen is not None else self.generator.generate_trace_id()

    def generate_span_id(self) -> int:
        chosen = getattr(self.chosen, "span_id", None)
        return chosen if chosen is not None else self.generator.generate_span_id()

    def is_trace_id_random(self) -> bool:  # a derived id is a hash, not drawn at random
        if getattr(self.chosen, "trace_id", None) is not None:
            return False
        return getattr(self.generator, "is_trace_id_random", lambda: False)()

    def __getattr__(self, name: str) -> Any:  # whatever else a newer SDK asks of a generator
        return getattr(self.generator, name)

    def choose(self, trace_id: int | None, span_id: int | None) -> None:
        self.chosen.trace_id, self.chosen.span_id = trace_id, span_id


class Tracer:
    """Emits an execution's spans through one OpenTelemetry tracer."""

    def __init__(self, provider: Any):
        self.tracer = provider.get_tracer(INSTRUMENTATION)
        generator = getattr(self.tracer, "id_generator", None)  # the SDK's tracer has one
        self._ids = _ChosenIds(generator) if generator is not None else None
        if self._ids is not None:
            self.tracer.id_generator = self._ids

    def states(self, arn: str, machine_arn: str, run: int, state_spans: list[spans.StateSpan]) -> None:
        parent = trace.set_span_in_context(NonRecordingSpan(SpanContext(
            spans.trace_id(arn), spans.execution_span_id(arn, run), is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED))))
        for state in state_spans:
            attributes = {"stepstone.execution.arn": arn,
                          "aws.step_functions.state_machine.arn": machine_arn,
                          "stepstone.state.name": state.name,
                          "stepstone.state.entered_event_id": state.entered_id}
            if state.type:
                attributes["stepstone.state.type"] = state.type
            span = self.tracer.start_span(state.name, context=parent, attributes=attributes,
                                          start_time=_ns(state.start))
            _set_error(span, state.error, state.cause)
            span.end(end_time=_ns(state.end))

    def execution(self, arn: str, machine_arn: str, run: int, started: float, ended: float,
                  status: str, error: str | None, cause: str | None) -> None:
        attributes = {"stepstone.execution.arn": arn,
                      "aws.step_functions.state_machine.arn": machine_arn,
                      "stepstone.execution.status": status, "stepstone.execution.redrive_count": run}
        if self._ids is not None:
            self._ids.choose(spans.trace_id(arn), spans.execution_span_id(arn, run))
        try:
            span = self.tracer.start_span(machine_arn.rsplit(":", 1)[-1], context=Context(),
                                          attributes=attributes, start_time=_ns(started))
        finally:
            if self._ids is not None:
                self._ids.choose(None, None)
        if status in _STATUS_ERRORS:
            _set_error(span, error or status, cause)
        span.end(end_time=_ns(ended))


def _set_error(span: Any, error: str | None, cause: str | None) -> None:
    if error is None:
        return
    span.set_attribute("stepstone.error", error)
    if cause:
        span.set_attribute("stepstone.cause", cause[:CAUSE_CHARS])
    span.set_status(Status(StatusCode.ERROR, error))


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)
