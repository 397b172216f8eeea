"""Configure OpenTelemetry's SDK for ``serve``/``worker`` from the standard OTEL_* variables.

Only when ``OTEL_TRACES_EXPORTER`` names an exporter (``console``, ``otlp``; a comma list; ``none``
turns tracing off). The SDK's own classes read the rest of the standard environment: the
resource (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``), the sampler
(``OTEL_TRACES_SAMPLER``), the batch processor (``OTEL_BSP_*``) and the OTLP exporter
(``OTEL_EXPORTER_OTLP_*``). The SDK is the ``stepstone[otel]`` extra; OTLP needs
``opentelemetry-exporter-otlp`` besides.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

DEFAULT_SERVICE_NAME = "stepstone"
NO_SDK = ("OTEL_TRACES_EXPORTER is set but the OpenTelemetry SDK is not installed: "
          "pip install 'stepstone[otel]' (or unset OTEL_TRACES_EXPORTER)")
NO_OTLP = ("OTEL_TRACES_EXPORTER=otlp needs the OTLP exporter: pip install "
           "opentelemetry-exporter-otlp (or use OTEL_TRACES_EXPORTER=console)")


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    names = [name.strip().lower() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    return [name for name in names if name and name != "none"]


def configure_from_environment(environ: Mapping[str, str] | None = None) -> Any | None:
    """Set the global TracerProvider from the environment; returns it (the caller shuts it down
    to flush the last spans), or None when no exporter is asked for. ValueError with the remedy
    when what is asked for is not installed or unknown."""
    env = os.environ if environ is None else environ
    names = exporter_names(env)
    if not names:
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ValueError(NO_SDK) from None
    resource = Resource.create()
    if resource.attributes.get(SERVICE_NAME, "").startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    provider = TracerProvider(resource=resource)
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, env)))
    trace.set_tracer_provider(provider)
    return provider


def _exporter(name: str, env: Mapping[str, str]) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name == "otlp":
        protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
            "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        try:
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
            else:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ValueError(NO_OTLP) from None
        return OTLPSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r}; "
                     "stepstone knows console, otlp and none")
