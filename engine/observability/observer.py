"""The one place that learns what happened from committed history: counters, spans and the
log record of each execution's end.

It is told only after a transaction committed (``Engine._start`` after the insert, the executor
after its group commit, a redrive after its write), so nothing is counted for a step that
rolled back and a step is counted once: a step another worker recorded first is dropped
before it gets here. The counters are this process's: a fleet's totals are the sum over its
processes, as Prometheus sums counters of several targets.

Per step it costs a few additions (``Step.transitions`` counts the states entered, AWS's and
the benchmark's transitions) and, once per round, one lock; spans are computed only while a
TracerProvider is configured.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

from engine.observability import spans
from engine.observability.counters import Counters

logger = logging.getLogger("engine.executions")

CAUSE_LOG_CHARS = 500  # a failed execution's log record keeps this much of its cause
_UNSUCCESSFUL = ("FAILED", "TIMED_OUT")  # a warning; ABORTED was asked for (StopExecution)


class Observer:
    def __init__(self, counters: Counters | None = None, tracer_provider: Any = None):
        self.counters = counters or Counters()
        self._tracer = None
        self._provider = tracer_provider  # None: the global provider, once one is configured
        if tracer_provider is not None:
            self.use_tracer_provider(tracer_provider)

    # ---- tracing
    def use_tracer_provider(self, provider: Any) -> None:
        """Emit spans through ``provider`` (an OpenTelemetry TracerProvider) from now on."""
        from engine.observability.tracing import Tracer

        self._provider, self._tracer = provider, Tracer(provider)

    @property
    def tracing(self) -> bool:
        """Whether spans are emitted: a provider was given, or the global one was configured
        (looked up until it is: setting it after the engine started still counts)."""
        if self._tracer is None and self._provider is None:
            provider = configured_provider()
            if provider is not None:
                self.use_tracer_provider(provider)
        return self._tracer is not None

    # ---- what committed
    def started(self, arn: str, step: Any) -> None:
        """A new execution and its first step were committed."""
        machine = state_machine_name(arn)
        with self.counters.lock:
            self.counters.add(self.counters.started, (machine,))
        self.committed([(arn, step, None)])

    def committed(self, steps: list[tuple[str, Any, dict | None]]) -> None:
        """Steps committed together: (execution ARN, interpreter Step, ``spans.open_states``
        of the snapshot the step began from, or None when there was none or no tracing).
        Never raises: the caller still has the steps' commands to carry out."""
        try:
            self._committed(steps)
        except Exception:  # noqa: BLE001 - observing must not stop the execution it observes
            logger.exception("could not observe %d committed step(s)", len(steps))

    def _committed(self, steps: list[tuple[str, Any, dict | None]]) -> None:
        finished = []
        counters = self.counters
        with counters.lock:
            for arn, step, _ in steps:
                machine = state_machine_name(arn)
                if step.transitions:
                    counters.add(counters.transitions, (machine,), step.transitions)
                if step.status != "RUNNING":
                    counters.add(counters.finished, (machine, step.status))
                    finished.append((arn, step))
        if self._tracer is not None or (self._provider is None and self.tracing):
            for arn, step, before in steps:
                self._trace(arn, step, before or {})
        for arn, step in finished:
            log_finished(arn, step)

    def task_done(self, resource: str, seconds: float) -> None:
        """A task handler answered ``seconds`` after its command was handed out."""
        self.counters.task_duration(resource, seconds)

    def delivery(self, bus: str, rule: str, outcome: str) -> None:
        """A bus event's delivery attempt was recorded: delivered, retrying or dead."""
        self.counters.delivery(bus, rule, outcome)

    def _trace(self, arn: str, step: Any, before: dict) -> None:
        try:
            run_start, run = spans.run_started(step.snapshot)
            ended = step.events[-1]["timestamp"] if step.finished and step.events else None
            states = spans.state_spans(step.events, before, ended, step.error, step.cause)
            machine_arn = state_machine_arn(arn)
            if states:
                self._tracer.states(arn, machine_arn, run, states)
            if ended is not None and run_start is not None:
                self._tracer.execution(arn, machine_arn, run, run_start, ended, step.status,
                                       step.error, step.cause)
        except Exception:  # noqa: BLE001 - a tracing exporter must never fail a commit's follow-up
            logger.exception("could not emit the spans of %s", arn, extra={"executionArn": arn})


def log_finished(arn: str, step: Any) -> None:
    """INFO for every execution's end; WARNING, with the error, for a failure or a timeout."""
    if not logger.isEnabledFor(logging.WARNING if step.status in _UNSUCCESSFUL else logging.INFO):
        return  # the fields cost more than the check
    run_start, _ = spans.run_started(step.snapshot)
    ended = step.events[-1]["timestamp"] if step.events else None
    fields = {"executionArn": arn, "stateMachineArn": state_machine_arn(arn), "status": step.status}
    if run_start is not None and ended is not None:
        fields["durationSeconds"] = round(ended - run_start, 6)
    if step.status in _UNSUCCESSFUL:
        fields["error"] = step.error
        fields["cause"] = (step.cause or "")[:CAUSE_LOG_CHARS]
        logger.warning("execution %s %s: %s", arn, step.status, step.error, extra=fields)
    else:
        logger.info("execution %s %s", arn, step.status, extra=fields)


def configured_provider() -> Any | None:
    """The global TracerProvider once one is configured; None at no cost (no import) while
    nobody imported the OpenTelemetry API, since then nobody can have configured one."""
    if "opentelemetry.trace" not in sys.modules:
        return None
    from engine.observability.tracing import provider_configured

    return provider_configured()


def state_machine_name(execution_arn: str) -> str:
    """The state machine's name in an execution ARN (STANDARD or EXPRESS):
    ``arn:aws:states:REGION:ACCOUNT:execution|express:MACHINE:NAME[:ID]``."""
    return execution_arn.split(":", 7)[6]


def state_machine_arn(execution_arn: str) -> str:
    parts = execution_arn.split(":", 7)
    return f"arn:aws:states:{parts[3]}:{parts[4]}:stateMachine:{parts[6]}"
