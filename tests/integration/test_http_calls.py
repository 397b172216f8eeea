"""The HTTP Task end to end: boto3 -> ``stepstone serve`` -> a real local HTTP API.

The server gets ``STEPSTONE_HTTP_ALLOW`` (the local API and ``localhost``) and a connections file
with an API_KEY and a BASIC connection, as a user would configure them.
"""
from __future__ import annotations

import base64
import json
import uuid

import pytest

from local_http import start_api
from support import ROLE, Server, client, free_port, wait_done

REGION_ACCOUNT = "us-east-1:123456789012"
KEYED = f"arn:aws:events:{REGION_ACCOUNT}:connection/orders-api/0a1b2c3d-0000-4000-8000-000000000001"
BASIC = f"arn:aws:events:{REGION_ACCOUNT}:connection/basic-api/0a1b2c3d-0000-4000-8000-000000000002"
UNKNOWN = f"arn:aws:events:{REGION_ACCOUNT}:connection/nobody/0a1b2c3d-0000-4000-8000-000000000003"

CONNECTIONS = """
orders-api:
  AuthorizationType: API_KEY
  AuthParameters:
    ApiKeyAuthParameters: {ApiKeyName: x-api-key, ApiKeyValue: "${HTTP_TEST_API_KEY}"}
    InvocationHttpParameters:
      HeaderParameters: [{Key: X-Tenant, Value: acme}]
      QueryStringParameters: [{Key: api-version, Value: "2"}]
basic-api:
  AuthorizationType: BASIC
  AuthParameters:
    BasicAuthParameters: {Username: sfn, Password: hunter2}
    InvocationHttpParameters:
      BodyParameters: [{Key: source, Value: stepstone}]
"""


@pytest.fixture(scope="module")
def api():
    running = start_api()
    yield running
    running.server.shutdown()


@pytest.fixture(scope="module")
def http_sfn(api, tmp_path_factory):
    folder = tmp_path_factory.mktemp("http")
    (folder / "connections.yaml").write_text(CONNECTIONS)
    server = Server(f"sqlite:///{folder / 'stepstone.db'}", extra_env={
        "STEPSTONE_HTTP_ALLOW": f"127.0.0.1:{api.port}, localhost",
        "STEPSTONE_CONNECTIONS": str(folder / "connections.yaml"),
        "HTTP_TEST_API_KEY": "k-123"}).start()
    yield client(server.endpoint)
    server.stop()


def http_task(parameters: dict, connection: str = KEYED, **state) -> dict:
    return {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"Authentication": {"ConnectionArn": connection}, **parameters}, **state}


