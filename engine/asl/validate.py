"""Validate an Amazon States Language definition: every problem at once, each with its place.

Two passes, both collecting instead of stopping at the first problem:

1. **Structure** against ``schema.json`` (JSON Schema 2020-12, shipped in the package): field
   names per state type, value types and ranges. An unknown field is AWS's
   ``SCHEMA_VALIDATION_FAILED: Field 'X' is not supported``.
2. **Meaning**, below: transition targets in their own scope, reachability, terminal states,
   Next/End, Choice rules, Retry/Catch ordering, JSONPath and intrinsic syntax, the fields each
   query language allows, and what an EXPRESS machine may not call.

Diagnostics carry AWS's codes (``SCHEMA_VALIDATION_FAILED``, ``MISSING_TRANSITION_TARGET``,
``MISSING_END_STATE``, ``DUPLICATE_STATE_NAME`` ...), a JSON path into the definition and, when
the caller passes the ``lines`` of :func:`engine.asl.parse.load_text`, a source line. They come
back in definition order. :func:`invalid_definition_message`, :func:`validation_result` and
:func:`format_for_cli` render them for CreateStateMachine, ValidateStateMachineDefinition and
``stepstone validate``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Iterator

import jsonschema

from engine.asl import intrinsics, jsonata, jsonpath, timestamps, validate_jsonata
from engine.asl.parse import DefinitionSyntaxError, load_text, pointer as _pointer

__all__ = [
    "Diagnostic",
    "validate",
    "invalid_definition_message",
    "format_for_cli",
    "validation_result",
]

SCHEMA_VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED"
MISSING_TRANSITION_TARGET = "MISSING_TRANSITION_TARGET"
MISSING_END_STATE = "MISSING_END_STATE"
DUPLICATE_STATE_NAME = "DUPLICATE_STATE_NAME"
INVALID_STATE_NAME = "INVALID_STATE_NAME"
INVALID_RESOURCE = "INVALID_RESOURCE"
INVALID_JSON_DESCRIPTION = "INVALID_JSON_DESCRIPTION"
MISSING_DESCRIPTION = "MISSING_DESCRIPTION"

JSONPATH, JSONATA = "JSONPath", "JSONata"
MAX_STATE_NAME_LENGTH = 80  # characters (AWS quota)

Parts = tuple  # tuple[str | int, ...]: keys and indexes from the definition's root


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a definition."""

    path: str  # JSON path into the definition: "$.States['Check Stock'].Next"
    message: str
    code: str = SCHEMA_VALIDATION_FAILED
    severity: str = "ERROR"
    line: int | None = None

    def pointer(self) -> str:
        """The same place as a JSON pointer: ``"/States/Check Stock/Next"``."""
        return _pointer(_split_path(self.path))


# --- paths ----------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")


def _json_path(parts: Parts) -> str:
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += "." + part
        else:
            text += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return text


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    index = 1 if path.startswith("$") else 0
    while index < len(path):
        match = _PATH_TOKEN.match(path, index)
        if not match:
            raise ValueError(f"not a diagnostic path: {path!r}")
        name, number, quoted = match.groups()
        if number is not None:
            parts.append(int(number))
        else:
            parts.append(name if name is not None else re.sub(r"\\(.)", r"\1", quoted))
        index = match.end()
    return parts


# --- entry points ---------------------------------------------------------------------------


def validate(
    definition: Any, state_machine_type: str = "STANDARD", lines: dict[str, int] | None = None
) -> list[Diagnostic]:
    """Every problem in ``definition`` (a parsed document or its text), in definition order."""
    if isinstance(definition, (str, bytes)):
        text = definition.decode("utf-8", "replace") if isinstance(definition, bytes) else definition
        if not text.strip():
            return [Diagnostic("$", "The definition is empty", MISSING_DESCRIPTION)]
        try:
            loaded = load_text(text)
        except DefinitionSyntaxError as exc:
            where = f" (line {exc.line}, column {exc.column})"
            return [Diagnostic("$", exc.problem + where, INVALID_JSON_DESCRIPTION, line=exc.line)]
        definition, lines = loaded.document, lines if lines is not None else loaded.lines
    if definition is None:
        return [Diagnostic("$", "The definition is empty", MISSING_DESCRIPTION)]
    if not isinstance(definition, dict):
        return [Diagnostic("$", f"The definition must be a JSON object, not {_type_name(definition)}")]
    checker = _Checker(definition, state_machine_type or "STANDARD")
    found = list(_schema_problems(definition)) + checker.run()
    return _arrange(definition, found, lines or {})


