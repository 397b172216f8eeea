"""Mocked task responses in the format of AWS Step Functions Local's mock configuration file.

The file (JSON or YAML) names, per state machine and test case, a mocked response for Task states;
each mocked response answers invocation 0, 1, 2, ... of its state with ``Return`` (the task's
result, as the service would return it: for ``lambda:invoke`` the whole object, ``Payload``
included) or ``Throw`` (the task fails with ``Error`` and ``Cause``)::

    {"StateMachines": {"order-processing": {"TestCases": {"Declined": {"Charge Card": "Declined"}}}},
     "MockedResponses": {"Declined": {"0": {"Throw": {"Error": "PaymentDeclined", "Cause": "..."}}}}}

What AWS documents, and what this module therefore does:

- keys are invocation numbers (``"0"``) or inclusive ranges (``"1-2"``); together they must cover
  0, 1, 2, ... without a gap or an overlap;
- every attempt consumes the next invocation number: a Retry's attempts, a state entered again in
  a loop, and each Map iteration's run of the state (AWS's note on Map: the order is only
  predictable with MaxConcurrency 1; here iterations are started in index order, so the numbering
  is deterministic whatever MaxConcurrency says);
- "you must specify a mocked response for every invocation; if you do not, the execution will
  fail": an invocation past the last one fails the task with ``States.Runtime``, which Retry and
  Catch on ``States.ALL`` do not match, so the execution fails and the cause says why;
- a state the test case does not name runs for real (here: its Python handler).

Parsing and answering are pure (``parse``, ``bind``, ``answer``); ``load`` reads a file and
``Session`` is the one mutable piece: it numbers each state's invocations per execution.
"""
from __future__ import annotations

import copy
import difflib
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from engine.asl import failures, parse
from engine.errors import MockConfigError

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
TOP_LEVEL = ("StateMachines", "MockedResponses")


# --- the configuration as immutable values ---------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """What invocations ``first``..``last`` (inclusive) of a mocked state get."""

    first: int
    last: int
    returns: Any = None  # the task's result, when ``error`` is None
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class MockConfig:
    """A parsed mock configuration file: every reference in it resolves."""

    # state machine name -> test case name -> state name -> mocked response name
    state_machines: Mapping[str, Mapping[str, Mapping[str, str]]]
    # mocked response name -> its answers, in invocation order
    responses: Mapping[str, tuple[Answer, ...]]
    # JSON pointer -> source line, when loaded from a file: for errors found later (bind)
    lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class MockedTestCase:
    """One test case bound to one state machine: state name -> (response name, answers)."""

    state_machine: str
    name: str
    states: Mapping[str, tuple[str, tuple[Answer, ...]]]


# --- parsing (pure) ---------------------------------------------------------------------------------
def parse_config(document: Any) -> MockConfig:
    """Check a loaded mock configuration document; raise :class:`MockConfigError` at the first problem."""
    _object(document, ())
    for key in document:
        if key not in TOP_LEVEL:
            hint = " (did you mean MockedResponses?)" if key == "MockedResponse" else ""
            raise _error((key,), f"unknown field{hint}; a mock configuration has {' and '.join(TOP_LEVEL)}")
    responses = {name: _answers(body, ("MockedResponses", name))
                 for name, body in _object(document.get("MockedResponses", {}), ("MockedResponses",)).items()}
    machines = {name: _test_cases(body, ("StateMachines", name), responses)
                for name, body in _object(document.get("StateMachines", {}), ("StateMachines",)).items()}
    return MockConfig(_frozen(machines), _frozen(responses))


def _test_cases(body: Any, where: tuple, responses: Mapping) -> Mapping:
    _object(body, where)
    extra = [key for key in body if key != "TestCases"]
    if extra or "TestCases" not in body:
        raise _error(where + tuple(extra[:1]), "a state machine's entry has exactly one field, TestCases")
    cases = {}
    for case, states in _object(body["TestCases"], where + ("TestCases",)).items():
        for state, response in _object(states, where + ("TestCases", case)).items():
            at = where + ("TestCases", case, state)
            if not isinstance(response, str):
                raise _error(at, f"must be the name of a mocked response (a string), not {_kind(response)}")
            if response not in responses:
                known = ", ".join(sorted(responses)) or "none"
                raise _error(at, f"no mocked response named '{response}' in MockedResponses (defined: {known})")
        cases[case] = MappingProxyType(dict(states))
    return MappingProxyType(cases)


