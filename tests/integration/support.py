"""Helpers of the integration tests: a real ``stepstone serve`` subprocess and boto3 clients."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
HANDLERS = REPO / "definitions" / "handlers.py"
TEST_HANDLERS = Path(__file__).resolve().parent / "handlers_for_tests.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One ``stepstone serve`` process on a free port; its log (stderr) goes to a file, since
    a pipe nobody reads would block the server once full (it logs every execution's end)."""

    def __init__(self, db_url: str, extra_env: dict | None = None):
        self.db_url = db_url
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="stepstone-serve-", suffix=".log")[1])

    def start(self) -> "Server":
        env = {**os.environ, "STEPSTONE_POLL_SECONDS": "0.1", **self.extra_env}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "engine", "serve", "--port", str(self.port), "--db", self.db_url,
                 "--handlers", str(HANDLERS), "--handlers", str(TEST_HANDLERS)],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"stepstone serve exited: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("stepstone serve did not start listening within 30 s")

    def log(self) -> str:
        """What the server logged so far (every start of this object appends)."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def client(endpoint: str, service: str = "stepfunctions"):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}))


ROLE = "arn:aws:iam::123456789012:role/test"


def wait_done(sfn, execution_arn: str, timeout: float = 30.0) -> dict:
    deadline = time.time() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.time() > deadline:
            return described
        time.sleep(0.05)