def invalid_definition_message(diagnostics: Iterable[Diagnostic]) -> str:
    """AWS's CreateStateMachine ``InvalidDefinition`` message for these diagnostics."""
    items = [
        f"{d.code}: {d.message} at {d.pointer() or 'null'}" for d in diagnostics if d.severity == "ERROR"
    ]
    return "Invalid State Machine Definition: '" + ", ".join(items) + "'"


def format_for_cli(filename: str, diagnostics: Iterable[Diagnostic]) -> list[str]:
    """``FILE:LINE: <json-path>: <message>`` per diagnostic (``:LINE`` only when known)."""
    return [
        f"{filename}{'' if d.line is None else f':{d.line}'}: {d.path}: {d.message}" for d in diagnostics
    ]


def validation_result(diagnostics: Iterable[Diagnostic]) -> dict:
    """The ValidateStateMachineDefinition response for these diagnostics."""
    diagnostics = list(diagnostics)
    items = []
    for d in diagnostics:
        item = {"severity": d.severity, "code": d.code, "message": d.message}
        if d.pointer():
            item["location"] = d.pointer()
        items.append(item)
    failed = any(d.severity == "ERROR" for d in diagnostics)
    return {"result": "FAIL" if failed else "OK", "diagnostics": items, "truncated": False}


def _arrange(definition: Any, found: list[tuple[Parts, str, str]], lines: dict[str, int]) -> list[Diagnostic]:
    """Deduplicate, order by position in the definition, attach lines."""
    order: dict[Parts, int] = {}
    _number(definition, (), order)
    unique = list(dict.fromkeys(found))
    unique.sort(key=lambda item: _position(item[0], order))
    return [
        Diagnostic(_json_path(parts), message, code, line=_line_of(parts, lines))
        for parts, message, code in unique
    ]


def _number(value: Any, parts: Parts, order: dict[Parts, int]) -> None:
    order[parts] = len(order)
    if isinstance(value, dict):
        for key, child in value.items():
            _number(child, parts + (key,), order)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _number(child, parts + (index,), order)


def _position(parts: Parts, order: dict[Parts, int]) -> tuple[int, int]:
    for cut in range(len(parts), -1, -1):
        if parts[:cut] in order:
            return order[parts[:cut]], len(parts) - cut
    return 0, len(parts)


def _line_of(parts: Parts, lines: dict[str, int]) -> int | None:
    for cut in range(len(parts), -1, -1):
        line = lines.get(_pointer(parts[:cut]))
        if line is not None:
            return line
    return None


