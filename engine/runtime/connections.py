"""What the HTTP Task may call and with which credentials: the host allow-list and the connections.

Both are read once from the settings (``STEPSTONE_HTTP_ALLOW``, ``STEPSTONE_CONNECTIONS``). The
connections file is JSON or YAML, one entry per EventBridge connection, keyed by the connection's
ARN or name, with EventBridge's own field names (CreateConnection's ``AuthorizationType`` and
``AuthParameters``)::

    local-api:                       # matches arn:aws:events:REGION:ACCOUNT:connection/local-api/ID
      AuthorizationType: API_KEY     # API_KEY, BASIC (OAUTH_CLIENT_CREDENTIALS: not supported yet)
      AuthParameters:
        ApiKeyAuthParameters: {ApiKeyName: x-api-key, ApiKeyValue: "${LOCAL_API_KEY}"}
        InvocationHttpParameters:
          HeaderParameters: [{Key: x-tenant, Value: acme}]
          QueryStringParameters: [{Key: region, Value: eu}]
          BodyParameters: [{Key: source, Value: stepstone}]

``${NAME}`` in a value is replaced by the environment variable NAME when the file is loaded.
"""
from __future__ import annotations

import base64
import fnmatch
import functools
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from engine.documents import read_document
from engine.settings import Settings

AUTHORIZATION_TYPES = ("API_KEY", "BASIC", "OAUTH_CLIENT_CREDENTIALS")
_CONNECTION_ARN = re.compile(r"^arn:[\w-]+:events:[\w-]*:\d*:connection/(?P<name>[\w.\-_]+)(?:/[\w-]+)?$")
_ENV_REFERENCE = re.compile(r"\$\{(\w+)\}")

Pairs = tuple[tuple[str, str], ...]


class ConnectionsFileError(ValueError):
    """The connections file cannot be read or has an invalid entry; the message names which."""


@dataclass(frozen=True)
class Connection:
    """One EventBridge connection: the auth headers it adds and its InvocationHttpParameters."""

    name: str
    authorization_type: str
    auth_headers: Pairs = ()
    headers: Pairs = ()
    query: Pairs = ()
    body: Pairs = ()


@dataclass(frozen=True)
class AllowList:
    """``host`` or ``host:port`` patterns; ``*`` matches any run of characters, ``*`` alone any host.

    A pattern without a port allows every port of its host.
    """

    patterns: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def parse(cls, entries: tuple[str, ...] | list[str]) -> "AllowList":
        patterns = []
        for entry in entries:
            for text in (part.strip().lower() for part in entry.split(",")):
                if text:
                    patterns.append(_host_and_port(text))
        return cls(tuple(patterns))

    def allows(self, host: str, port: int) -> bool:
        host = host.lower()
        return any(fnmatch.fnmatchcase(host, pattern) and (wanted is None or wanted == str(port))
                   for pattern, wanted in self.patterns)


@dataclass(frozen=True)
class HttpConfig:
    allow: AllowList = field(default_factory=AllowList)
    connections: dict[str, Connection] = field(default_factory=dict)
    source: str | None = None  # the connections file, for error messages

    def connection(self, arn: str) -> Connection | None:
        """The connection for a ConnectionArn: an entry keyed by the full ARN, else by its name."""
        if arn in self.connections:
            return self.connections[arn]
        found = _CONNECTION_ARN.match(arn)
        return self.connections.get(found["name"]) if found else None


def config(settings: Settings | None) -> HttpConfig:
    """The HTTP Task configuration of these settings (None: nothing allowed), loaded once."""
    if settings is None:
        return HttpConfig()
    return _config(tuple(settings.http_allow), settings.connections)


@functools.lru_cache(maxsize=16)
def _config(allow: tuple[str, ...], connections_file: str | None) -> HttpConfig:
    loaded = load_connections(connections_file) if connections_file else {}
    return HttpConfig(AllowList.parse(allow), loaded, connections_file)


