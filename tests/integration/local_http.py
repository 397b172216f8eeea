"""A real HTTP server on 127.0.0.1 in a thread, recording what it was sent: the HTTP Task's far end."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict
    headers: dict  # lower-case names
    body: bytes


@dataclass
class LocalApi:
    """Routes: ``/status/<code>`` answers that code; ``/redirect?to=URL`` answers 302; anything else
    echoes the request as JSON (201 for POST)."""

    server: ThreadingHTTPServer
    seen: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def last(self) -> Seen:
        return self.seen[-1]


def start_api() -> LocalApi:
    api = LocalApi(ThreadingHTTPServer(("127.0.0.1", 0), _ApiHandler))
    api.server.api = api  # type: ignore[attr-defined]
    threading.Thread(target=api.server.serve_forever, daemon=True).start()
    return api


def start_file_server(directory: Path) -> ThreadingHTTPServer:
    """``python -m http.server`` for ``directory`` (what the README's example uses)."""
    def quiet_files(*args, **kwargs):
        handler = SimpleHTTPRequestHandler.__new__(SimpleHTTPRequestHandler)
        handler.log_message = lambda *_: None
        handler.__init__(*args, directory=str(directory), **kwargs)
        return handler
    server = ThreadingHTTPServer(("127.0.0.1", 0), quiet_files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _ApiHandler(BaseHTTPRequestHandler):
    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, parts.path, parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
        self.server.api.seen.append(seen)  # type: ignore[attr-defined]
        if parts.path.startswith("/status/"):
            code = int(parts.path.rsplit("/", 1)[1])
            return self._answer(code, {"message": f"status {code} as asked"})
        if parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", seen.query["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        echo = {"method": seen.method, "path": seen.path, "query": seen.query,
                "body": seen.body.decode() or None}
        return self._answer(201 if self.command == "POST" else 200, echo)

    def _answer(self, code: int, document: dict) -> None:
        body = json.dumps(document).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

    def log_message(self, *args) -> None:
        pass
