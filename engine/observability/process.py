"""What a long-running process (``serve``, ``worker``) sets up before its engine: logs, the
OpenTelemetry SDK (when OTEL_TRACES_EXPORTER asks for it) and, for a worker, a /metrics port."""
from __future__ import annotations

import logging
import os
from typing import Any, Callable

from engine.observability import exporters, logs
from engine.settings import Settings

logger = logging.getLogger(__name__)


def set_up(settings: Settings) -> Callable[[], None]:
    """Configure logging and tracing for this process; returns what to call at exit (it
    flushes the spans not yet exported). ValueError when the configuration is unusable."""
    logs.configure(settings.log_format, settings.log_level)
    provider = exporters.configure_from_environment()
    if provider is None:
        return lambda: None
    logger.info("tracing: spans exported to %s", ", ".join(exporters.exporter_names(os.environ)))
    return provider.shutdown


def serve_metrics(engine: Any, host: str, port: int) -> Callable[[], None]:
    """Answer ``GET /metrics`` on ``host:port`` from a thread (for a worker, which has no API
    server); returns what stops it."""
    from prometheus_client import start_http_server

    server, thread = start_http_server(port, addr=host, registry=engine.metrics.registry)
    logger.info("metrics on http://%s:%d/metrics", host, port)

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)
    return stop
