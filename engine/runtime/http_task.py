"""The HTTP Task, ``arn:aws:states:::http:invoke``: build the request, send it, shape the answer.

:func:`build_request` (Parameters + connection -> request) and :func:`task_output` (response ->
the task's output or failure) are pure; :func:`send` is the only I/O, through the standard
library's ``urllib`` (synchronous, like every task handler: it runs on the handler thread pool).

Failures are :class:`TaskFailure` values (error and cause) for the invoker to record:

- ``States.Http.StatusCode.<code>``: the API answered outside 2xx; the cause is the response
  document (Headers, ResponseBody, StatusCode, StatusText) as JSON.
- ``States.Http.Socket``: no answer (refused, unknown host, TLS, 60 s timeout).
- ``States.Permissions``: the host is not on the allow-list (Stepstone's stand-in for the IAM
  policy's ``states:HTTPEndpoint`` condition); the cause names the host and the setting.
- ``Events.ConnectionResource.ResourceNotFound``: the ConnectionArn is not configured.
- ``States.Runtime``: invalid Parameters, an unsupported connection type or response content type.
"""
from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from engine.runtime.connections import AllowList, Connection, HttpConfig

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
ARRAY_FORMATS = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")
TIMEOUT_SECONDS = 60.0  # AWS ends an HTTP Task request after 60 seconds
MAX_RESPONSE_BYTES = 262_144  # AWS asks for at most this much (Range) and answers at most 256 KiB
RANGE = f"bytes=0-{MAX_RESPONSE_BYTES}"
USER_AGENT = "Amazon|StepFunctions|HttpInvoke|{region}"
# Headers a task may not set (AWS's list), and the prefixes reserved to AWS
FORBIDDEN_HEADERS = frozenset((
    "a-im", "accept-charset", "accept-datetime", "accept-encoding", "authorization", "cache-control",
    "connection", "content-encoding", "content-length", "content-md5", "date", "expect", "forwarded",
    "from", "host", "http2-settings", "if-match", "if-modified-since", "if-none-match", "if-range",
    "if-unmodified-since", "max-forwards", "origin", "pragma", "proxy-authorization", "referer",
    "server", "te", "trailer", "transfer-encoding", "upgrade", "via", "warning"))
FORBIDDEN_PREFIXES = ("x-forwarded", "x-amz", "x-amzn")
UNSUPPORTED_RESPONSE_TYPES = ("application/octet-stream", "image/", "audio/", "video/")

SOCKET = "States.Http.Socket"
RUNTIME = "States.Runtime"
PERMISSIONS = "States.Permissions"
CONNECTION_NOT_FOUND = "Events.ConnectionResource.ResourceNotFound"


class TaskFailure(Exception):
    def __init__(self, error: str, cause: str):
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    secret_headers: frozenset[str] = frozenset()  # lower-case names dropped on a redirect elsewhere


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def invoke(parameters: Any, region: str, config: HttpConfig) -> dict:
    """Run one HTTP Task to its output, or raise TaskFailure."""
    arn = connection_arn(parameters)
    connection = config.connection(arn)
    if connection is None:
        where = f"the STEPSTONE_CONNECTIONS file {config.source}" if config.source else "STEPSTONE_CONNECTIONS"
        raise TaskFailure(CONNECTION_NOT_FOUND, f"Connection {arn} is not defined: add it, by ARN or by name, "
                                                f"to {where} (see README, 'HTTP Task')")
    if connection.authorization_type == "OAUTH_CLIENT_CREDENTIALS":
        raise TaskFailure(RUNTIME, f"Connection {arn} uses OAUTH_CLIENT_CREDENTIALS, which Stepstone does not "
                                   f"support yet; use an API_KEY or BASIC connection")
    request = build_request(parameters, connection, region)
    return task_output(send(request, config.allow))


# --- building the request (pure) -------------------------------------------------------------------
def connection_arn(parameters: Any) -> str:
    if not isinstance(parameters, dict):
        raise TaskFailure(RUNTIME, "The HTTP Task needs Parameters (an object with ApiEndpoint, Method "
                                   "and Authentication)")
    arn = (parameters.get("Authentication") or {}).get("ConnectionArn") \
        if isinstance(parameters.get("Authentication"), dict) else None
    if not isinstance(arn, str) or not arn:
        raise TaskFailure(RUNTIME, "The HTTP Task needs Parameters.Authentication.ConnectionArn, an EventBridge "
                                   "connection ARN, as AWS requires")
    return arn


