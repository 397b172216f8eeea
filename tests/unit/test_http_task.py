"""The HTTP Task's pure parts: request building, URL encoding, answer shaping, allow-list, connections."""
from __future__ import annotations

import base64
import json

import pytest

from engine.runtime import connections
from engine.runtime.connections import AllowList, Connection, ConnectionsFileError, HttpConfig, load_connections
from engine.runtime.http_task import (
    Request, Response, TaskFailure, build_request, check_allowed, connection_arn, invoke, task_output, url_encode)
from engine.settings import from_environment

ARN = "arn:aws:events:us-east-1:123456789012:connection/orders-api/8f0e2c1a-1111-2222-3333-444455556666"
PLAIN = Connection("orders-api", "API_KEY", auth_headers=(("x-api-key", "k"),))


def params(**extra) -> dict:
    return {"ApiEndpoint": "https://api.example.com/v1/orders", "Method": "GET",
            "Authentication": {"ConnectionArn": ARN}, **extra}


def headers_of(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers}


def failure(call, *args) -> TaskFailure:
    with pytest.raises(TaskFailure) as raised:
        call(*args)
    return raised.value


# --- building the request --------------------------------------------------------------------------
def test_get_with_query_parameters_appends_to_the_endpoint_query():
    request = build_request(params(ApiEndpoint="https://api.example.com/v1/orders?page=2",
                                   QueryParameters={"status": "open", "tag": ["a", "b"], "limit": 10}),
                            PLAIN, "eu-west-1")
    assert request.method == "GET" and request.body is None
    assert request.url == "https://api.example.com/v1/orders?page=2&status=open&tag=a&tag=b&limit=10"
    headers = headers_of(request)
    assert headers["user-agent"] == "Amazon|StepFunctions|HttpInvoke|eu-west-1"
    assert headers["range"] == "bytes=0-262144"
    assert "content-type" not in headers


def test_post_json_body_gets_a_json_content_type_unless_one_is_given():
    request = build_request(params(Method="POST", RequestBody={"id": 7, "name": "Zoë"}), PLAIN, "us-east-1")
    assert json.loads(request.body) == {"id": 7, "name": "Zoë"}
    assert headers_of(request)["content-type"] == "application/json; charset=UTF-8"
    given = build_request(params(Method="PUT", RequestBody={"a": 1},
                                 Headers={"Content-Type": "application/vnd+json"}), PLAIN, "us-east-1")
    assert headers_of(given)["content-type"] == "application/vnd+json"


def test_string_body_is_sent_as_written():
    request = build_request(params(Method="POST", RequestBody="plain words"), PLAIN, "us-east-1")
    assert request.body == b"plain words"
    assert headers_of(request)["content-type"].startswith("text/plain")


@pytest.mark.parametrize("array_format, expected", [
    ("INDICES", "array%5B0%5D=a&array%5B1%5D=b"),
    ("REPEAT", "array=a&array=b"),
    ("COMMAS", "array=a%2Cb"),
    ("BRACKETS", "array%5B%5D=a&array%5B%5D=b"),
])
def test_url_encoded_body_follows_the_array_format(array_format, expected):
    assert url_encode({"array": ["a", "b"]}, array_format) == expected


def test_url_encoding_nests_objects_and_defaults_to_indices():
    request = build_request(params(Method="POST", RequestBody={"card": {"exp": 12}, "ok": True, "n": ["x"]},
                                   Transform={"RequestBodyEncoding": "URL_ENCODED"}), PLAIN, "us-east-1")
    assert request.body == b"card%5Bexp%5D=12&ok=true&n%5B0%5D=x"
    assert headers_of(request)["content-type"] == "application/x-www-form-urlencoded"


def test_connection_adds_auth_and_invocation_parameters_and_wins_conflicts():
    connection = Connection("c", "API_KEY", auth_headers=(("x-api-key", "secret"),),
                            headers=(("X-Tenant", "acme"),), query=(("region", "eu"),), body=(("source", "sfn"),))
    request = build_request(params(Method="POST", Headers={"x-tenant": "mine", "X-Trace": "t1"},
                                   QueryParameters={"region": "us", "q": "1"}, RequestBody={"source": "me", "id": 1}),
                            connection, "us-east-1")
    headers = headers_of(request)
    assert headers["x-api-key"] == "secret" and headers["x-tenant"] == "acme" and headers["x-trace"] == "t1"
    assert request.url.endswith("/v1/orders?q=1&region=eu")
    assert json.loads(request.body) == {"source": "sfn", "id": 1}
    assert request.secret_headers == frozenset({"x-api-key"})


