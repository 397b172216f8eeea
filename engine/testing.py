"""The public test kit: run a state machine in this process, with mocked tasks, and look at the result.

    from engine.testing import mock, returns, run_with_mocks, throws

    ORDER = {"orderId": "o-1", "amount": 20, "cardLimit": 10}

    def test_a_declined_card_releases_the_stock():
        result = run_with_mocks(
            "definitions/order-processing.yaml", ORDER,
            mocks={"Reserve Stock": mock(returns({"reservation": "r-1"})),
                   "Charge Card": mock(throws("PaymentDeclined", "over the limit"))})
        assert result.status == "FAILED" and result.error == "PaymentDeclined"
        result.assert_path("Reserve Stock", "Charge Card", "Release Stock", "Payment Declined")

Mocks come either from an AWS Step Functions Local mock configuration (``mock_config=`` a file, or
its content as a dict, with ``test_case=``), or inline (``mocks=`` state name -> mocked response,
which :func:`mock` builds). Either way they go through the same checks as
``stepstone run --mock-config``: see :mod:`engine.runtime.mocks` for the rules. States that are not
mocked run their registered Python handlers (``handlers=`` modules, as ``--handlers`` takes).

Each call runs on its own throw-away in-memory database, with Wait states and retry back-offs in
virtual time (``skip_waits``), driven in the calling thread: no server and no threads to clean up.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from engine import errors
from engine.asl import parse, validate
from engine.runtime import mocks as mocking
from engine.settings import MEMORY_DB, from_environment

DEFAULT_NAME = "state-machine"
INLINE_CASE = "inline"
ROLE = "arn:aws:iam::{account}:role/stepstone-test"

__all__ = ["Execution", "mock", "returns", "throws", "run_with_mocks"]


# --- building mocked responses ------------------------------------------------------------------
def returns(value: Any) -> dict:
    """One invocation's answer: the task succeeds with ``value`` (lambda:invoke: the whole result)."""
    return {"Return": value}


def throws(error: str, cause: str | None = None) -> dict:
    """One invocation's answer: the task fails with ``error`` and ``cause``."""
    return {"Throw": {"Error": error} if cause is None else {"Error": error, "Cause": cause}}


def mock(*answers: dict) -> dict:
    """A mocked response: the n-th answer is for the n-th invocation (``{"0": ..., "1": ...}``)."""
    if not answers:
        raise ValueError("mock() needs at least one answer: returns(...) or throws(...)")
    return {str(index): answer for index, answer in enumerate(answers)}


# --- the result ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Execution:
    """How an execution ended, and its history as GetExecutionHistory returns it."""

    execution_arn: str
    status: str  # SUCCEEDED, FAILED, TIMED_OUT, ABORTED (RUNNING if it outlived the timeout)
    output: Any = None  # the output as a value (not JSON text), when SUCCEEDED
    error: str | None = None
    cause: str | None = None
    history: list[dict] = field(default_factory=list)

    @property
    def states_entered(self) -> list[str]:
        """The names of the states entered, in history order (Map iterations and branches included)."""
        return [event["stateEnteredEventDetails"]["name"] for event in self.history
                if "stateEnteredEventDetails" in event]

    @property
    def event_types(self) -> list[str]:
        return [event["type"] for event in self.history]

    def assert_path(self, *names: str) -> None:
        """Fail (AssertionError) unless exactly these states were entered, in this order."""
        entered = self.states_entered
        if entered != list(names):
            raise AssertionError(f"the execution entered {entered}, expected {list(names)}")


# --- running ------------------------------------------------------------------------------------
def run_with_mocks(definition: Mapping | str | Path, input: Any = None, *,
                   mock_config: Mapping | str | Path | None = None, test_case: str | None = None,
                   mocks: Mapping[str, Mapping] | None = None, handlers: Sequence[str] = (),
                   name: str | None = None, skip_waits: bool = True, timeout: float = 60.0) -> Execution:
    """Run ``definition`` (a dict, a JSON/YAML file path, or JSON/YAML text) on ``input`` to its end.

    ``name`` is the state machine's name, which ``mock_config``'s StateMachines is looked up by:
    by default the file's name without its extension (as ``stepstone run`` names it), else
    ``state-machine``. Raises :class:`engine.errors.DefinitionError` for an invalid definition and
    :class:`engine.errors.MockConfigError` for unusable mocks.
    """
    from engine.service import Engine  # the facade imports the runtime: keep this module light

    document, default_name = _definition(definition)
    name = name or default_name
    session = _session(document, name, mock_config, test_case, mocks)
    settings = from_environment().with_flags(db_url=MEMORY_DB, handlers=tuple(handlers),
                                             skip_waits=skip_waits)
    with Engine(settings=settings, mocks=session) as engine:
        arn = engine.create_state_machine(name, json.dumps(document),
                                          ROLE.format(account=settings.account))["stateMachineArn"]
        started = engine.start_execution(arn, input=json.dumps({} if input is None else input))
        described = engine.wait(started["executionArn"], timeout=timeout)
        return Execution(
            execution_arn=started["executionArn"], status=described["status"],
            output=json.loads(described["output"]) if "output" in described else None,
            error=described.get("error"), cause=described.get("cause"),
            history=_history(engine, started["executionArn"]))


def _definition(definition: Mapping | str | Path) -> tuple[dict, str]:
    """(the checked document, the default state machine name)."""
    name = DEFAULT_NAME
    if isinstance(definition, Mapping):
        document, lines = dict(definition), {}
    elif isinstance(definition, Path) or (isinstance(definition, str) and _is_file(definition)):
        loaded, name = parse.load_file(definition), _machine_name(Path(definition).stem)
        document, lines = loaded.document, loaded.lines
    else:
        loaded = parse.load_text(str(definition))
        document, lines = loaded.document, loaded.lines
    problems = [p for p in validate.validate(document, "STANDARD", lines) if p.severity == "ERROR"]
    if problems:
        raise errors.DefinitionError("\n".join(validate.format_for_cli("definition", problems)), problems)
    return document, name


def _session(document: dict, name: str, mock_config, test_case: str | None,
             inline: Mapping | None) -> mocking.Session | None:
    if inline is not None:
        if mock_config is not None or test_case is not None:
            raise ValueError("give mocks= or mock_config= with test_case=, not both")
        mock_config = {"StateMachines": {name: {"TestCases": {INLINE_CASE: {s: s for s in inline}}}},
                       "MockedResponses": dict(inline)}
        test_case = INLINE_CASE
    if mock_config is None and test_case is None:
        return None
    if mock_config is None or test_case is None:
        raise ValueError("mock_config= and test_case= go together")
    if isinstance(mock_config, (str, Path)):
        return mocking.from_file(mock_config, name, test_case, document)
    config = mock_config if isinstance(mock_config, mocking.MockConfig) else mocking.parse_config(mock_config)
    return mocking.Session(mocking.bind(config, name, test_case, document))


def _history(engine, execution_arn: str) -> list[dict]:
    events, token = [], None
    while True:
        page = engine.get_execution_history(execution_arn, max_results=1000, next_token=token)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def _is_file(text: str) -> bool:
    # definition text is never a one-line path to an existing file, and vice versa
    return "\n" not in text and not text.lstrip().startswith("{") and Path(text).is_file()


def _machine_name(stem: str) -> str:
    # the same rule as ``stepstone run`` (cli._machine_name), so one mock file serves both
    return re.sub(r"[^A-Za-z0-9_-]", "-", stem)[:80] or DEFAULT_NAME
