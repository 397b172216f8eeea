"""The console's login and cross-site request rules."""
from __future__ import annotations

from hypothesis import given, strategies as st
from urllib.parse import urlsplit

from engine.console.access import ConsoleAccess, csrf_token, forged, new_csrf_token, safe_next

KEYS = {"AKID1": "secret-one", "AKID2": "secret-two"}


def test_login_checks_the_pair_and_only_the_pair():
    rules = ConsoleAccess(KEYS)
    assert rules.login_required
    assert rules.check_login("AKID1", "secret-one")
    assert not rules.check_login("AKID1", "secret-two")
    assert not rules.check_login("nobody", "secret-one")
    assert rules.signed_in({"key_id": "AKID2"}) and not rules.signed_in({})
    assert not rules.signed_in({"key_id": "AKID-removed"})


def test_without_keys_nobody_needs_to_sign_in():
    rules = ConsoleAccess({})
    assert not rules.login_required and rules.signed_in({})
    assert not rules.check_login("", "")


def test_the_session_secret_is_shared_by_servers_with_the_same_keys_and_changes_with_them():
    assert ConsoleAccess(KEYS).session_secret() == ConsoleAccess(dict(KEYS)).session_secret()
    assert ConsoleAccess(KEYS).session_secret() != ConsoleAccess({"AKID1": "other"}).session_secret()
    assert ConsoleAccess({}).session_secret() != ConsoleAccess({}).session_secret()


def test_a_form_needs_the_session_token_and_our_own_origin():
    session: dict = {}
    token = csrf_token(session)
    assert csrf_token(session) == token
    ours = {"origin": "http://127.0.0.1:8083", "sec-fetch-site": "same-origin"}
    assert forged(session, token, ours, "127.0.0.1:8083") is None
    assert forged(session, token, {}, "127.0.0.1:8083") is None   # old browsers send neither
    assert "token" in forged(session, "guess", ours, "127.0.0.1:8083")
    assert "token" in forged(session, None, ours, "127.0.0.1:8083")
    assert "token" in forged({}, token, ours, "127.0.0.1:8083")
    assert "another site" in forged(session, token, {"sec-fetch-site": "cross-site"}, "127.0.0.1:8083")
    assert "evil.example" in forged(session, token, {"origin": "https://evil.example"}, "127.0.0.1:8083")


def test_signing_in_replaces_the_token():
    session: dict = {}
    before = csrf_token(session)
    assert new_csrf_token(session) != before
    assert forged(session, before, {}, "h") is not None


def test_after_login_we_go_back_to_console_pages_only():
    assert safe_next("/console/tasks?x=1") == "/console/tasks?x=1"
    for elsewhere in ("https://evil.example/console", "//evil.example/console", "/other",
                      "/console\\@evil.example", None, ""):
        assert safe_next(elsewhere) == "/console/"


@given(st.text())
def test_safe_next_never_leaves_the_console(target):
    chosen = safe_next(target)
    assert chosen.startswith("/console") and urlsplit(chosen).netloc == ""
    assert not chosen.startswith("//")