def test_connection_body_parameters_cannot_merge_into_a_string_body():
    connection = Connection("c", "BASIC", body=(("source", "sfn"),))
    found = failure(build_request, params(Method="POST", RequestBody="text"), connection, "us-east-1")
    assert found.error == "States.Runtime" and "BodyParameters" in found.cause


@pytest.mark.parametrize("change, mentioned", [
    ({"Method": "TRACE"}, "Parameters.Method"),
    ({"Method": None}, "Parameters.Method"),
    ({"ApiEndpoint": "ftp://files.example.com/x"}, "Parameters.ApiEndpoint"),
    ({"ApiEndpoint": "https://api.example.com:99999/"}, "Parameters.ApiEndpoint"),
    ({"ApiEndpoint": 42}, "Parameters.ApiEndpoint"),
    ({"Headers": {"Host": "evil.example.com"}}, "Parameters.Headers.Host"),
    ({"Headers": {"X-Amz-Date": "now"}}, "Parameters.Headers.X-Amz-Date"),
    ({"Headers": {"X-Obj": {"a": 1}}}, "Headers.X-Obj"),
    ({"QueryParameters": "a=b"}, "Parameters.QueryParameters"),
    ({"Transform": {"RequestBodyEncoding": "GZIP"}}, "RequestBodyEncoding"),
    ({"Transform": {"RequestEncodingOptions": {"ArrayFormat": "JSON"}}}, "ArrayFormat"),
    ({"Transform": {"RequestBodyEncoding": "URL_ENCODED"}, "RequestBody": "a=b"}, "URL_ENCODED"),
])
def test_invalid_parameters_fail_with_a_runtime_error_naming_the_field(change, mentioned):
    found = failure(build_request, params(**change), PLAIN, "us-east-1")
    assert found.error == "States.Runtime"
    assert mentioned in found.cause


@pytest.mark.parametrize("parameters", [None, "x", {"ApiEndpoint": "https://a.example.com", "Method": "GET"},
                                        {"Authentication": {"ConnectionArn": ""}}])
def test_connection_arn_is_required(parameters):
    found = failure(connection_arn, parameters)
    assert found.error == "States.Runtime"


# --- shaping the answer ----------------------------------------------------------------------------
def response(status=200, reason="OK", content_type="application/json", body=b'{"ok": true}', extra=()):
    return Response(status, reason, (("Content-Type", content_type), *extra), body)


def test_json_answer_becomes_the_aws_output_shape():
    output = task_output(response(extra=(("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"))))
    assert output == {"Headers": {"Content-Type": ["application/json"], "Set-Cookie": ["a=1", "b=2"]},
                      "ResponseBody": {"ok": True}, "StatusCode": 200, "StatusText": "OK"}


def test_text_and_broken_json_answers_stay_text():
    html = response(content_type="text/html; charset=utf-8", body=b"<p>hi</p>")
    assert task_output(html)["ResponseBody"] == "<p>hi</p>"
    assert task_output(response(body=b"{not json"))["ResponseBody"] == "{not json"
    assert task_output(response(content_type="application/problem+json", body=b"[1]"))["ResponseBody"] == [1]


def test_non_2xx_fails_with_the_status_code_error_and_the_response_as_cause():
    found = failure(task_output, response(404, "Not Found", body=b'{"message": "no order 7"}'))
    assert found.error == "States.Http.StatusCode.404"
    cause = json.loads(found.cause)
    assert cause["StatusCode"] == 404 and cause["StatusText"] == "Not Found"
    assert cause["ResponseBody"] == {"message": "no order 7"}


def test_binary_answers_are_refused():
    found = failure(task_output, response(content_type="image/png", body=b"\x89PNG"))
    assert found.error == "States.Runtime" and "image/png" in found.cause


# --- the allow-list --------------------------------------------------------------------------------
@pytest.mark.parametrize("entries, host, port, allowed", [
    ((), "api.example.com", 443, False),
    (("api.example.com",), "api.example.com", 443, True),
    (("api.example.com",), "API.Example.com", 8443, True),
    (("api.example.com:8443",), "api.example.com", 443, False),
    (("api.example.com:8443",), "api.example.com", 8443, True),
    (("*.example.com",), "deep.api.example.com", 443, True),
    (("*.example.com",), "example.com", 443, False),
    (("*.example.com",), "example.com.evil.net", 443, False),
    (("localhost, 127.0.0.1:8080",), "127.0.0.1", 8080, True),
    (("[::1]:8080",), "::1", 8080, True),
    (("*",), "anything.net", 1234, True),
])
def test_allow_list_patterns(entries, host, port, allowed):
    assert AllowList.parse(entries).allows(host, port) is allowed