def _answers(body: Any, where: tuple) -> tuple[Answer, ...]:
    body = {str(key): value for key, value in _object(body, where).items()}  # a dict built in Python may say 0
    if not body:
        raise _error(where, "a mocked response needs at least one invocation, e.g. \"0\": {\"Return\": {}}")
    keyed = sorted(((_answer(key, value, where + (key,)), key) for key, value in body.items()),
                   key=lambda pair: pair[0].first)
    expected = 0
    for answer, key in keyed:
        if answer.first != expected:
            problem = "overlaps the invocations before it" if answer.first < expected else \
                f"leaves invocation {expected} without a response"
            raise _error(where + (key,), f"{problem}: invocations must be numbered 0, 1, 2, ... "
                                         f"with no gap and no overlap")
        expected = answer.last + 1
    return tuple(answer for answer, _ in keyed)


def _answer(key: str, value: Any, where: tuple) -> Answer:
    first, last = _range(key, where)
    _object(value, where)
    if len(value) != 1 or next(iter(value)) not in ("Return", "Throw"):
        raise _error(where, f"must have exactly one field, Return or Throw (found: {', '.join(value) or 'none'})")
    if "Return" in value:
        return Answer(first, last, returns=value["Return"])
    throw = _object(value["Throw"], where + ("Throw",))
    for name in throw:
        if name not in ("Error", "Cause"):
            raise _error(where + ("Throw", name), "unknown field; Throw has Error and Cause")
    error, cause = throw.get("Error"), throw.get("Cause")
    if not isinstance(error, str) or not error:
        raise _error(where + ("Throw", "Error"), "Throw needs an Error: a non-empty string")
    if cause is not None and not isinstance(cause, str):
        raise _error(where + ("Throw", "Cause"), f"must be a string, not {_kind(cause)}")
    return Answer(first, last, error=error, cause=cause)


def _range(key: str, where: tuple) -> tuple[int, int]:
    found = _RANGE.match(key)
    if not found:
        raise _error(where, "an invocation key is a number (\"0\") or an inclusive range (\"1-2\")")
    first = int(found[1])
    last = int(found[2]) if found[2] is not None else first
    if last < first:
        raise _error(where, f"the range ends ({last}) before it starts ({first})")
    return first, last


