"""Metrics, traces and structured logs, all derived from what was committed.

* ``observer.py``: told of every committed step (start, executor round, redrive); keeps the
  counters, emits spans while a TracerProvider is configured, logs each execution's end.
* ``counters.py``: the counters as plain numbers (no client library on the hot path).
* ``metrics.py``: Prometheus exposition of one engine (its counters and the database gauges).
* ``spans.py``: pure: an execution's spans from its history; ``tracing.py`` emits them.
* ``exporters.py``: the SDK from OTEL_* for serve/worker; ``logs.py``: JSON or text logs.

Only ``observer`` and ``counters`` are imported by the engine itself; the rest is imported when
used, so ``stepstone run`` pays for none of prometheus_client, OpenTelemetry or the JSON logger.
"""