def run(sfn, states: dict, start: str | None = None, given: dict | None = None) -> dict:
    definition = {"StartAt": start or next(iter(states)), "States": states}
    arn = sfn.create_state_machine(name=f"http-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(given or {}))
    done = wait_done(sfn, started["executionArn"])
    done["events"] = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    return done


def test_get_with_query_parameters_returns_the_parsed_json(http_sfn, api):
    # Given an allowed API and an API_KEY connection; When a GET state calls it with query parameters
    done = run(http_sfn, {"Get": http_task({
        "ApiEndpoint.$": "States.Format('{}/orders/{}', $.api, $.id)", "Method": "GET",
        "QueryParameters": {"status": "open", "tag": ["a", "b"]}}, End=True)}, given={"api": api.url, "id": 7})
    # Then the output is AWS's shape with the JSON body parsed
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["StatusCode"] == 200 and output["StatusText"] == "OK"
    assert output["Headers"]["Content-Type"] == ["application/json"]
    assert output["ResponseBody"]["path"] == "/orders/7"
    assert output["ResponseBody"]["query"] == {"status": ["open"], "tag": ["a", "b"], "api-version": ["2"]}
    # And the API saw the connection's key and header, and AWS's User-Agent
    seen = api.last()
    assert seen.headers["x-api-key"] == "k-123" and seen.headers["x-tenant"] == "acme"
    assert seen.headers["user-agent"] == "Amazon|StepFunctions|HttpInvoke|us-east-1"
    scheduled = next(e for e in done["events"] if e["type"] == "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["resourceType"] == "http"
    assert scheduled["taskScheduledEventDetails"]["resource"] == "invoke"


def test_post_sends_json_body_and_headers(http_sfn, api):
    done = run(http_sfn, {"Post": http_task({
        "ApiEndpoint": f"{api.url}/orders", "Method": "POST", "Headers": {"X-Request-Id": "r-1"},
        "RequestBody": {"item.$": "$.item", "quantity": 2}}, connection=BASIC, End=True)}, given={"item": "pen"})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["StatusCode"] == 201 and output["StatusText"] == "Created"
    seen = api.last()
    assert seen.method == "POST" and seen.headers["x-request-id"] == "r-1"
    assert seen.headers["content-type"] == "application/json; charset=UTF-8"
    assert json.loads(seen.body) == {"item": "pen", "quantity": 2, "source": "stepstone"}
    assert seen.headers["authorization"] == "Basic " + base64.b64encode(b"sfn:hunter2").decode()


def test_url_encoded_body(http_sfn, api):
    done = run(http_sfn, {"Form": http_task({
        "ApiEndpoint": f"{api.url}/forms", "Method": "PUT", "RequestBody": {"tags": ["x", "y"], "n": 1},
        "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}}},
        End=True)})
    assert done["status"] == "SUCCEEDED", done
    assert api.last().body == b"tags%5B%5D=x&tags%5B%5D=y&n=1"
    assert api.last().headers["content-type"] == "application/x-www-form-urlencoded"


def test_404_is_caught_by_its_status_code_error(http_sfn, api):
    done = run(http_sfn, {
        "Get": http_task({"ApiEndpoint": f"{api.url}/status/404", "Method": "GET"}, Catch=[
            {"ErrorEquals": ["States.Http.StatusCode.404"], "ResultPath": "$.failure", "Next": "Missing"}],
            End=True),
        "Missing": {"Type": "Pass", "End": True}})
    assert done["status"] == "SUCCEEDED", done
    failure = json.loads(done["output"])["failure"]
    assert failure["Error"] == "States.Http.StatusCode.404"
    cause = json.loads(failure["Cause"])
    assert cause["StatusCode"] == 404 and cause["ResponseBody"] == {"message": "status 404 as asked"}
    failed = next(e for e in done["events"] if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert failed["resourceType"] == "http" and failed["error"] == "States.Http.StatusCode.404"


def test_500_fails_the_execution_and_is_retried_by_name(http_sfn, api):
    before = len(api.seen)
    done = run(http_sfn, {"Get": http_task({"ApiEndpoint": f"{api.url}/status/500", "Method": "GET"}, Retry=[
        {"ErrorEquals": ["States.Http.StatusCode.500"], "IntervalSeconds": 1, "MaxAttempts": 1}], End=True)})
    assert done["status"] == "FAILED" and done["error"] == "States.Http.StatusCode.500"
    assert len(api.seen) - before == 2  # the first call and one retry


def test_forbidden_host_fails_with_permissions_before_any_request(http_sfn, api):
    before = len(api.seen)
    done = run(http_sfn, {"Get": http_task({"ApiEndpoint": "https://api.not-allowed.example/v1", "Method": "GET"},
                                           End=True)})
    assert done["status"] == "FAILED" and done["error"] == "States.Permissions"
    assert "api.not-allowed.example:443" in done["cause"] and "STEPSTONE_HTTP_ALLOW" in done["cause"]
    redirected = run(http_sfn, {"Get": http_task({
        "ApiEndpoint": f"{api.url}/redirect", "Method": "GET",
        "QueryParameters": {"to": "http://169.254.169.254/latest/meta-data"}}, End=True)})
    assert redirected["error"] == "States.Permissions" and "169.254.169.254:80" in redirected["cause"]
    assert len(api.seen) - before == 1  # only the redirecting call reached the API


def test_allowed_redirect_is_followed_without_the_connection_key(http_sfn, api):
    done = run(http_sfn, {"Get": http_task({
        "ApiEndpoint": f"{api.url}/redirect", "Method": "GET",
        "QueryParameters": {"to": f"http://localhost:{api.port}/landed"}}, End=True)})
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"])["ResponseBody"]["path"] == "/landed"
    assert "x-api-key" not in api.last().headers  # another host: the secret stays behind


def test_unreachable_host_is_a_socket_error(http_sfn):
    done = run(http_sfn, {"Get": http_task({"ApiEndpoint": f"http://localhost:{free_port()}/", "Method": "GET"},
                                           End=True)})
    assert done["status"] == "FAILED" and done["error"] == "States.Http.Socket"
    assert "could not reach GET http://localhost:" in done["cause"]


def test_unknown_connection_names_the_arn(http_sfn, api):
    done = run(http_sfn, {"Get": http_task({"ApiEndpoint": f"{api.url}/x", "Method": "GET"}, connection=UNKNOWN,
                                           End=True)})
    assert done["status"] == "FAILED" and done["error"] == "Events.ConnectionResource.ResourceNotFound"
    assert UNKNOWN in done["cause"] and "STEPSTONE_CONNECTIONS" in done["cause"]


def test_serve_refuses_to_start_with_a_bad_connections_file(tmp_path):
    bad = tmp_path / "connections.yaml"
    bad.write_text("c: {AuthorizationType: DIGEST}\n")
    with pytest.raises(RuntimeError, match="AuthorizationType must be one of"):
        Server(f"sqlite:///{tmp_path / 'db.sqlite'}", extra_env={"STEPSTONE_CONNECTIONS": str(bad)}).start()
