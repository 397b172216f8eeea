"""Fixtures: one ``stepstone serve`` (SQLite file) for the session and a boto3 client on it."""
from __future__ import annotations

import pytest

from support import Server, client


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("serve") / "stepstone.db"
    running = Server(f"sqlite:///{db}").start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sfn(server):
    return client(server.endpoint)

