"""The HTTP API: one ``POST /`` route speaking the AWS JSON protocol over the Engine facade.

The facade is synchronous, so each call runs in Starlette's thread pool: a long poll
(``GetActivityTask``, ``StartSyncExecution``) holds a worker thread, never the event loop.
The caller owns the engine's lifecycle (background workers); this module only serves requests.
With a :class:`~engine.api.sigv4.Verifier`, every ``POST /`` must carry a valid SigV4 signature
and the web console (``/console``) asks for a login with one of the same keys; the health
routes stay open for load balancers, and ``GET /metrics`` for Prometheus (counts and gauges
labelled by state machine, never a payload).
"""
from __future__ import annotations

import logging
import uuid
from typing import Any, Mapping

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from engine.api import protocol
from engine.api.operations import SERVICES, Dispatcher, Service
from engine.api.sigv4 import SignedRequest, Verifier
from engine.errors import ApiError, InternalFailure

logger = logging.getLogger(__name__)


def create_app(engine: Any, services: Mapping[str, Service] = SERVICES,
               verifier: Verifier | None = None) -> Starlette:
    """A Starlette app answering AWS JSON-protocol calls with ``engine``'s methods; with a
    ``verifier``, only SigV4-signed calls."""
    from engine.console.app import create_console  # templates load only with a server
    dispatcher = Dispatcher(engine, services)

    async def aws_json(request: Request) -> Response:
        return await handle_aws_request(dispatcher, request, verifier)

    async def metrics(request: Request) -> Response:
        """Prometheus' text exposition (a scrape reads the gauges from the database)."""
        text = await run_in_threadpool(engine.metrics.render)
        return Response(text, media_type=engine.metrics.content_type)

    return Starlette(routes=[
        Route("/", aws_json, methods=["POST"]),
        Route("/", health, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Mount("/console", create_console(engine, verifier.keys if verifier else None)),
    ])


async def health(request: Request) -> Response:
    """A small status document for load balancers and humans (not part of the AWS API)."""
    return JSONResponse({"status": "ok", "service": "stepstone"})


async def handle_aws_request(dispatcher: Dispatcher, request: Request,
                             verifier: Verifier | None = None) -> Response:
    content_type = protocol.JSON_1_0  # until the target names a service with its own version
    try:
        prefix, action = protocol.parse_target(request.headers.get("x-amz-target"))
        service = dispatcher.service(prefix)
        content_type = service.content_type
        raw = await request.body()
        if verifier is not None:
            # after the target, because the scope must name the target's service; before the
            # body is parsed, so nothing of an unauthenticated request is looked at
            verifier.verify(signed_request(request, raw), service.signing_name)
        body = protocol.decode_body(raw)
        result = await run_in_threadpool(dispatcher.call, service, action, body)
    except ApiError as error:
        return error_response(error, content_type)
    except Exception:  # noqa: BLE001 - any engine bug becomes AWS's InternalFailure, logged
        logger.exception("Unhandled error in %s", request.headers.get("x-amz-target"))
        failure = InternalFailure("An internal error occurred; the server log has the details")
        return error_response(failure, content_type)
    return aws_response(200, protocol.encode_json(result), content_type)


def signed_request(request: Request, body: bytes) -> SignedRequest:
    """The request as the signature covers it: the path and query as sent (still encoded)."""
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():  # lower-case names, repeated headers kept
        headers.setdefault(name, []).append(value)
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    return SignedRequest(request.method, raw_path.decode("latin-1"),
                         request.url.query, headers, body)


def error_response(error: ApiError, content_type: str) -> Response:
    """AWS's error shape: ``__type`` + ``message`` in the body, the code in a header too."""
    response = aws_response(error.status, protocol.encode_json(protocol.error_document(error)),
                            content_type)
    response.headers[protocol.ERROR_TYPE_HEADER] = error.code
    return response


def aws_response(status: int, content: bytes, content_type: str) -> Response:
    headers = {protocol.REQUEST_ID_HEADER: str(uuid.uuid4())}
    return Response(content, status_code=status, media_type=content_type, headers=headers)


def build_server(engine: Any, host: str, port: int,
                 verifier: Verifier | None = None) -> uvicorn.Server:
    """A uvicorn server for ``engine`` (quiet: warnings only, no access log), not yet running.
    Its records go to the root logger's handlers (``observability.logs``), not uvicorn's own."""
    config = uvicorn.Config(create_app(engine, verifier=verifier), host=host, port=port,
                            log_level="warning", access_log=False, log_config=None)
    return uvicorn.Server(config)


def serve(engine: Any, host: str, port: int, verifier: Verifier | None = None) -> None:
    """Serve the API until interrupted; the caller starts and stops the engine's workers."""
    build_server(engine, host, port, verifier).run()
