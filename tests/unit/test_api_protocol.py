"""The AWS JSON protocol pieces and the dispatch table, without a server."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.api import protocol
from engine.api.operations import STEP_FUNCTIONS, Dispatcher, accepted_keywords, keyword_arguments
from engine.errors import StateMachineDoesNotExist, UnknownOperation, ValidationException

# --- member names --------------------------------------------------------------------------------

@pytest.mark.parametrize("member, keyword", [
    ("stateMachineArn", "state_machine_arn"),
    ("maxResults", "max_results"),
    ("roleArn", "role_arn"),
    ("includeExecutionData", "include_execution_data"),
    ("type", "type"),
    ("CreateStateMachine", "create_state_machine"),
    ("DescribeStateMachineForExecution", "describe_state_machine_for_execution"),
    ("HTTPHeaders", "http_headers"),
    ("ResourceARN", "resource_arn"),
])
def test_camel_to_snake_known_names(member: str, keyword: str) -> None:
    assert protocol.camel_to_snake(member) == keyword


# Words of two or more characters: a one-letter word followed by another ("aBC") reads as an
# acronym, which is the reading EventBridge's "ResourceARN" needs.
_WORD = st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True)


@given(st.lists(_WORD, min_size=1, max_size=5), st.booleans())
def test_camel_to_snake_recovers_the_words_of_any_camel_name(words: list[str], pascal: bool) -> None:
    # Given a name built from lowercase words the way AWS builds member (camel) and action (Pascal)
    # names, when converted, then the words come back joined by underscores.
    first = words[0].capitalize() if pascal else words[0]
    camel = first + "".join(word.capitalize() for word in words[1:])
    assert protocol.camel_to_snake(camel) == "_".join(words)


@given(st.text(alphabet="abcXYZ019_", max_size=20))
def test_camel_to_snake_output_has_no_capitals_and_keeps_the_letters(name: str) -> None:
    snake = protocol.camel_to_snake(name)
    assert snake == snake.lower()
    assert snake.replace("_", "") == name.replace("_", "").lower()


# --- target and body ------------------------------------------------------------------------------

def test_parse_target_splits_prefix_and_action() -> None:
    assert protocol.parse_target("AWSStepFunctions.StartExecution") == (
        "AWSStepFunctions", "StartExecution")


@pytest.mark.parametrize("header", [None, "", "AWSStepFunctions", "AWSStepFunctions.", ".Start"])
def test_parse_target_rejects_headers_without_an_action(header: str | None) -> None:
    with pytest.raises(UnknownOperation) as raised:
        protocol.parse_target(header)
    assert raised.value.code == "UnknownOperationException"


def test_decode_body_reads_an_object_and_treats_empty_as_no_members() -> None:
    assert protocol.decode_body(b'{"maxResults": 3}') == {"maxResults": 3}
    assert protocol.decode_body(b"") == {}
    assert protocol.decode_body(b"  \n") == {}


@pytest.mark.parametrize("raw", [b"[]", b"3", b'"text"', b"null", b"{", b"\xff\xfe{", b"[" * 5000])
def test_decode_body_rejects_anything_but_a_json_object(raw: bytes) -> None:
    with pytest.raises(protocol.SerializationException) as raised:
        protocol.decode_body(raw)
    assert raised.value.code == "SerializationException"
    assert raised.value.status == 400


# --- validation -----------------------------------------------------------------------------------

def test_one_missing_member_reads_like_aws() -> None:
    with pytest.raises(ValidationException) as raised:
        protocol.check_required({}, ("stateMachineArn",))
    assert raised.value.message == (
        "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy "
        "constraint: Member must not be null")


def test_several_missing_members_are_counted_and_listed_in_order() -> None:
    with pytest.raises(ValidationException) as raised:
        protocol.check_required({"definition": "{}", "roleArn": None}, ("name", "definition", "roleArn"))
    assert raised.value.message == (
        "2 validation errors detected: "
        "Value null at 'name' failed to satisfy constraint: Member must not be null; "
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null")


def test_present_members_pass_validation() -> None:
    protocol.check_required({"taskToken": "t", "output": ""}, ("taskToken", "output"))


# --- responses ------------------------------------------------------------------------------------

def test_dates_become_epoch_seconds_at_any_depth() -> None:
    aware = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)
    plus_two = datetime(2024, 5, 1, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2024, 5, 1, 12, 0, 0)
    body = json.loads(protocol.encode_json(
        {"startDate": aware, "events": [{"timestamp": plus_two}], "naive": naive}))
    assert body == {"startDate": 1714564800.25, "events": [{"timestamp": 1714564800.0}],
                    "naive": 1714564800.0}


def test_encode_json_refuses_unknown_objects() -> None:
    with pytest.raises(TypeError):
        protocol.encode_json({"x": object()})


def test_error_document_carries_code_and_message() -> None:
    error = StateMachineDoesNotExist("State Machine Does Not Exist: 'arn:x'")
    assert protocol.error_document(error) == {
        "__type": "StateMachineDoesNotExist", "message": "State Machine Does Not Exist: 'arn:x'"}


# --- dispatch table -------------------------------------------------------------------------------

def test_required_members_match_the_aws_service_model() -> None:
    # botocore ships AWS's own machine-readable API model: the table must agree with it.
    model = botocore.session.get_session().get_service_model("stepfunctions")
    assert model.metadata["targetPrefix"] == STEP_FUNCTIONS.target_prefix
    for action, required in STEP_FUNCTIONS.operations.items():
        assert tuple(model.operation_model(action).input_shape.required_members) == required, action


def test_accepted_keywords_reads_the_signature() -> None:
    def start_execution(state_machine_arn: str, *, name: str | None = None) -> None: ...
    def anything(**members: object) -> None: ...
    assert accepted_keywords(start_execution) == {"state_machine_arn", "name"}
    assert accepted_keywords(anything) is None


def test_keyword_arguments_drop_nulls_and_unaccepted_members() -> None:
    body = {"stateMachineArn": "arn", "name": None, "traceHeader": "t"}
    assert keyword_arguments(body, frozenset({"state_machine_arn", "name"})) == {
        "state_machine_arn": "arn"}
    assert keyword_arguments(body, None) == {"state_machine_arn": "arn", "trace_header": "t"}


class _CountingEngine:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def delete_state_machine(self, state_machine_arn: str) -> None:
        self.calls.append({"state_machine_arn": state_machine_arn})

    def shutdown(self) -> None:  # a facade method that is not an AWS action
        raise AssertionError("must never be reachable through the API")


def test_dispatcher_calls_the_snake_case_method_and_returns_empty_for_none() -> None:
    engine = _CountingEngine()
    dispatcher = Dispatcher(engine)
    assert dispatcher.call(STEP_FUNCTIONS, "DeleteStateMachine", {"stateMachineArn": "a"}) == {}
    assert engine.calls == [{"state_machine_arn": "a"}]


@pytest.mark.parametrize("action", ["Shutdown", "DescribeExecution", "NoSuchAction"])
def test_dispatcher_refuses_unlisted_actions_and_missing_methods(action: str) -> None:
    with pytest.raises(UnknownOperation):
        Dispatcher(_CountingEngine()).call(STEP_FUNCTIONS, action, {})


def test_dispatcher_refuses_unknown_services() -> None:
    with pytest.raises(UnknownOperation):
        Dispatcher(_CountingEngine()).service("AWSLambda")
