"""SigV4 verification without a server: AWS's published test vector, botocore's signer as an oracle,
every rejection with AWS's code and wording, and the access keys configuration."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api import access_keys, sigv4
from engine.api.sigv4 import SignedRequest, Verifier
from engine.errors import (IncompleteSignature, InvalidSignature, MissingAuthenticationToken,
                           UnrecognizedClient)
from engine.settings import Settings, from_environment

# AWS's SigV4 test suite ("get-vanilla"): example credentials, request and expected signature
EXAMPLE_KEY, EXAMPLE_SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
EXAMPLE_DATE = "20150830T123600Z"
GET_VANILLA_SIGNATURE = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"


def example_request(authorization: str | None, **headers: str) -> SignedRequest:
    base = {"host": "example.amazonaws.com", "x-amz-date": EXAMPLE_DATE, **headers}
    if authorization is not None:
        base["authorization"] = authorization
    return SignedRequest("GET", "/", "", {name: [value] for name, value in base.items()}, b"")


def vanilla_authorization(signature: str = GET_VANILLA_SIGNATURE, key: str = EXAMPLE_KEY,
                          service: str = "service") -> str:
    return (f"AWS4-HMAC-SHA256 Credential={key}/20150830/us-east-1/{service}/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={signature}")


def example_verifier(at: str = EXAMPLE_DATE) -> Verifier:
    moment = datetime.strptime(at, sigv4.AMZ_DATE_FORMAT).replace(tzinfo=timezone.utc)
    return Verifier({EXAMPLE_KEY: EXAMPLE_SECRET}, clock=lambda: moment)


# --- the computation --------------------------------------------------------------------------------
def test_get_vanilla_canonical_request_and_signature_match_aws_test_suite():
    request = example_request(vanilla_authorization())
    canonical = sigv4.canonical_request(request, ("host", "x-amz-date"))
    assert canonical == ("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                         "host;x-amz-date\n"
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    authorization = sigv4.parse_authorization(vanilla_authorization())
    assert sigv4.signature(EXAMPLE_SECRET, EXAMPLE_DATE, authorization, canonical) == GET_VANILLA_SIGNATURE


def test_get_vanilla_request_verifies():
    authorization = example_verifier().verify(example_request(vanilla_authorization()), "service")
    assert (authorization.access_key, authorization.region) == (EXAMPLE_KEY, "us-east-1")


def test_canonical_query_sorts_and_reencodes():
    assert sigv4.canonical_query("b=2&a=x%20y&A=0&c") == "A=0&a=x%20y&b=2&c="


def test_header_values_are_trimmed_and_repeated_values_joined():
    request = SignedRequest("POST", "/", "", {"host": ["h"], "x-multi": ["  a   b ", "c"]}, b"")
    assert "x-multi:a b,c\n" in sigv4.canonical_request(request, ("host", "x-multi"))


def botocore_signed(method: str, path: str, query: str, headers: dict, body: bytes,
                    service: str = "states", region: str = "eu-west-1") -> SignedRequest:
    """``botocore.auth.SigV4Auth`` signs the request; the result as the server would see it."""
    url = f"http://127.0.0.1:8083{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials("AKIAORACLE", "oracle/secret+key"), service, region).add_auth(request)
    received = {"host": ["127.0.0.1:8083"]}
    for name, value in request.headers.items():
        received.setdefault(name.lower(), []).append(value)
    return SignedRequest(method, path, query, received, body)


_HEADER_VALUE = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=200),
       query=st.dictionaries(st.from_regex(r"[A-Za-z0-9_.~-]{1,8}", fullmatch=True),
                             st.text(max_size=10), max_size=3),
       extra=st.dictionaries(st.from_regex(r"x-[a-z]{1,8}", fullmatch=True), _HEADER_VALUE, max_size=3),
       path=st.sampled_from(["/", "/a/b", "/a%20b", "/%E1%88%B4"]))
def test_every_request_botocore_signs_verifies(body, query, extra, path):
    from urllib.parse import urlencode, quote
    signed = botocore_signed("POST", path, urlencode(query, quote_via=quote), extra, body)
    verifier = Verifier({"AKIAORACLE": "oracle/secret+key"}, clock=lambda: datetime.now(timezone.utc))
    assert verifier.verify(signed, "states").region == "eu-west-1"


def test_a_changed_body_fails_the_signature():
    signed = botocore_signed("POST", "/", "", {"X-Amz-Target": "AWSStepFunctions.ListActivities"}, b"{}")
    tampered = SignedRequest(signed.method, signed.path, signed.query, signed.headers, b'{"x":1}')
    verifier = Verifier({"AKIAORACLE": "oracle/secret+key"})
    with pytest.raises(InvalidSignature, match="does not match the signature you provided"):
        verifier.verify(tampered, "states")


# --- the rejections -----------------------------------------------------------------------------------
def test_no_authorization_header_is_a_missing_token():
    with pytest.raises(MissingAuthenticationToken) as raised:
        example_verifier().verify(example_request(None), "service")
    assert (raised.value.code, raised.value.status) == ("MissingAuthenticationTokenException", 400)
    assert raised.value.message == "Request is missing Authentication Token"


def test_a_wrong_signature_is_aws_invalid_signature():
    with pytest.raises(InvalidSignature) as raised:
        example_verifier().verify(example_request(vanilla_authorization("0" * 64)), "service")
    assert raised.value.code == "InvalidSignatureException" and raised.value.status == 400
    assert raised.value.message == sigv4.MISMATCH_MESSAGE


@pytest.mark.parametrize("extra", [{}, {"x-amz-security-token": "FwoGZXIvYXdz"}])
def test_an_unknown_key_or_a_session_token_is_an_unrecognized_client(extra):
    key = "AKIDUNKNOWN" if not extra else EXAMPLE_KEY
    with pytest.raises(UnrecognizedClient) as raised:
        example_verifier().verify(example_request(vanilla_authorization(key=key), **extra), "service")
    assert raised.value.code == "UnrecognizedClientException"
    assert raised.value.message == "The security token included in the request is invalid."


def test_a_scope_for_another_service_is_refused():
    with pytest.raises(InvalidSignature, match="Credential should be scoped to correct service: 'states'"):
        example_verifier().verify(example_request(vanilla_authorization()), "states")


@pytest.mark.parametrize("clock", ["20150830T125100Z", "20150830T122100Z"])
def test_a_date_fifteen_minutes_from_the_clock_is_still_accepted(clock):
    example_verifier(clock).verify(example_request(vanilla_authorization()), "service")


@pytest.mark.parametrize("clock, message", [
    ("20150830T125101Z", "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
                         "(20150830T125101Z - 15 min.)"),
    ("20150830T122059Z", "Signature not yet current: 20150830T123600Z is still later than "
                         "20150830T123559Z (20150830T122059Z + 15 min.)"),
])
def test_a_date_beyond_fifteen_minutes_of_the_clock_is_refused(clock, message):
    with pytest.raises(InvalidSignature) as raised:
        example_verifier(clock).verify(example_request(vanilla_authorization()), "service")
    assert raised.value.message == message


@pytest.mark.parametrize("authorization, headers, problem", [
    ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
     {}, "requires 'SignedHeaders' parameter. Authorization header requires 'Signature' parameter"),
    ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/us-east-1/service/aws4_request, SignedHeaders=host, "
     "Signature=ab", {}, "Credential should be scoped"),
    (vanilla_authorization().replace("host;", ""), {}, "'Host' or ':authority' must be a 'SignedHeader'"),
    (vanilla_authorization(), {"x-amz-date": "2015-08-30T12:36:00Z"}, "ISO-8601 'basic format'"),
])
def test_malformed_authorization_is_an_incomplete_signature(authorization, headers, problem):
    with pytest.raises(IncompleteSignature, match=problem.replace("(", r"\(")) as raised:
        example_verifier().verify(example_request(authorization, **headers), "service")
    assert raised.value.code == "IncompleteSignatureException"


def test_a_request_without_x_amz_date_is_an_incomplete_signature():
    request = example_request(vanilla_authorization())
    undated = SignedRequest(request.method, request.path, request.query,
                            {name: values for name, values in request.headers.items() if name != "x-amz-date"},
                            request.body)
    with pytest.raises(IncompleteSignature, match="requires existence of an 'X-Amz-Date' header"):
        example_verifier().verify(undated, "service")


def test_the_scope_date_must_be_the_request_date():
    with pytest.raises(InvalidSignature, match="Date in Credential scope does not match"):
        example_verifier("20150831T000100Z").verify(
            example_request(vanilla_authorization(), **{"x-amz-date": "20150831T000000Z"}), "service")


def test_a_verifier_needs_a_key():
    with pytest.raises(ValueError):
        Verifier({})


# --- the access keys configuration ------------------------------------------------------------------
def test_keys_from_a_json_mapping_a_yaml_list_and_the_environment(tmp_path):
    mapping = tmp_path / "keys.json"
    mapping.write_text(json.dumps({"AKIAONE": "secret-one"}))
    listed = tmp_path / "keys.yaml"
    listed.write_text("- {access_key_id: AKIATWO, secret_access_key: secret-two}\n")
    env = {"STEPSTONE_ACCESS_KEYS_FILE": str(mapping), "STEPSTONE_ACCESS_KEY_ID": "AKIAENV",
           "STEPSTONE_SECRET_ACCESS_KEY": "secret-env"}
    assert access_keys.load(from_environment(env)) == {"AKIAONE": "secret-one", "AKIAENV": "secret-env"}
    assert access_keys.load(Settings(access_keys_file=str(listed))) == {"AKIATWO": "secret-two"}
    assert access_keys.load(Settings()) == {}
    assert "secret-env" not in repr(from_environment(env))


@pytest.mark.parametrize("text, problem", [
    ("{not json", "is not valid JSON/YAML"),
    ("[]", "holds no access keys"),
    ('"AKIA"', "must hold a mapping"),
    ('{"AKIAONE": ""}', "must be non-empty strings"),
    ('[{"access_key_id": "AKIAONE", "secret": "hidden-value"}]', "entry 0 must have exactly"),
    ('[{"access_key_id": "A", "secret_access_key": "x"}, {"access_key_id": "A", "secret_access_key": "y"}]',
     "access key A appears twice"),
])
def test_a_bad_keys_file_names_the_file_and_the_problem_but_no_secret(tmp_path, text, problem):
    path = tmp_path / "keys.json"
    path.write_text(text)
    with pytest.raises(access_keys.AccessKeysError, match=problem) as raised:
        access_keys.load_file(str(path))
    assert str(path) in str(raised.value) and "hidden-value" not in str(raised.value)


def test_a_missing_keys_file_and_a_half_pair_are_reported(tmp_path):
    with pytest.raises(access_keys.AccessKeysError, match="cannot be read"):
        access_keys.load(Settings(access_keys_file=str(tmp_path / "absent.yaml")))
    with pytest.raises(access_keys.AccessKeysError, match="set both or neither"):
        access_keys.load(from_environment({"STEPSTONE_ACCESS_KEY_ID": "AKIAENV"}))