def _host_and_port(text: str) -> tuple[str, str | None]:
    if text.startswith("["):  # [::1] or [::1]:8080
        host, _, rest = text[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    host, colon, port = text.rpartition(":")
    if colon and port.isdigit():
        return host, port
    return text, None


# --- the connections file -------------------------------------------------------------------------
def load_connections(path: str) -> dict[str, Connection]:
    """Every connection of the file, keyed as written; ConnectionsFileError names what is wrong."""
    document = read_document(path, "STEPSTONE_CONNECTIONS file", ConnectionsFileError)
    if not isinstance(document, dict):
        raise ConnectionsFileError(f"STEPSTONE_CONNECTIONS file {path} must map connection ARNs or names "
                                   f"to connections (AuthorizationType, AuthParameters)")
    return {str(key): _connection(str(key), entry, path) for key, entry in document.items()}


def _connection(key: str, entry: Any, path: str) -> Connection:
    where = f"{path}: connection '{key}'"
    if not isinstance(entry, dict):
        raise ConnectionsFileError(f"{where} must be an object with AuthorizationType and AuthParameters")
    kind = entry.get("AuthorizationType")
    if kind not in AUTHORIZATION_TYPES:
        raise ConnectionsFileError(f"{where}: AuthorizationType must be one of {', '.join(AUTHORIZATION_TYPES)}, "
                                   f"got {kind!r}")
    auth = entry.get("AuthParameters") or {}
    if not isinstance(auth, dict):
        raise ConnectionsFileError(f"{where}: AuthParameters must be an object")
    invocation = auth.get("InvocationHttpParameters") or {}
    return Connection(
        name=key, authorization_type=kind, auth_headers=_auth_headers(kind, auth, where),
        headers=_pairs(invocation, "HeaderParameters", where),
        query=_pairs(invocation, "QueryStringParameters", where),
        body=_pairs(invocation, "BodyParameters", where))


def _auth_headers(kind: str, auth: dict, where: str) -> Pairs:
    if kind == "API_KEY":
        params = _required(auth, "ApiKeyAuthParameters", ("ApiKeyName", "ApiKeyValue"), where)
        return ((params["ApiKeyName"], params["ApiKeyValue"]),)
    if kind == "BASIC":
        params = _required(auth, "BasicAuthParameters", ("Username", "Password"), where)
        token = base64.b64encode(f"{params['Username']}:{params['Password']}".encode()).decode()
        return (("Authorization", f"Basic {token}"),)
    return ()  # OAUTH_CLIENT_CREDENTIALS: refused when a task uses it (http_task)


def _required(auth: dict, section: str, keys: tuple[str, ...], where: str) -> dict[str, str]:
    params = auth.get(section)
    if not isinstance(params, dict) or any(not isinstance(params.get(k), str) for k in keys):
        raise ConnectionsFileError(f"{where}: AuthParameters.{section} needs string fields {', '.join(keys)}")
    return {k: _resolve(params[k], f"{where}: AuthParameters.{section}.{k}") for k in keys}


def _pairs(invocation: Any, section: str, where: str) -> Pairs:
    items = invocation.get(section) or [] if isinstance(invocation, dict) else None
    if not isinstance(items, list) or any(not isinstance(i, dict) or not isinstance(i.get("Key"), str)
                                          for i in items):
        raise ConnectionsFileError(f"{where}: InvocationHttpParameters.{section} must be a list of "
                                   f"{{Key, Value}} objects")
    return tuple((i["Key"], _resolve(_text(i.get("Value", "")), f"{where}: {section} {i['Key']}"))
                 for i in items)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _resolve(value: str, where: str) -> str:
    """``${NAME}`` anywhere in the value is the environment variable NAME."""
    def variable(found: re.Match) -> str:
        if found[1] not in os.environ:
            raise ConnectionsFileError(f"{where} refers to ${{{found[1]}}}, but that environment variable is not set")
        return os.environ[found[1]]
    return _ENV_REFERENCE.sub(variable, value)
