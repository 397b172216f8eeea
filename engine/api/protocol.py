"""The AWS JSON protocol on the wire: targets, bodies, member names, dates and error bodies.

Everything here is pure (bytes and dicts in, bytes and dicts out) so the whole wire format can be
tested without a server. ``app.py`` glues it to Starlette; ``operations.py`` knows the actions.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable

from engine.asl import history
from engine.errors import ApiError, UnknownOperation, ValidationException

JSON_1_0 = "application/x-amz-json-1.0"
JSON_1_1 = "application/x-amz-json-1.1"
ERROR_TYPE_HEADER = "x-amzn-ErrorType"
REQUEST_ID_HEADER = "x-amzn-RequestId"


class SerializationException(ApiError):
    """The request body is not a JSON object (AWS's code for an unreadable request)."""

    code = "SerializationException"


# "includeExecutionData" -> "include_execution_data"; a run of capitals is one word ("HTTPCode" ->
# "http_code"), so acronyms do not explode into single letters.
_ACRONYM_BOUNDARY = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD_BOUNDARY = re.compile(r"([a-z0-9])([A-Z])")


def camel_to_snake(name: str) -> str:
    """The Python keyword for an AWS member name: ``stateMachineArn`` -> ``state_machine_arn``."""
    spaced = _ACRONYM_BOUNDARY.sub(r"\1_\2", name)
    return _WORD_BOUNDARY.sub(r"\1_\2", spaced).lower()


def parse_target(header: str | None) -> tuple[str, str]:
    """Split ``X-Amz-Target: AWSStepFunctions.StartExecution`` into (service prefix, action)."""
    prefix, dot, action = (header or "").partition(".")
    if not (prefix and dot and action):
        raise UnknownOperation(f"The X-Amz-Target header {header!r} does not name an operation; "
                               "expected 'AWSStepFunctions.<Action>'")
    return prefix, action


def decode_body(raw: bytes) -> dict[str, Any]:
    """The request members. An empty body counts as ``{}`` (no members), as AWS accepts it."""
    if not raw.strip():
        return {}
    try:
        # strict UTF-8 first: json.loads would let the bytes of a lone surrogate through
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise SerializationException(f"The request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise SerializationException(
            f"The request body must be a JSON object, not a JSON {type(body).__name__}")
    if history.has_lone_surrogate(body):  # escaped ("\\ud800"): no UTF-8 to store or answer it with
        raise SerializationException("The request body is not valid JSON: a string holds a lone surrogate")
    return body


def check_required(body: dict[str, Any], required: Iterable[str]) -> None:
    """Raise AWS's ValidationException naming every required member that is absent or null."""
    missing = [member for member in required if body.get(member) is None]
    if missing:
        raise ValidationException(validation_message(missing))


def validation_message(missing: list[str]) -> str:
    """AWS's wording: ``1 validation error detected: Value null at 'x' failed to ...``."""
    count = len(missing)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(
        f"Value null at '{member}' failed to satisfy constraint: Member must not be null"
        for member in missing)
    return f"{count} validation {noun} detected: {details}"


def epoch_seconds(moment: datetime) -> float:
    """botocore reads JSON-protocol timestamps as epoch seconds; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return epoch_seconds(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(value: Any) -> bytes:
    """A response body: compact JSON, dates as epoch seconds, non-ASCII kept as UTF-8."""
    text = json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (quoted back in a message): escape it, as ASCII JSON does
        return json.dumps(value, default=_json_default, separators=(",", ":")).encode("ascii")


def error_body(code: str, message: str) -> dict[str, str]:
    """The JSON error document that botocore turns into ``ClientError`` with ``Error.Code``."""
    return {"__type": code, "message": message}


def error_document(error: ApiError) -> dict[str, str]:
    return error_body(error.code, error.message)