# --- pass 1: structure (schema.json) --------------------------------------------------------


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    text = resources.files("engine.asl").joinpath("schema.json").read_text(encoding="utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def _schema_problems(definition: dict) -> Iterator[tuple[Parts, str, str]]:
    for error in _validator().iter_errors(definition):
        for parts, message in _explain(error):
            yield parts, message, SCHEMA_VALIDATION_FAILED


def _explain(error: jsonschema.ValidationError) -> Iterator[tuple[Parts, str]]:
    """AWS-style messages for one schema error (several for several unknown fields)."""
    parts, kind = tuple(error.absolute_path), error.validator
    value, instance = error.validator_value, error.instance
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        for name in instance:
            if name not in known:
                yield parts + (name,), f"Field '{name}' is not supported"
    elif kind == "required":
        for name in value:
            if name not in instance:
                yield parts, f"The field '{name}' is required but was missing"
    elif kind == "anyOf":
        yield from _explain_choice(error)
    else:
        yield parts, _MESSAGES.get(kind, lambda v, i: error.message)(value, instance)


def _explain_choice(error: jsonschema.ValidationError) -> Iterator[tuple[Parts, str]]:
    # a value of the right type that breaks a bound says so; anything else names what fits
    deeper = [sub for sub in error.context if sub.validator not in ("type", "pattern")]
    if deeper:
        yield from _explain(deeper[0])
        return
    wanted = " or ".join(_describe(option) for option in error.validator_value)
    yield tuple(error.absolute_path), f"Expected {wanted}"


def _describe(schema: dict) -> str:
    if schema.get("$ref", "").endswith("/jsonata"):
        return "a JSONata expression ('{% ... %}')"
    return _article(schema.get("type", "value"))


def _article(kind: Any) -> str:
    if isinstance(kind, list):
        return " or ".join(_article(item) for item in kind)
    return ("an " if str(kind)[0] in "aeiou" else "a ") + str(kind)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    names = {float: "a number", str: "a string", list: "an array", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


_MESSAGES = {
    "type": lambda v, i: f"Expected {_article(v)}, got {_type_name(i)}",
    "enum": lambda v, i: f"Value {json.dumps(i)} is not valid; expected one of: {', '.join(map(str, v))}",
    "minimum": lambda v, i: f"Value must be at least {v}",
    "maximum": lambda v, i: f"Value must be at most {v}",
    "minItems": lambda v, i: f"Expected at least {v} item{'s' if v != 1 else ''}",
    "minProperties": lambda v, i: f"Expected at least {v} entr{'ies' if v != 1 else 'y'}",
    "maxLength": lambda v, i: f"Value must be at most {v} characters long",
}


# --- pass 2: meaning ------------------------------------------------------------------------

_NEEDS_TRANSITION = ("Pass", "Task", "Wait", "Parallel", "Map")
_JSONATA_ONLY = frozenset({"Arguments", "Output", "Items", "Condition"})
_JSONPATH_ONLY = frozenset({"Parameters", "ResultSelector", "Variable"})
_REFERENCE_PATHS = (
    "ResultPath", "ItemsPath", "SecondsPath", "TimestampPath", "TimeoutSecondsPath", "HeartbeatSecondsPath",
    "MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath",
)
_NUMERIC_FIELDS = (
    "TimeoutSeconds", "HeartbeatSeconds", "Seconds", "MaxConcurrency",
    "ToleratedFailurePercentage", "ToleratedFailureCount", "MaxItems", "MaxItemsPerBatch",
    "MaxInputBytesPerBatch",
)
_EXCLUSIVE = (
    ("TimeoutSeconds", "TimeoutSecondsPath"), ("HeartbeatSeconds", "HeartbeatSecondsPath"),
    ("Error", "ErrorPath"), ("Cause", "CausePath"), ("MaxConcurrency", "MaxConcurrencyPath"),
    ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
    ("ToleratedFailureCount", "ToleratedFailureCountPath"), ("ItemProcessor", "Iterator"),
    ("ItemSelector", "Parameters"), ("MaxItems", "MaxItemsPath"),
    ("MaxItemsPerBatch", "MaxItemsPerBatchPath"), ("MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"),
)
_WAIT_FIELDS = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")

# Choice operators and the kind of value each compares with
_KINDS = {"String": "string", "Numeric": "number", "Boolean": "boolean", "Timestamp": "timestamp"}
_COMPARISONS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
_OPERATORS: dict[str, str] = {
    f"{prefix}{comparison}": kind
    for prefix, kind in _KINDS.items()
    for comparison in _COMPARISONS
    if prefix != "Boolean" or comparison == "Equals"
}
_OPERATORS["StringMatches"] = "string"
_OPERATORS.update({name + "Path": "path" for name in list(_OPERATORS) if name != "StringMatches"})
_OPERATORS.update(dict.fromkeys(
    ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"), "boolean"
))
_COMPOUND = ("And", "Or", "Not")


def _language_of(value: Any, default: str) -> str:
    return value if value in (JSONPATH, JSONATA) else default


def _is_expression(value: Any) -> bool:
    return jsonata.is_expression(value)  # exactly "{% ... %}": AWS keeps " {% x %} " as a string


class _Checker:
    """The semantic rules. ``run`` returns ``(parts, message, code)`` triples."""

    def __init__(self, definition: dict, machine_type: str):
        self.definition = definition
        self.machine_type = machine_type
        self.language = _language_of(definition.get("QueryLanguage"), JSONPATH)
        self.found: list[tuple[Parts, str, str]] = []
        self.names: set[str] = set()
        self.assigned: list[set[str]] = []  # variables each enclosing scope assigns

    def report(self, parts: Parts, message: str, code: str = SCHEMA_VALIDATION_FAILED) -> None:
        self.found.append((parts, message, code))

    def run(self) -> list[tuple[Parts, str, str]]:
        self.machine(self.definition, ())
        return self.found

    # scopes ---------------------------------------------------------------------------------

    def machine(self, machine: Any, parts: Parts) -> None:
        """One scope: the top level, a Parallel branch or a Map processor."""
        if not isinstance(machine, dict) or not isinstance(machine.get("States"), dict):
            return
        states: dict = machine["States"]
        start = machine.get("StartAt")
        if isinstance(start, str) and start not in states:
            self.report(parts + ("StartAt",), f"Missing 'Next' target: {start}", MISSING_TRANSITION_TARGET)
        outer = set().union(*self.assigned)
        self.assigned.append(validate_jsonata.scope_names(states, self.language_of))
        for name, state in states.items():
            self.state_name(name, parts + ("States", name))
            if isinstance(state, dict):
                self.state(state, parts + ("States", name), states)
                problems = validate_jsonata.name_problems(state, parts + ("States", name),
                                                          self.language_of(state), outer)
                self.found += [(where, message, SCHEMA_VALIDATION_FAILED) for where, message in problems]
        self.assigned.pop()
        self.graph(states, start, parts)

    def language_of(self, state: dict) -> str:
        return _language_of(state.get("QueryLanguage"), self.language)

    def state_name(self, name: str, parts: Parts) -> None:
        if not name or len(name) > MAX_STATE_NAME_LENGTH:
            message = f"State name must be 1 to {MAX_STATE_NAME_LENGTH} characters long"
            self.report(parts, message, INVALID_STATE_NAME)
        if name in self.names:
            self.report(
                parts, f"Duplicate State name: {name} (state names are unique across the whole state machine)",
                DUPLICATE_STATE_NAME,
            )
        self.names.add(name)

    def graph(self, states: dict, start: Any, parts: Parts) -> None:
        """States nothing leads to, and a scope with no terminal state at all."""
        # AWS's rule: a state is reachable when StartAt or some transition names it
        named = {target for state in states.values() for target in _targets(state)}
        named.add(start if isinstance(start, str) else None)
        for name in states:
            if name not in named:
                message = f'State "{name}" is not reachable.'
                self.report(parts + ("States", name), message, MISSING_TRANSITION_TARGET)
        if not any(_is_terminal(state) for state in states.values()):
            self.report(parts, "Workflow has no terminal state", MISSING_END_STATE)

    # states ---------------------------------------------------------------------------------

    def state(self, state: dict, parts: Parts, scope: dict) -> None:
        language = _language_of(state.get("QueryLanguage"), self.language)
        if self.language == JSONATA and state.get("QueryLanguage") == JSONPATH:
            self.report(
                parts + ("QueryLanguage",),
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            )
        self.fields(state, parts, language)
        if language == JSONATA:
            for where, message in validate_jsonata.expressions(state, parts):
                self.report(where, message)
        self.transition(state, parts, scope)
        kind = state.get("Type")
        check = getattr(self, f"state_{kind}", None) if isinstance(kind, str) else None
        if check is not None:
            check(state, parts, language, scope)

    def fields(self, obj: dict, parts: Parts, language: str) -> None:
        """Checks any object with ASL fields shares: language, paths, templates, exclusivity."""
        for name, value in obj.items():
            self.language_field(name, parts + (name,), language)
            if name in _NUMERIC_FIELDS and language == JSONPATH and _is_expression(value):
                message = "JSONata expressions are only supported when the QueryLanguage is 'JSONata'"
                self.report(parts + (name,), message)
        for first, second in _EXCLUSIVE:
            if first in obj and second in obj:
                self.report(parts + (second,), f"Fields '{first}' and '{second}' can not be used together")
        if language != JSONPATH:
            return
        for name in ("InputPath", "OutputPath"):
            if isinstance(obj.get(name), str):
                self.path(obj[name], parts + (name,))
        for name in _REFERENCE_PATHS + ("MaxItemsPath", "MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"):
            if isinstance(obj.get(name), str):
                self.path(obj[name], parts + (name,), reference=name == "ResultPath")
        for name in ("ErrorPath", "CausePath"):
            if isinstance(obj.get(name), str):
                self.path_or_intrinsic(obj[name], parts + (name,))
        for name in ("Parameters", "ResultSelector", "ItemSelector", "Assign", "Credentials", "BatchInput"):
            if name in obj:
                self.template(obj[name], parts + (name,))

    def language_field(self, name: str, parts: Parts, language: str, force: bool = False) -> None:
        jsonpath_only = name in _JSONPATH_ONLY or name.endswith("Path")
        if language == JSONPATH and (force or name in _JSONATA_ONLY):
            other = JSONATA
        elif language == JSONATA and (force or jsonpath_only):
            other = JSONPATH
        else:
            return
        self.report(
            parts,
            f"The QueryLanguage is set to '{language}', but field '{name}' is only supported "
            f"for the '{other}' QueryLanguage",
        )

    def transition(self, state: dict, parts: Parts, scope: dict) -> None:
        if state.get("Type") not in _NEEDS_TRANSITION:
            return  # Choice, Succeed and Fail: the schema refuses Next and End
        has_next, has_end = "Next" in state, state.get("End") is True
        if has_next and has_end:
            self.report(parts + ("Next",), "Fields 'Next' and 'End' can not be used together")
        elif not has_next and "End" in state and not has_end:
            self.report(parts + ("End",), "The value of 'End' must be true (or set 'Next' instead)")
        elif not has_next and not has_end:
            self.report(parts, "Exactly one of the fields 'Next' or 'End' must be set")
        if has_next:
            self.target(state["Next"], parts + ("Next",), scope)

    def target(self, name: Any, parts: Parts, scope: dict) -> None:
        if isinstance(name, str) and name not in scope:
            self.report(parts, f"Missing 'Next' target: {name}", MISSING_TRANSITION_TARGET)

    def state_Task(self, state: dict, parts: Parts, language: str, scope: dict) -> None:
        resource = state.get("Resource")
        if isinstance(resource, str):
            self.resource(resource, parts + ("Resource",))
        timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
        if _is_int(timeout) and _is_int(heartbeat) and heartbeat >= timeout:
            self.report(parts + ("HeartbeatSeconds",), "HeartbeatSeconds must be smaller than TimeoutSeconds")
        credentials = state.get("Credentials")
        if isinstance(credentials, dict) and not {"RoleArn", "RoleArn.$"} & set(credentials):
            self.report(parts + ("Credentials",), "The field 'RoleArn' is required but was missing")
        self.error_handling(state, parts, language, scope)

    def resource(self, resource: str, parts: Parts) -> None:
        if not re.match(r"arn:[\w-]+:[\w-]+:", resource):
            self.report(parts, f"Value is not a valid resource ARN: {resource}", INVALID_RESOURCE)
            return
        if self.machine_type != "EXPRESS":
            return
        if re.search(r"\.sync(:\d+)?$", resource):
            self.report(parts, "Express state machine does not support '.sync' service integration")
        elif resource.endswith(".waitForTaskToken"):
            self.report(parts, "Express state machine does not support '.waitForTaskToken' service integration")
        elif re.match(r"arn:[\w-]+:states:[^:]*:[^:]*:activity:", resource):
            self.report(parts, "Express state machine does not support Activity ARN")

    def state_Wait(self, state: dict, parts: Parts, language: str, scope: dict) -> None:
        present = [name for name in _WAIT_FIELDS if name in state]
        if len(present) != 1:
            where = parts + (present[1],) if present else parts
            names = "', '".join(_WAIT_FIELDS[:-1])
            self.report(where, f"Exactly one of the fields '{names}' or '{_WAIT_FIELDS[-1]}' must be set")
        stamp = state.get("Timestamp")
        if isinstance(stamp, str) and timestamps.parse(stamp) is None and not (
            language == JSONATA and _is_expression(stamp)
        ):
            self.report(parts + ("Timestamp",), f"Value is not a valid timestamp: {stamp}")

    def state_Parallel(self, state: dict, parts: Parts, language: str, scope: dict) -> None:
        branches = state.get("Branches")
        for index, branch in enumerate(branches if isinstance(branches, list) else []):
            self.machine(branch, parts + ("Branches", index))
        self.error_handling(state, parts, language, scope)

    def state_Map(self, state: dict, parts: Parts, language: str, scope: dict) -> None:
        if "ItemProcessor" not in state and "Iterator" not in state:
            self.report(parts, "The field 'ItemProcessor' is required but was missing")
        for name in ("ItemProcessor", "Iterator"):
            self.machine(state.get(name), parts + (name,))
        for name in ("ItemReader", "ItemBatcher", "ResultWriter"):
            part = state.get(name)
            if isinstance(part, dict):
                self.fields(part, parts + (name,), language)
                if isinstance(part.get("ReaderConfig"), dict):
                    self.fields(part["ReaderConfig"], parts + (name, "ReaderConfig"), language)
        self.error_handling(state, parts, language, scope)

    def state_Choice(self, state: dict, parts: Parts, language: str, scope: dict) -> None:
        choices = state.get("Choices")
        for index, rule in enumerate(choices if isinstance(choices, list) else []):
            where = parts + ("Choices", index)
            self.rule(rule, where, language, top=True)
            if isinstance(rule, dict) and "Next" in rule:
                self.target(rule["Next"], where + ("Next",), scope)
        if "Default" in state:
            self.target(state["Default"], parts + ("Default",), scope)

    # Choice rules ---------------------------------------------------------------------------

    def rule(self, rule: Any, parts: Parts, language: str, top: bool) -> None:
        if not isinstance(rule, dict):
            self.report(parts, f"Expected a Choice rule object, got {_type_name(rule)}")
            return
        if top and "Next" not in rule:
            self.report(parts, "The field 'Next' is required but was missing")
        if top and not isinstance(rule.get("Next", ""), str):
            self.report(parts + ("Next",), f"Expected a string, got {_type_name(rule['Next'])}")
        allowed = {"Comment"} | ({"Next", "Assign"} if top else set())
        if top and language == JSONATA:
            allowed.add("Output")
        if top and "Assign" in rule and language == JSONPATH:
            self.template(rule["Assign"], parts + ("Assign",))
        if language == JSONATA:
            self.jsonata_rule(rule, parts, allowed)
        else:
            self.jsonpath_rule(rule, parts, language, allowed)

    def unsupported(self, name: str, parts: Parts, language: str, theirs: bool) -> None:
        """A field this object does not take; ``theirs``: the other query language takes it."""
        if theirs:
            self.language_field(name, parts, language, force=True)
        else:
            self.report(parts, f"Field '{name}' is not supported")

    def jsonata_rule(self, rule: dict, parts: Parts, allowed: set[str]) -> None:
        jsonpath_names = set(_OPERATORS) | set(_COMPOUND) | {"Variable"}
        for name in rule:
            if name not in allowed and name != "Condition":
                self.unsupported(name, parts + (name,), JSONATA, name in jsonpath_names)
        if "Condition" not in rule:
            self.report(parts, "The field 'Condition' is required but was missing")
        elif not isinstance(rule["Condition"], bool) and not _is_expression(rule["Condition"]):
            self.report(parts + ("Condition",), "Expected a JSONata expression ('{% ... %}') or a boolean")

    def jsonpath_rule(self, rule: dict, parts: Parts, language: str, allowed: set[str]) -> None:
        compound = [name for name in _COMPOUND if name in rule]
        operators = [name for name in rule if name in _OPERATORS]
        for name in rule:
            if name not in allowed and name not in _OPERATORS and name not in _COMPOUND + ("Variable",):
                self.unsupported(name, parts + (name,), JSONPATH, name in ("Condition", "Output"))
        if compound:
            if len(compound) > 1 or operators or "Variable" in rule:
                self.report(parts, "A Choice rule with And, Or or Not has no Variable and no other operator")
            for name in compound:
                self.compound(rule[name], parts + (name,), name, language)
            return
        if "Variable" not in rule:
            self.report(parts, "The field 'Variable' is required but was missing")
        elif not isinstance(rule["Variable"], str):
            self.report(parts + ("Variable",), f"Expected a string, got {_type_name(rule['Variable'])}")
        else:
            self.path(rule["Variable"], parts + ("Variable",))
        if len(operators) != 1:
            self.report(parts, "A Choice rule needs exactly one comparison operator" + (
                f", found {len(operators)}: {', '.join(operators)}" if operators else ""
            ))
        for name in operators:
            self.operand(name, rule[name], parts + (name,))

    def compound(self, value: Any, parts: Parts, name: str, language: str) -> None:
        if name == "Not":
            self.rule(value, parts, language, top=False)
            return
        if not isinstance(value, list) or not value:
            self.report(parts, f"Expected a non-empty array of Choice rules for '{name}'")
            return
        for index, sub in enumerate(value):
            self.rule(sub, parts + (index,), language, top=False)

    def operand(self, operator: str, value: Any, parts: Parts) -> None:
        kind = _OPERATORS[operator]
        if kind == "path":
            if isinstance(value, str):
                self.path(value, parts)
                return
            ok = False
        elif kind == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif kind == "timestamp":
            ok = timestamps.parse(value) is not None
        else:
            ok = isinstance(value, {"string": str, "boolean": bool}[kind])
        if not ok:
            special = {"path": "a path string", "timestamp": "a timestamp string (RFC 3339)"}
            expected = special.get(kind, _article(kind))
            self.report(parts, f"Expected {expected} for '{operator}', got {json.dumps(value)}")

    # Retry and Catch ------------------------------------------------------------------------

    def error_handling(self, state: dict, parts: Parts, language: str, scope: dict) -> None:
        for field in ("Retry", "Catch"):
            handlers = state.get(field)
            if not isinstance(handlers, list):
                continue
            for index, handler in enumerate(handlers):
                if not isinstance(handler, dict):
                    continue
                where = parts + (field, index)
                self.error_equals(handler.get("ErrorEquals"), where, last=index == len(handlers) - 1, field=field)
                if field == "Catch":
                    self.fields(handler, where, language)
                    if "Next" in handler:
                        self.target(handler["Next"], where + ("Next",), scope)

    def error_equals(self, names: Any, parts: Parts, last: bool, field: str) -> None:
        if not isinstance(names, list) or "States.ALL" not in names:
            return
        if len(names) > 1:
            self.report(parts + ("ErrorEquals",), "States.ALL must appear alone in ErrorEquals")
        if not last:
            kind = "Retrier" if field == "Retry" else "Catcher"
            self.report(parts + ("ErrorEquals",), f"States.ALL can only appear in the last {kind}")

    # paths and templates --------------------------------------------------------------------

    def path(self, text: str, parts: Parts, reference: bool = False) -> None:
        """A JSONPath, a context path (``$$.``) or a variable (``$name.field``); ``reference``:
        a place to write to (ResultPath), so one definite node of the state's data."""
        variable, rest = jsonpath.split_variable(text)
        if variable is not None and reference:
            self.report(
                parts, f"The value for the field '{_field(parts)}' must be a reference path, not a variable"
            )
            return
        try:
            compiled = jsonpath.compile_path(rest)
        except jsonpath.PathError as exc:
            self.report(parts, f"The value for the field '{_field(parts)}' must be a valid JSONPath: {exc}")
            return
        if reference and (compiled.context or compiled.function or not compiled.definite):
            self.report(
                parts, f"The value for the field '{_field(parts)}' must be a reference path "
                "(one node of the state's data: no '$$', wildcard, filter or function)",
            )

    def path_or_intrinsic(self, text: str, parts: Parts) -> None:
        if intrinsics.is_intrinsic(text):
            self.intrinsic(text, parts)
        else:
            self.path(text, parts)

    def intrinsic(self, text: str, parts: Parts) -> None:
        try:
            intrinsics.parse(text)
        except intrinsics.IntrinsicSyntaxError as exc:
            message = f"The value for the field '{_field(parts)}' must be a valid intrinsic function: {exc}"
            self.report(parts, message)

    def template(self, value: Any, parts: Parts) -> None:
        """Payload templates: every ``"key.$"`` holds a path or an intrinsic function."""
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.template(item, parts + (index,))
            return
        if not isinstance(value, dict):
            return
        for key, item in value.items():
            if not key.endswith(".$"):
                self.template(item, parts + (key,))
            elif not isinstance(item, str):
                message = f"The value for the field '{key}' must be a string: a JSONPath or an intrinsic function"
                self.report(parts + (key,), message)
            else:
                self.path_or_intrinsic(item, parts + (key,))


def _field(parts: Parts) -> str:
    names = [part for part in parts if isinstance(part, str)]
    return names[-1] if names else "$"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_terminal(state: Any) -> bool:
    return isinstance(state, dict) and (state.get("Type") in ("Succeed", "Fail") or state.get("End") is True)


def _targets(state: Any) -> list[str]:
    """The states one state can move to within its scope."""
    if not isinstance(state, dict):
        return []
    found = [state.get("Next"), state.get("Default")]
    for field in ("Choices", "Catch"):
        items = state.get(field)
        found += [item.get("Next") for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    return [name for name in found if isinstance(name, str)]
