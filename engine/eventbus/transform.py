"""What a rule's target receives: the event after ``Input``, ``InputPath`` or ``InputTransformer``.

Pure. :func:`check_target_input` validates a target's fields at PutTargets (AWS's rules: at
most one of the three, ``Input`` is JSON, at most 100 variables, no reserved variable names);
:func:`target_input` computes the text for one event.

Input transformer placeholders follow AWS's quoting rules: inside a JSON string literal the
value is inserted as it is (a string without quotes, anything else as its JSON text, and, as
AWS documents, not escaped); outside quotes the value is inserted as JSON (strings quoted). A
template that is not JSON (it does not start with ``{``, ``[`` or ``"``) takes every value as
it is. A variable whose path matches nothing becomes ``null`` outside quotes and nothing
inside them. The predefined ``<aws.events.*>`` variables are AWS's. JSON output is minified.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from engine.asl.jsonpath import PathError, compile_path
from engine.errors import ValidationException

MAX_VARIABLES = 100
RESERVED = ("aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time",
            "aws.events.event", "aws.events.event.json")
_PLACEHOLDER = re.compile(r"<([^<>\s]+)>")
_MISSING = object()


class TransformError(ValueError):
    """The event cannot be turned into the target's input (a delivery that can never succeed)."""


# --- checks at PutTargets ---------------------------------------------------------------------
def check_target_input(target: dict) -> None:
    """ValidationException for a target whose input fields AWS would refuse."""
    given = [key for key in ("Input", "InputPath", "InputTransformer") if target.get(key) is not None]
    if len(given) > 1:
        raise ValidationException(
            f"Target {target.get('Id')!r}: only one of Input, InputPath and InputTransformer "
            f"may be given, not {', '.join(given)}")
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError:
            raise ValidationException(f"Target {target.get('Id')!r}: Input is not valid JSON") from None
    if target.get("InputPath") is not None:
        _check_path(target["InputPath"], "InputPath")
    if target.get("InputTransformer") is not None:
        _check_transformer(target["InputTransformer"])


def _check_path(path: Any, where: str) -> None:
    try:
        if not isinstance(path, str) or not path.startswith("$"):
            raise PathError(path)
        compile_path(path)
    except PathError:
        raise ValidationException(f"{where} {path!r} is not a valid JSON path") from None


def _check_transformer(transformer: Any) -> None:
    if not isinstance(transformer, dict) or not isinstance(transformer.get("InputTemplate"), str):
        raise ValidationException("InputTransformer needs an InputTemplate (a string)")
    paths = transformer.get("InputPathsMap") or {}
    if len(paths) > MAX_VARIABLES:
        raise ValidationException(
            f"InputPathsMap has {len(paths)} variables; at most {MAX_VARIABLES} are allowed")
    for name, path in paths.items():
        if name in RESERVED:
            raise ValidationException(
                f"InputTransformer variable {name!r} is reserved (predefined by EventBridge)")
        _check_path(path, f"InputPathsMap value for {name!r}")


# --- the input of one delivery ---------------------------------------------------------------
def target_input(target: dict, event: dict, rule_name: str, rule_arn: str,
                 ingested: float) -> str:
    """The input text for ``target`` (a PutTargets target) and ``event``; TransformError."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath") is not None:
        value = _lookup(target["InputPath"], event)
        return _minified(None if value is _MISSING else value)
    transformer = target.get("InputTransformer")
    if transformer is None:
        return _minified(event)
    values = {name: _lookup(path, event)
              for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values.update(_predefined(event, rule_name, rule_arn, ingested))
    return render(transformer["InputTemplate"], values)


def _lookup(path: str, event: dict) -> Any:
    compiled = compile_path(path)
    found = compiled.find(event)
    if compiled.definite:
        return found[0] if found else _MISSING
    return found


def _predefined(event: dict, rule_name: str, rule_arn: str, ingested: float) -> dict:
    without_detail = {key: value for key, value in event.items() if key != "detail"}
    moment = datetime.fromtimestamp(ingested, timezone.utc)
    return {"aws.events.rule-arn": rule_arn, "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": moment.isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "aws.events.event": without_detail, "aws.events.event.json": event}


def render(template: str, values: dict) -> str:
    """Fill ``<name>`` placeholders of an InputTemplate with ``values`` (AWS's quoting)."""
    is_json = template.lstrip()[:1] in ("{", "[", '"')
    out: list[str] = []
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        name = found.group(1)
        if name not in values:
            continue  # not a variable: the text stays as written
        out.append(template[position:found.start()])
        quoted = is_json and _inside_string(template, found.start())
        out.append(_inserted(values[name], quoted or not is_json))
        position = found.end()
    out.append(template[position:])
    text = "".join(out)
    if not is_json:
        return text
    try:
        return _minified(json.loads(text))
    except ValueError:
        raise TransformError(f"The InputTemplate does not give valid JSON for this event: "
                             f"{text[:200]}") from None


def _inserted(value: Any, raw: bool) -> str:
    if value is _MISSING:
        return "" if raw else "null"
    if raw and isinstance(value, str):
        return value
    return _minified(value)


def _inside_string(template: str, index: int) -> bool:
    """True when ``index`` lies inside a JSON string literal of ``template``."""
    inside, escaped = False, False
    for char in template[:index]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = inside
        elif char == '"':
            inside = not inside
    return inside


def _minified(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
