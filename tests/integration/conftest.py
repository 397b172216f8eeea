"""Fixtures: one ``stepstone serve`` (SQLite file) for the session and a boto3 client on it."""
from __future__ import annotations

import pytest

from support import Server, client


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("serve") / "stepstone.db"
    # a short GetActivityTask long poll keeps the "nothing came" tests quick
    running = Server(f"sqlite:///{db}", {"STEPSTONE_ACTIVITY_POLL_SECONDS": "1"}).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sfn(server):
    return client(server.endpoint)

