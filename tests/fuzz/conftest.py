"""Hypothesis profiles of the fuzzers (tests/fuzz/) and the server the API fuzzer talks to.

The fuzzers run in the default test run with a bounded budget: the ``fuzz-ci`` profile (the
default) keeps every fuzzer together to roughly a minute; ``STEPSTONE_FUZZ_PROFILE=fuzz-long``
runs many more examples for a local hunt. Only the fuzzers use these profiles (they apply them
with ``fuzzing.budget``), so the rest of the suite keeps its own settings. The example database
stays on (hypothesis' default, ``.hypothesis/``): a failure found once is replayed first next time.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_TESTS / "integration"))  # support.Server
sys.path.insert(0, str(_TESTS / "unit"))  # the event-pattern strategies of the unit tests

from support import Server  # noqa: E402


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    """One ``stepstone serve`` (SQLite file) per fuzz module."""
    db = tmp_path_factory.mktemp("fuzz-serve") / "stepstone.db"
    running = Server(f"sqlite:///{db}", {"STEPSTONE_ACTIVITY_POLL_SECONDS": "1"}).start()
    yield running
    running.stop()