# --- binding a test case to a definition (pure) -----------------------------------------------------
def bind(config: MockConfig, state_machine: str, test_case: str, definition: dict) -> MockedTestCase:
    """The named test case, checked against the definition it will run on."""
    cases = config.state_machines.get(state_machine)
    if cases is None:
        known = ", ".join(sorted(config.state_machines)) or "none"
        raise _error(("StateMachines",), f"no state machine named '{state_machine}' (defined: {known}); "
                                         f"the name is the definition file's name without its extension")
    states = cases.get(test_case)
    if states is None:
        known = ", ".join(sorted(cases)) or "none"
        raise _error(("StateMachines", state_machine, "TestCases"),
                     f"no test case named '{test_case}' (defined: {known})")
    types = state_types(definition)
    for state in states:
        at = ("StateMachines", state_machine, "TestCases", test_case, state)
        if state not in types:
            close = difflib.get_close_matches(state, list(types), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise _error(at, f"the definition has no state named '{state}'{hint}")
        if types[state] != "Task":
            raise _error(at, f"'{state}' is a {types[state]} state; only Task states can be mocked")
    bound = {state: (response, config.responses[response]) for state, response in states.items()}
    return MockedTestCase(state_machine, test_case, MappingProxyType(bound))


def state_types(definition: Any) -> dict[str, str]:
    """Every state of a definition, nested ones included: name -> Type."""
    found: dict[str, str] = {}
    for name, state in (definition or {}).get("States", {}).items():
        found[name] = state.get("Type", "")
        for sub in state.get("Branches", []) + [state.get("ItemProcessor") or state.get("Iterator")]:
            if isinstance(sub, dict):
                found.update(state_types(sub))
    return found


# --- answering (pure) -------------------------------------------------------------------------------
def answer(case: MockedTestCase, command: dict, attempt: int) -> dict | None:
    """The task_result message for invocation ``attempt`` (0-based) of the command's state.

    None when the test case does not mock that state: it runs for real.
    """
    mocked = case.states.get(command.get("state", ""))
    if mocked is None:
        return None
    # "direct": the answer of a .waitForTaskToken or .sync task, without waiting for a submission
    reply = {"kind": "task_result", "path": command["path"], "invocation": command["invocation"],
             "direct": True}
    found = next((a for a in mocked[1] if a.first <= attempt <= a.last), None)
    if found is None:
        reply["error"], reply["cause"] = failures.RUNTIME, _exhausted(case, command["state"], mocked, attempt)
    elif found.error is not None:
        reply["error"], reply["cause"] = found.error, found.cause
    else:
        reply["output"] = copy.deepcopy(found.returns)  # each invocation gets its own value to change
    return reply


def _exhausted(case: MockedTestCase, state: str, mocked: tuple, attempt: int) -> str:
    response, answers = mocked
    return (f"The mocked response '{response}' of test case '{case.name}' has no answer for invocation "
            f"{attempt} of state '{state}' (it answers invocations 0-{answers[-1].last}); a mocked task "
            f"must have a response for every invocation")


# --- the I/O edge -----------------------------------------------------------------------------------
def load(path: str | Path) -> MockConfig:
    """Read and check a mock configuration file (JSON, or YAML); errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise MockConfigError(f"cannot read the mock configuration: {reason}", file=str(path)) from None
    if not text.strip():
        raise MockConfigError("the mock configuration is empty", file=str(path))
    try:
        loaded = parse.load_text(text, str(path))
    except parse.DefinitionSyntaxError as error:
        raise MockConfigError(f"{error.problem} (column {error.column})", file=str(path),
                              line=error.line) from None
    try:
        config = parse_config(loaded.document)
    except MockConfigError as error:
        raise _located(error, str(path), loaded.lines) from None
    return replace(config, lines=MappingProxyType(dict(loaded.lines)))


class Session:
    """A test case in use: numbers each mocked state's invocations per execution (thread-safe).

    The number is taken when the executor dispatches the command, in the order the interpreter
    issued the commands, so it is deterministic; the same command dispatched again (a lost answer
    re-requested) gets the same number rather than consuming a new one.
    """

    def __init__(self, case: MockedTestCase):
        self.case = case
        self._lock = threading.Lock()
        self._next: dict[tuple[str, str], int] = {}  # (execution, state) -> next invocation number
        self._taken: dict[tuple[str, str, int], int] = {}  # (execution, path, invocation) -> number

    def reply(self, execution_arn: str, command: dict) -> dict | None:
        """The mocked answer to ``command``, or None when it must be carried out for real."""
        if not self._applies(command):
            return None
        key = (execution_arn, str(command["path"]), command["invocation"])
        with self._lock:
            attempt = self._taken.get(key)
            if attempt is None:
                counter = (execution_arn, command["state"])
                attempt = self._taken[key] = self._next.get(counter, 0)
                self._next[counter] = attempt + 1
        return answer(self.case, command, attempt)

    def split(self, execution_arn: str, commands: list[dict]) -> tuple[list[dict], list[dict]]:
        """(mocked answers, commands to carry out for real), numbering in the commands' order."""
        replies, real = [], []
        for command in commands:
            reply = self.reply(execution_arn, command)
            if reply is None:
                real.append(command)
            else:
                replies.append(reply)
        return replies, real

    def _applies(self, command: dict) -> bool:
        # only Task commands of the test case's own state machine (not, say, a nested execution's)
        machine = ((command.get("context") or {}).get("StateMachine") or {}).get("Name")
        return "resource" in command and machine in (None, self.case.state_machine) \
            and command.get("state") in self.case.states


def from_file(path: str | Path, state_machine: str, test_case: str, definition: dict) -> Session:
    """Load ``path``, bind ``test_case`` of ``state_machine`` to ``definition``: ready for an Engine."""
    config = load(path)
    try:
        return Session(bind(config, state_machine, test_case, definition))
    except MockConfigError as error:
        raise _located(error, str(path), config.lines) from None


# --- helpers ----------------------------------------------------------------------------------------
def _object(value: Any, where: tuple) -> dict:
    if not isinstance(value, dict):
        raise _error(where, f"must be an object, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(dict(mapping))


def json_path(parts: tuple) -> str:
    """``$.MockedResponses['Charge fails']['1-2']``: where in the file a problem is."""
    text = "$"
    for part in map(str, parts):
        text += f".{part}" if _IDENTIFIER.match(part) else "['" + part.replace("'", "\\'") + "']"
    return text


def _error(parts: tuple, message: str) -> MockConfigError:
    return MockConfigError(message, path=json_path(parts), parts=parts)


def _located(error: MockConfigError, file: str, lines: Mapping[str, int]) -> MockConfigError:
    return MockConfigError(error.problem, file=file, line=lines.get(parse.pointer(error.parts)),
                           path=error.path, parts=error.parts)