def test_forbidden_host_fails_with_permissions_naming_host_and_setting():
    found = failure(check_allowed, "https://metadata.internal/latest", AllowList.parse(["api.example.com"]))
    assert found.error == "States.Permissions"
    assert "metadata.internal:443" in found.cause and "STEPSTONE_HTTP_ALLOW" in found.cause


def test_invoke_checks_connection_before_any_io():
    found = failure(invoke, params(), "us-east-1", HttpConfig())
    assert found.error == "Events.ConnectionResource.ResourceNotFound" and ARN in found.cause
    oauth = HttpConfig(AllowList.parse(["*"]), {"orders-api": Connection("orders-api", "OAUTH_CLIENT_CREDENTIALS")})
    found = failure(invoke, params(), "us-east-1", oauth)
    assert found.error == "States.Runtime" and "OAUTH_CLIENT_CREDENTIALS" in found.cause
    denied = HttpConfig(AllowList(), {"orders-api": PLAIN})
    assert failure(invoke, params(), "us-east-1", denied).error == "States.Permissions"


# --- the connections file --------------------------------------------------------------------------
def test_connections_file_in_eventbridge_shape(tmp_path, monkeypatch):
    monkeypatch.setenv("ORDERS_PASSWORD", "hunter2")
    path = tmp_path / "connections.yaml"
    path.write_text(f"""
orders-api:
  AuthorizationType: BASIC
  AuthParameters:
    BasicAuthParameters: {{Username: sfn, Password: "pw-${{ORDERS_PASSWORD}}"}}
    InvocationHttpParameters:
      HeaderParameters: [{{Key: X-Tenant, Value: acme}}]
      QueryStringParameters: [{{Key: v, Value: 2}}]
"{ARN.replace('orders-api', 'keyed')}":
  AuthorizationType: API_KEY
  AuthParameters:
    ApiKeyAuthParameters: {{ApiKeyName: x-api-key, ApiKeyValue: k}}
""")
    config = connections._config((), str(path))
    basic = config.connection(ARN)
    assert basic.auth_headers == (("Authorization", "Basic " + base64.b64encode(b"sfn:pw-hunter2").decode()),)
    assert basic.headers == (("X-Tenant", "acme"),) and basic.query == (("v", "2"),)
    assert config.connection(ARN.replace("orders-api", "keyed")).auth_headers == (("x-api-key", "k"),)
    assert config.connection(ARN.replace("orders-api", "other")) is None


@pytest.mark.parametrize("text, mentioned", [
    ("[1, 2]", "must map connection"),
    ("c: {AuthorizationType: DIGEST}", "AuthorizationType must be one of"),
    ("c: {AuthorizationType: API_KEY, AuthParameters: {}}", "ApiKeyAuthParameters"),
    ("c: {AuthorizationType: BASIC, AuthParameters: {BasicAuthParameters: {Username: u}}}", "Password"),
    ("c: {AuthorizationType: BASIC, AuthParameters: {BasicAuthParameters: {Username: u, Password: '${NOPE_X}'}}}",
     "NOPE_X"),
    ("c: {AuthorizationType: OAUTH_CLIENT_CREDENTIALS, AuthParameters: {InvocationHttpParameters: "
     "{HeaderParameters: [{Value: 1}]}}}", "HeaderParameters"),
    (": : :", "not valid JSON/YAML"),
])
def test_bad_connections_file_names_the_entry_and_field(tmp_path, text, mentioned):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConnectionsFileError) as raised:
        load_connections(str(path))
    assert mentioned in str(raised.value) and str(path) in str(raised.value)


def test_missing_connections_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConnectionsFileError, match="cannot be read"):
        load_connections(str(tmp_path / "nope.json"))


def test_settings_read_the_allow_list_and_connections_and_flags_add_hosts():
    settings = from_environment({"STEPSTONE_HTTP_ALLOW": "a.example.com, *.b.example.com:8443",
                                 "STEPSTONE_CONNECTIONS": "/etc/conns.yaml"})
    assert settings.http_allow == ("a.example.com", "*.b.example.com:8443")
    assert settings.connections == "/etc/conns.yaml"
    assert settings.with_flags(http_allow=("localhost",)).http_allow[-1] == "localhost"
    assert from_environment({}).http_allow == () and from_environment({}).connections is None