def build_request(parameters: dict, connection: Connection, region: str) -> Request:
    """The request AWS would send for these Parameters through this connection."""
    method = parameters.get("Method")
    if method not in METHODS:
        raise TaskFailure(RUNTIME, f"Parameters.Method must be one of {', '.join(METHODS)}, got {method!r}")
    url = _url(parameters.get("ApiEndpoint"), parameters.get("QueryParameters"), connection.query)
    headers = _headers(parameters.get("Headers"))
    encoding, array_format = _transform(parameters.get("Transform"))
    body, content_type = _body(parameters.get("RequestBody"), connection.body, encoding, array_format)
    if body is not None and "content-type" not in headers:
        headers["content-type"] = ("Content-Type", content_type)
    for name, value in connection.headers + connection.auth_headers:  # the connection's win
        headers[name.lower()] = (name, value)
    headers["user-agent"] = ("User-Agent", USER_AGENT.format(region=region))
    headers["range"] = ("Range", RANGE)
    secrets = frozenset(name.lower() for name, _ in connection.auth_headers)
    return Request(method, url, tuple(headers.values()), body, secrets)


def _url(endpoint: Any, query: Any, connection_query: tuple) -> str:
    if not isinstance(endpoint, str):
        raise TaskFailure(RUNTIME, f"Parameters.ApiEndpoint must be a URL string, got {_show(endpoint)}")
    parts = urllib.parse.urlsplit(endpoint)
    try:
        parts.port  # noqa: B018 - a bad port raises here, not later in send()
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TaskFailure(RUNTIME, f"Parameters.ApiEndpoint must be an http(s) URL with a host, got {endpoint!r}")
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + _query_pairs(query)
    overridden = {key for key, _ in connection_query}
    pairs = [(k, v) for k, v in pairs if k not in overridden] + list(connection_query)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(pairs), fragment=""))


def _query_pairs(query: Any) -> list[tuple[str, str]]:
    if query is None:
        return []
    if not isinstance(query, dict):
        raise TaskFailure(RUNTIME, f"Parameters.QueryParameters must be an object, got {_show(query)}")
    pairs = []
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, _scalar(item, f"QueryParameters.{key}")))
    return pairs


def _headers(headers: Any) -> dict[str, tuple[str, str]]:
    """lower-case name -> (name as written, value)."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise TaskFailure(RUNTIME, f"Parameters.Headers must be an object, got {_show(headers)}")
    out = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in FORBIDDEN_HEADERS or lower.startswith(FORBIDDEN_PREFIXES):
            raise TaskFailure(RUNTIME, f"Parameters.Headers.{name}: the HTTP Task may not set this header "
                                       f"(AWS reserves it); leave it out")
        items = value if isinstance(value, list) else [value]
        out[lower] = (name, ",".join(_scalar(item, f"Headers.{name}") for item in items))
    return out


def _transform(transform: Any) -> tuple[str, str]:
    if transform is None:
        return "NONE", "INDICES"
    if not isinstance(transform, dict):
        raise TaskFailure(RUNTIME, f"Parameters.Transform must be an object, got {_show(transform)}")
    encoding = transform.get("RequestBodyEncoding", "NONE")
    if encoding not in ("NONE", "URL_ENCODED"):
        raise TaskFailure(RUNTIME, f"Parameters.Transform.RequestBodyEncoding must be NONE or URL_ENCODED, "
                                   f"got {encoding!r}")
    options = transform.get("RequestEncodingOptions") or {}
    array_format = options.get("ArrayFormat", "INDICES") if isinstance(options, dict) else None
    if array_format not in ARRAY_FORMATS:
        raise TaskFailure(RUNTIME, f"Parameters.Transform.RequestEncodingOptions.ArrayFormat must be one of "
                                   f"{', '.join(ARRAY_FORMATS)}, got {array_format!r}")
    return encoding, array_format


def _body(body: Any, connection_body: tuple, encoding: str, array_format: str) -> tuple[bytes | None, str]:
    """The encoded body and its default content type; the connection's body parameters win."""
    if connection_body:
        if body is not None and not isinstance(body, dict):
            raise TaskFailure(RUNTIME, "Parameters.RequestBody must be an object (or absent) when the connection "
                                       "has InvocationHttpParameters.BodyParameters to merge into it")
        body = {**(body or {}), **dict(connection_body)}
    if body is None:
        return None, ""
    if encoding == "URL_ENCODED":
        if not isinstance(body, dict):
            raise TaskFailure(RUNTIME, "Parameters.RequestBody must be an object when Transform.RequestBodyEncoding "
                                       f"is URL_ENCODED, got {_show(body)}")
        return url_encode(body, array_format).encode(), "application/x-www-form-urlencoded"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=UTF-8"
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), "application/json; charset=UTF-8"


def url_encode(body: dict, array_format: str = "INDICES") -> str:
    """``{"a": ["x", "y"]}`` as ``a[0]=x&a[1]=y`` (INDICES), ``a=x&a=y`` (REPEAT), ``a=x,y`` (COMMAS) or
    ``a[]=x&a[]=y`` (BRACKETS); nested objects as ``outer[inner]=v``."""
    return urllib.parse.urlencode(list(_form_pairs(body, "", array_format)))


