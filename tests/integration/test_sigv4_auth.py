"""SigV4 on a real ``stepstone serve`` with access keys, through unmodified boto3 clients."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
import botocore
import botocore.auth
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import REPO, Server, free_port

KEY, SECRET = "AKIASTEPSTONETEST", "s3cr3t/with+signs"
ENV_KEY, ENV_SECRET = "AKIAFROMENVIRONMENT", "another-secret"


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sigv4")
    keys = directory / "keys.yaml"
    keys.write_text(f"- {{access_key_id: {KEY}, secret_access_key: '{SECRET}'}}\n")
    running = Server(f"sqlite:///{directory / 'stepstone.db'}",
                     {"STEPSTONE_ACCESS_KEYS_FILE": str(keys), "STEPSTONE_ACCESS_KEY_ID": ENV_KEY,
                      "STEPSTONE_SECRET_ACCESS_KEY": ENV_SECRET}).start()
    yield running
    running.stop()


def aws_client(server: Server, service: str, key: str = KEY, secret: str = SECRET,
               region: str = "us-east-1", **config):
    return boto3.client(service, endpoint_url=server.endpoint, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}, **config))


def error_of(call) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def test_the_right_keys_work_for_step_functions_and_events_in_any_region(signed_server):
    sfn = aws_client(signed_server, "stepfunctions")
    assert "stateMachines" in sfn.list_state_machines()
    events = aws_client(signed_server, "events", key=ENV_KEY, secret=ENV_SECRET, region="eu-west-1")
    names = [bus["Name"] for bus in events.list_event_buses()["EventBuses"]]
    assert "default" in names


def test_a_wrong_secret_is_an_invalid_signature(signed_server):
    sfn = aws_client(signed_server, "stepfunctions", secret="not-the-secret")
    assert error_of(sfn.list_state_machines) == (
        400, "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your "
        "AWS Secret Access Key and signing method. Consult the service documentation for details.")


def test_an_unknown_key_is_an_unrecognized_client(signed_server):
    events = aws_client(signed_server, "events", key="AKIANOBODYKNOWS")
    assert error_of(events.list_event_buses) == (
        400, "UnrecognizedClientException", "The security token included in the request is invalid.")


def test_an_unsigned_request_is_missing_its_token(signed_server):
    sfn = aws_client(signed_server, "stepfunctions", signature_version=botocore.UNSIGNED)
    assert error_of(sfn.list_state_machines) == (
        400, "MissingAuthenticationTokenException", "Request is missing Authentication Token")


def test_a_stale_date_is_an_expired_signature(signed_server, monkeypatch):
    sfn = aws_client(signed_server, "stepfunctions")
    twenty_minutes_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: twenty_minutes_ago)
    status, code, message = error_of(sfn.list_state_machines)
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith("Signature expired: ") and message.endswith(" - 15 min.)")


def test_health_needs_no_signature(signed_server):
    with urllib.request.urlopen(f"{signed_server.endpoint}/health", timeout=5) as response:
        assert json.load(response)["status"] == "ok"


def test_metrics_need_no_signature(signed_server):
    """Prometheus scrapes without AWS credentials: counts and gauges, never a payload."""
    with urllib.request.urlopen(f"{signed_server.endpoint}/metrics", timeout=5) as response:
        assert b"stepstone_queue_depth" in response.read()


def serve(*arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "engine", "serve", "--port", str(free_port()), *arguments]
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("STEPSTONE_ACCESS_KEY")}
    return subprocess.run(command, cwd=REPO, env={**environment, **(env or {})},
                          capture_output=True, text=True, timeout=30)


def test_serve_off_loopback_without_keys_exits_2_saying_how_to_configure_them(tmp_path):
    done = serve("--host", "0.0.0.0", "--db", f"sqlite:///{tmp_path / 'never.db'}")
    assert done.returncode == 2
    assert "refusing to serve on 0.0.0.0 without access keys" in done.stderr
    assert "--access-keys FILE" in done.stderr and "STEPSTONE_ACCESS_KEY_ID" in done.stderr
    assert not (tmp_path / "never.db").exists()


def test_serve_with_a_bad_keys_file_exits_2_naming_it(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text('{"AKIAONE": 42}')
    done = serve("--access-keys", str(keys), "--db", f"sqlite:///{tmp_path / 'never.db'}")
    assert done.returncode == 2
    assert f"access keys file {keys}" in done.stderr and "non-empty strings" in done.stderr
