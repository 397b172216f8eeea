"""engine.testing: run a definition in-process with mocks and assert on what happened."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import errors, task
from engine.testing import mock, returns, run_with_mocks, throws

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
ORDER = DEFINITIONS / "order-processing.yaml"
ORDER_INPUT = json.loads((DEFINITIONS / "order-processing.input.json").read_text())

CHARGED = returns({"StatusCode": 200, "Payload": {"chargeId": "c-9"}})


def test_inline_mocks_drive_the_path_and_the_result():
    result = run_with_mocks(ORDER, ORDER_INPUT, mocks={
        "Reserve Stock": mock(returns({"reservation": "r-1"})),
        "Charge Card": mock(throws("Lambda.ServiceException", "down"), CHARGED)})
    assert result.status == "SUCCEEDED" and result.error is None
    assert result.output == {"orderId": "order-1001", "status": "CONFIRMED", "chargeId": "c-9",
                             "message": "Order order-1001 confirmed"}
    result.assert_path("Reserve Stock", "Charge Card", "Confirm")
    assert result.event_types.count("TaskScheduled") == 2  # the retry is a second attempt


def test_a_failed_execution_reports_error_cause_and_history():
    result = run_with_mocks(ORDER, ORDER_INPUT, mocks={
        "Reserve Stock": mock(throws("OutOfStock", "no caviar"))})
    assert (result.status, result.error, result.cause) == ("FAILED", "OutOfStock", "no caviar")
    assert result.output is None
    assert result.history[0]["type"] == "ExecutionStarted" and result.history[-1]["type"] == "ExecutionFailed"
    assert result.history[-1]["id"] == len(result.history)


def test_assert_path_explains_a_wrong_path():
    result = run_with_mocks(ORDER, ORDER_INPUT, mocks={
        "Reserve Stock": mock(returns({"reservation": "r"})),
        "Charge Card": mock(throws("PaymentDeclined", "limit"))})
    with pytest.raises(AssertionError, match=r"entered \['Reserve Stock', 'Charge Card', 'Release Stock'"):
        result.assert_path("Reserve Stock", "Charge Card", "Confirm")


def test_a_mock_file_and_test_case_as_the_cli_takes_them():
    result = run_with_mocks(ORDER, ORDER_INPUT, mock_config=DEFINITIONS / "order-processing.mocks.json",
                            test_case="DeclinedPath")
    assert result.status == "FAILED" and result.error == "PaymentDeclined"
    assert result.states_entered[-2:] == ["Release Stock", "Payment Declined"]


@task("testing-kit-double")
def double(event, context):
    return {"value": event["value"] * 2}


def test_unmocked_states_call_registered_handlers_and_definitions_can_be_dicts():
    definition = {"StartAt": "Double", "States": {
        "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:testing-kit-double",
                   "Next": "Mocked"},
        "Mocked": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "ResultPath": "$.sent",
                   "Parameters": {"QueueUrl": "https://sqs.example/q", "MessageBody.$": "$"}, "End": True}}}
    result = run_with_mocks(definition, {"value": 21},
                            mocks={"Mocked": mock(returns({"MessageId": "m-1"}))})
    assert result.output == {"value": 42, "sent": {"MessageId": "m-1"}}


def test_mock_config_as_a_dict_uses_the_name_given():
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                                                   "End": True}}}
    config = {"StateMachines": {"notifier": {"TestCases": {"Ok": {"T": "Published"}}}},
              "MockedResponses": {"Published": {"0": {"Return": {"MessageId": "x"}}}}}
    assert run_with_mocks(definition, mock_config=config, test_case="Ok", name="notifier").output == {"MessageId": "x"}
    with pytest.raises(errors.MockConfigError, match="no state machine named 'state-machine'"):
        run_with_mocks(definition, mock_config=config, test_case="Ok")


def test_bad_mocks_and_bad_definitions_raise_before_running():
    with pytest.raises(errors.MockConfigError, match="no state named 'Charge Crad'"):
        run_with_mocks(ORDER, ORDER_INPUT, mocks={"Charge Crad": mock(CHARGED)})
    with pytest.raises(errors.DefinitionError, match="Nowhere"):
        run_with_mocks({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    with pytest.raises(ValueError):
        mock()


def test_express_sync_executions_are_mocked_too():
    # StartSyncExecution runs in memory, past the executor: the Engine hands it the same mocks
    from engine.runtime import mocks as mocking
    from engine.service import Engine
    from engine.settings import MEMORY_DB, from_environment

    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                                                   "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1}],
                                                   "End": True}}}
    config = mocking.parse_config({"StateMachines": {"fast": {"TestCases": {"Ok": {"T": "R"}}}},
                                   "MockedResponses": {"R": mock(throws("Busy"), returns({"MessageId": "m"}))}})
    session = mocking.Session(mocking.bind(config, "fast", "Ok", definition))
    settings = from_environment().with_flags(db_url=MEMORY_DB, skip_waits=True)
    with Engine(settings=settings, mocks=session) as engine:
        arn = engine.create_state_machine("fast", json.dumps(definition), "arn:aws:iam::123456789012:role/r",
                                          type="EXPRESS")["stateMachineArn"]
        answer = engine.start_sync_execution(arn, input="{}")
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == {"MessageId": "m"}


def test_waiting_tasks_are_answered_by_their_mock_without_a_token():
    definition = {"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "approver", "Payload": {"token.$": "$$.Task.Token"}},
                "Next": "Child"},
        "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
                  "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:c"},
                  "ResultPath": "$.child", "End": True}}}
    execution = run_with_mocks(definition, {}, mocks={"Ask": mock(returns({"approved": True})),
                                                      "Child": mock(returns({"Status": "SUCCEEDED"}))})
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"approved": True, "child": {"Status": "SUCCEEDED"}}
    assert "TaskSubmitted" not in execution.event_types
