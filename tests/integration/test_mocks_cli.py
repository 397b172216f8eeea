"""``stepstone run --mock-config FILE --test-case NAME``: AWS Step Functions Local's mock files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "definitions"
ORDER = DEFINITIONS / "order-processing.yaml"
ORDER_MOCKS = DEFINITIONS / "order-processing.mocks.json"
ORDER_INPUT = f"@{DEFINITIONS / 'order-processing.input.json'}"
TEST_HANDLERS = Path(__file__).resolve().parent / "handlers_for_tests.py"


def stepstone(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def run_order(case: str, *extra: str) -> subprocess.CompletedProcess:
    return stepstone("run", str(ORDER), "--input", ORDER_INPUT, "--mock-config", str(ORDER_MOCKS),
                     "--test-case", case, "--skip-waits", *extra)


def history(db: str) -> list[dict]:
    [execution] = json.loads(stepstone("executions", "order-processing", "--db", db, "--json").stdout)
    return json.loads(stepstone("history", execution["executionArn"], "--db", db, "--json").stdout)


def write(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document, indent=2))
    return path


def test_return_answers_every_task_without_handlers():
    # Given no --handlers at all, only the mocks can answer the two tasks
    result = run_order("HappyPath")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"orderId": "order-1001", "status": "CONFIRMED",
                                         "chargeId": "mock-charge-1", "message": "Order order-1001 confirmed"}


def test_throw_then_retry_consumes_the_next_invocation(tmp_path):
    db = f"sqlite:///{tmp_path / 'retry.db'}"
    result = run_order("RetryPath", "--db", db)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["chargeId"] == "mock-charge-2"  # invocation 2's Return
    # Reserve Stock is a bare Lambda ARN (LambdaFunction* events): the Task* events are Charge Card's
    charge = [e for e in history(db) if e["type"] in ("TaskFailed", "TaskSucceeded")]
    assert [e["type"] for e in charge] == ["TaskFailed", "TaskFailed", "TaskSucceeded"]
    failed = charge[0]["taskFailedEventDetails"]
    assert failed["error"] == "Lambda.ServiceException" and failed["cause"] == "The payment gateway is unavailable"


def test_catch_on_a_thrown_error_takes_the_compensation_path(tmp_path):
    db = f"sqlite:///{tmp_path / 'declined.db'}"
    result = run_order("DeclinedPath", "--db", db)
    assert result.returncode == 1
    assert "FAILED: PaymentDeclined: The card was declined" in result.stderr
    entered = [e["stateEnteredEventDetails"]["name"] for e in history(db) if "stateEnteredEventDetails" in e]
    assert entered == ["Reserve Stock", "Charge Card", "Release Stock", "Payment Declined"]


def test_unmocked_states_run_their_real_handlers(tmp_path):
    definition = write(tmp_path / "hybrid.json", {"StartAt": "Echo", "States": {
        "Echo": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
                 "ResultPath": "$.echoed", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                   "Parameters": {"FunctionName": "boom"}, "ResultSelector": {"id.$": "$.Payload.id"},
                   "ResultPath": "$.charge", "End": True}}})
    config = write(tmp_path / "mocks.json", {
        "StateMachines": {"hybrid": {"TestCases": {"OnlyCharge": {"Charge": "Charged"}}}},
        "MockedResponses": {"Charged": {"0": {"Return": {"StatusCode": 200, "Payload": {"id": "c-1"}}}}}})
    result = stepstone("run", str(definition), "--input", '{"n": 1}', "--handlers", str(TEST_HANDLERS),
                       "--mock-config", str(config), "--test-case", "OnlyCharge")
    assert result.returncode == 0, result.stderr
    # Echo ran the real handler (its result is the input); Charge's real handler would have raised
    assert json.loads(result.stdout) == {"n": 1, "echoed": {"n": 1}, "charge": {"id": "c-1"}}


def test_map_iterations_consume_invocations_in_index_order(tmp_path):
    config = write(tmp_path / "mocks.json", {
        "StateMachines": {"line-items-map": {"TestCases": {"Priced": {"Price Line": "Prices"}}}},
        "MockedResponses": {"Prices": {str(n): {"Return": {"total": n * 10}} for n in range(3)}}})
    result = stepstone("run", str(DEFINITIONS / "line-items-map.json"),
                       "--input", f"@{DEFINITIONS / 'line-items-map.input.json'}",
                       "--mock-config", str(config), "--test-case", "Priced")
    assert result.returncode == 0, result.stderr
    assert [line["total"] for line in json.loads(result.stdout)["lines"]] == [0, 10, 20]


def test_an_invocation_past_the_last_response_fails_the_execution(tmp_path):
    definition = write(tmp_path / "retrying.json", {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "x"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 5, "IntervalSeconds": 1}], "End": True}}})
    config = write(tmp_path / "mocks.json", {
        "StateMachines": {"retrying": {"TestCases": {"TwoFailures": {"Call": "Fails"}}}},
        "MockedResponses": {"Fails": {"0-1": {"Throw": {"Error": "Transient", "Cause": "try again"}}}}})
    result = stepstone("run", str(definition), "--mock-config", str(config), "--test-case", "TwoFailures",
                       "--skip-waits")
    assert result.returncode == 1
    # States.ALL does not retry States.Runtime: the third attempt ends the execution
    assert "FAILED: States.Runtime:" in result.stderr
    assert "no answer for invocation 2 of state 'Call'" in result.stderr


def test_usage_errors_name_the_file_and_the_problem(tmp_path):
    assert "no test case named 'Nope' (defined: DeclinedPath, HappyPath" in run_order("Nope").stderr
    bad_state = write(tmp_path / "state.json", {
        "StateMachines": {"order-processing": {"TestCases": {"T": {"Charge Crad": "R"}}}},
        "MockedResponses": {"R": {"0": {"Return": {}}}}})
    missing_response = write(tmp_path / "response.json", {
        "StateMachines": {"order-processing": {"TestCases": {"T": {"Charge Card": "Missing"}}}},
        "MockedResponses": {"R": {"0": {"Return": {}}}}})
    other_machine = write(tmp_path / "machine.json", {"StateMachines": {"other": {"TestCases": {}}}})
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"MockedResponses": {"R": {"0": {"Retrun": {}}}}}')
    cases = {
        bad_state: f"{bad_state}:6: $.StateMachines['order-processing'].TestCases.T['Charge Crad']: "
                   f"the definition has no state named 'Charge Crad' (did you mean 'Charge Card'?)",
        missing_response: "no mocked response named 'Missing' in MockedResponses (defined: R)",
        other_machine: "no state machine named 'order-processing' (defined: other)",
        malformed: f"{malformed}:1: $.MockedResponses.R['0']: must have exactly one field, Return or Throw",
    }
    for path, message in cases.items():
        result = stepstone("run", str(ORDER), "--mock-config", str(path), "--test-case", "T")
        assert result.returncode == 2, result.stderr
        assert message in result.stderr
    alone = stepstone("run", str(ORDER), "--mock-config", str(ORDER_MOCKS))
    assert alone.returncode == 2 and "--mock-config FILE and --test-case NAME go together" in alone.stderr