def _form_pairs(value: Any, key: str, array_format: str):
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _form_pairs(item, f"{key}[{name}]" if key else str(name), array_format)
    elif isinstance(value, list) and array_format == "COMMAS":
        yield key, ",".join(_scalar(item, key) for item in value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            child = {"INDICES": f"{key}[{index}]", "REPEAT": key, "BRACKETS": f"{key}[]"}[array_format]
            yield from _form_pairs(item, child, array_format)
    else:
        yield key, _scalar(value, key)


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    raise TaskFailure(RUNTIME, f"Parameters.{where} must be a string, number or boolean, got {_show(value)}")


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- shaping the answer (pure) ---------------------------------------------------------------------
def task_output(response: Response) -> dict:
    """The task's output for a 2xx answer; TaskFailure States.Http.StatusCode.<code> otherwise."""
    media = _media_type(response.headers)
    if media.startswith(UNSUPPORTED_RESPONSE_TYPES):
        raise TaskFailure(RUNTIME, f"The HTTP Task cannot return a response of content type {media} "
                                   f"(status {response.status}): only text and JSON bodies are supported")
    output = {"Headers": _response_headers(response.headers), "ResponseBody": _response_body(response, media),
              "StatusCode": response.status, "StatusText": response.reason}
    if 200 <= response.status < 300:
        return output
    raise TaskFailure(f"States.Http.StatusCode.{response.status}",
                      json.dumps(output, separators=(",", ":"), ensure_ascii=False))


def _media_type(headers: tuple) -> str:
    value = next((v for k, v in headers if k.lower() == "content-type"), "")
    return value.split(";")[0].strip().lower()


def _response_headers(headers: tuple) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name, []).append(value)
    return out


def _response_body(response: Response, media: str) -> Any:
    text = response.body.decode("utf-8", errors="replace")
    if media == "application/json" or media.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


# --- sending (I/O) ---------------------------------------------------------------------------------
def check_allowed(url: str, allow: AllowList) -> None:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not allow.allows(parts.hostname or "", port):
        raise TaskFailure(PERMISSIONS, f"The HTTP Task may not call {parts.hostname}:{port} ({url}): the host is not "
                                       f"on the allow-list. Allow it with STEPSTONE_HTTP_ALLOW or --http-allow "
                                       f"(comma-separated host[:port] patterns, e.g. '{parts.hostname}:{port}' "
                                       f"or '*.example.com')")


def send(request: Request, allow: AllowList, timeout: float = TIMEOUT_SECONDS) -> Response:
    """Send the request to an allowed host (redirects too) and read at most 256 KiB of answer."""
    check_allowed(request.url, allow)
    opener = urllib.request.build_opener(_Redirects(allow, request.secret_headers))
    prepared = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers),
                                      method=request.method)
    try:
        with opener.open(prepared, timeout=timeout) as answer:
            return _read(answer, answer.status, answer.reason, request)
    except urllib.error.HTTPError as answer:  # a non-2xx answer is still an answer
        with answer:
            return _read(answer, answer.code, answer.reason, request)
    except _Refused as refused:
        raise refused.failure from None
    except ValueError as error:  # http.client refuses e.g. a header value with a line break
        raise TaskFailure(RUNTIME, f"The HTTP Task cannot send {request.method} {request.url}: {error}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, (socket.timeout, TimeoutError)):
            reason = f"no answer within {timeout:g} seconds"
        raise TaskFailure(SOCKET, f"The HTTP Task could not reach {request.method} {request.url}: {reason}") from None


def _read(answer, status: int, reason: str, request: Request) -> Response:
    body = answer.read(MAX_RESPONSE_BYTES + 1) if request.method != "HEAD" else b""
    if len(body) > MAX_RESPONSE_BYTES:
        raise TaskFailure("States.DataLimitExceeded", f"The response of {request.method} {request.url} is over "
                                                      f"{MAX_RESPONSE_BYTES} bytes, the HTTP Task's limit")
    return Response(status, reason or "", tuple(answer.headers.items()), body)


class _Refused(Exception):
    def __init__(self, failure: TaskFailure):
        super().__init__(failure.cause)
        self.failure = failure


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to an allowed host; the connection's credentials stay on the first host."""

    def __init__(self, allow: AllowList, secret_headers: frozenset[str]):
        self.allow, self.secret_headers = allow, secret_headers

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        try:
            check_allowed(newurl, self.allow)
        except TaskFailure as failure:
            raise _Refused(failure) from None
        follow = super().redirect_request(req, fp, code, msg, headers, newurl)
        if follow is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            for name in list(follow.headers):
                if name.lower() in self.secret_headers:
                    del follow.headers[name]
        return follow
