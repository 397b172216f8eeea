"""Who may use the console, and proof that a form was sent from the console itself.

- **Login.** When the API has access keys, the console asks for one: the access key id and its
  secret access key, the same pair boto3 signs with. Without keys the server only listens on
  loopback (``stepstone serve`` refuses otherwise), and the console is as open as the API.
- **Sessions** are Starlette's signed cookies. The signing secret is derived from the access
  keys, so every ``serve`` process sharing the keys accepts the same sessions and changing the
  keys logs everyone out; without keys it is random per process.
- **Cross-site requests.** Every form carries the session's CSRF token, compared in constant
  time, and a request whose ``Origin``/``Sec-Fetch-Site`` says it came from another site is
  refused even with a token. The cookie is ``SameSite=Strict`` as well.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Mapping
from urllib.parse import urlsplit

SESSION_COOKIE = "stepstone_console"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"


class ConsoleAccess:
    """The console's access rules for one server: ``keys`` maps access key id -> secret."""

    def __init__(self, keys: Mapping[str, str] | None = None):
        self._keys = dict(keys or {})

    @property
    def login_required(self) -> bool:
        return bool(self._keys)

    def session_secret(self) -> str:
        if not self._keys:
            return secrets.token_urlsafe(32)
        material = "\n".join(f"{key_id}\t{secret}" for key_id, secret in sorted(self._keys.items()))
        return hmac.new(b"stepstone console sessions", material.encode(), hashlib.sha256).hexdigest()

    def check_login(self, key_id: str, secret: str) -> bool:
        """True when ``secret`` is ``key_id``'s; the comparison takes the same time either way."""
        expected = self._keys.get(key_id)
        given = secret.encode("utf-8", "surrogatepass")
        if expected is None:
            hmac.compare_digest(given, given)  # as long as a wrong secret takes
            return False
        return hmac.compare_digest(given, expected.encode("utf-8", "surrogatepass"))

    def signed_in(self, session: Mapping) -> bool:
        """The session belongs to a key this server still accepts (or no login is needed)."""
        return not self.login_required or session.get("key_id") in self._keys


def csrf_token(session: dict) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def new_csrf_token(session: dict) -> str:
    """A fresh token (after logging in, so a token seen before the login is worth nothing)."""
    session.pop("csrf", None)
    return csrf_token(session)


def forged(session: Mapping, form_token: str | None, headers: Mapping[str, str], host: str) -> str | None:
    """Why a state-changing request must be refused as cross-site, or None when it is ours."""
    if headers.get("sec-fetch-site") == "cross-site":
        return "the form was sent from another site"
    origin = headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != host:
        return f"the form was sent from {origin}, not from this console"
    expected = session.get("csrf")
    if not expected or not form_token or not hmac.compare_digest(form_token, expected):
        return "the form's security token is missing or out of date: reload the page and try again"
    return None


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a page of this console, never another site."""
    if target and target.startswith("/console") and not target.startswith("//") \
            and "\\" not in target and urlsplit(target).netloc == "":
        return target
    return "/console/"
