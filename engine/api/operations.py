"""Which actions the API answers and how one request becomes one call on the Engine facade.

The dispatch table is data: a service is one :class:`Service` entry in :data:`SERVICES`, keyed by
its ``X-Amz-Target`` prefix. Each action lists its required members (from the AWS API reference,
in AWS's order so the validation message lists them as AWS does); every other member is optional
and is passed on only when the facade method accepts it.
"""
from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from engine.api.protocol import JSON_1_0, JSON_1_1, SerializationException, camel_to_snake, check_required
from engine.errors import UnknownOperation


@dataclass(frozen=True)
class Service:
    """One AWS service spoken on the endpoint: its target prefix, content type and actions."""

    target_prefix: str
    content_type: str
    # the service name in a SigV4 credential scope (botocore's signing name for the client)
    signing_name: str
    # action name -> required request members
    operations: Mapping[str, tuple[str, ...]]
    # the object whose snake_case methods answer this service's actions (the Engine by default;
    # a service whose action names clash with another's can point at a sub-facade)
    facade: Callable[[Any], Any] = field(default=lambda engine: engine)


STEP_FUNCTIONS = Service(
    target_prefix="AWSStepFunctions",
    content_type=JSON_1_0,
    signing_name="states",
    operations={
        "CreateStateMachine": ("name", "definition", "roleArn"),
        "DescribeStateMachine": ("stateMachineArn",),
        "UpdateStateMachine": ("stateMachineArn",),
        "DeleteStateMachine": ("stateMachineArn",),
        "ListStateMachines": (),
        "ValidateStateMachineDefinition": ("definition",),
        "StartExecution": ("stateMachineArn",),
        "StartSyncExecution": ("stateMachineArn",),
        "DescribeExecution": ("executionArn",),
        "ListExecutions": (),
        "StopExecution": ("executionArn",),
        "GetExecutionHistory": ("executionArn",),
        "DescribeStateMachineForExecution": ("executionArn",),
        "CreateActivity": ("name",),
        "DeleteActivity": ("activityArn",),
        "DescribeActivity": ("activityArn",),
        "ListActivities": (),
        "GetActivityTask": ("activityArn",),
        "SendTaskSuccess": ("taskToken", "output"),
        "SendTaskFailure": ("taskToken",),
        "SendTaskHeartbeat": ("taskToken",),
        "RedriveExecution": ("executionArn",),
        "TagResource": ("resourceArn", "tags"),
        "UntagResource": ("resourceArn", "tagKeys"),
        "ListTagsForResource": ("resourceArn",),
    },
)

EVENTS = Service(
    target_prefix="AWSEvents",
    content_type=JSON_1_1,
    signing_name="events",
    operations={
        "CreateEventBus": ("Name",),
        "DeleteEventBus": ("Name",),
        "DescribeEventBus": (),
        "ListEventBuses": (),
        "PutRule": ("Name",),
        "DescribeRule": ("Name",),
        "ListRules": (),
        "DeleteRule": ("Name",),
        "EnableRule": ("Name",),
        "DisableRule": ("Name",),
        "PutTargets": ("Rule", "Targets"),
        "RemoveTargets": ("Rule", "Ids"),
        "ListTargetsByRule": ("Rule",),
        "ListRuleNamesByTarget": ("TargetArn",),
        "PutEvents": ("Entries",),
        "TestEventPattern": ("EventPattern", "Event"),
    },
    facade=lambda engine: engine.events,
)

SERVICES: dict[str, Service] = {service.target_prefix: service for service in (STEP_FUNCTIONS, EVENTS)}


@dataclass(frozen=True)
class BoundOperation:
    """A facade method, the keyword arguments it accepts (None: it takes ``**kwargs``) and the
    JSON types its annotations allow for each (absent: any)."""

    method: Callable[..., Any]
    accepted: frozenset[str] | None
    types: Mapping[str, tuple[type, ...]] = field(default_factory=dict)


_JSON_TYPES = (str, int, float, bool, list, dict)


def member_types(method: Callable[..., Any]) -> dict[str, tuple[type, ...]]:
    """Keyword -> the JSON types its annotation names (``str | None`` -> ``(str,)``); keywords
    annotated with anything else (``Any``, unresolvable names) are left out: any value goes."""
    try:
        hints = typing.get_type_hints(method)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve checks nothing
        return {}
    allowed: dict[str, tuple[type, ...]] = {}
    hints.pop("return", None)
    for name, hint in hints.items():
        options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
            else (hint,)
        kinds = tuple(typing.get_origin(option) or option for option in options if option is not type(None))
        if kinds and all(kind in _JSON_TYPES for kind in kinds):
            allowed[name] = kinds
    return allowed


# What the members holding lists and structures hold, from the AWS API references: a type, [shape]
# (a list of shape) or {member: shape} (a structure; other members pass unchecked). Only members the
# engine reads inside are listed; the facade's annotations check every top-level member.
_NUMBER = (int, float)
_TAGS_SFN = [{"key": str, "value": str}]
NESTED: dict[str, Any] = {
    "Entries": [{"Source": str, "Resources": [str], "DetailType": str, "Detail": str, "EventBusName": str,
                 "Time": _NUMBER, "TraceHeader": str}],
    "Targets": [{"Id": str, "Arn": str, "RoleArn": str, "Input": str, "InputPath": str,
                 "InputTransformer": {"InputPathsMap": dict, "InputTemplate": str},
                 "RetryPolicy": {"MaximumRetryAttempts": int, "MaximumEventAgeInSeconds": int},
                 "DeadLetterConfig": {"Arn": str}}],
    "Ids": [str],
    "Tags": [{"Key": str, "Value": str}],
    "TagKeys": [str],
    "tags": _TAGS_SFN,
    "tagKeys": [str],
    "loggingConfiguration": {"level": str, "includeExecutionData": bool,
                             "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": str}}]},
    "tracingConfiguration": {"enabled": bool},
    "encryptionConfiguration": {"kmsKeyId": str, "kmsDataKeyReusePeriodSeconds": int, "type": str},
}


def check_types(body: Mapping[str, Any], arguments: Mapping[str, Any], allowed: Mapping[str, tuple[type, ...]]) -> None:
    """AWS's SerializationException for a member whose JSON type the operation does not take."""
    for member, value in body.items():
        name = camel_to_snake(member)
        if name not in arguments:
            continue
        kinds = allowed.get(name)
        if kinds is not None and not _is_a(value, kinds):
            raise _mismatch(member, kinds, value)
        if member in NESTED:
            _check_shape(member, NESTED[member], value)


def _check_shape(where: str, shape: Any, value: Any) -> None:
    if value is None:
        return  # an absent optional member
    if isinstance(shape, list):
        if not isinstance(value, list):
            raise _mismatch(where, (list,), value)
        for index, item in enumerate(value):
            if item is None:  # a list holds values; only a structure's members may be absent
                raise _mismatch(f"{where}[{index}]", _kinds(shape[0]), item)
            _check_shape(f"{where}[{index}]", shape[0], item)
    elif isinstance(shape, dict):
        if not isinstance(value, dict):
            raise _mismatch(where, (dict,), value)
        for member, inner in shape.items():
            _check_shape(f"{where}.{member}", inner, value.get(member))
    else:
        kinds = _kinds(shape)
        if not _is_a(value, kinds):
            raise _mismatch(where, kinds, value)


def _kinds(shape: Any) -> tuple[type, ...]:
    if isinstance(shape, list):
        return (list,)
    if isinstance(shape, dict):
        return (dict,)
    return shape if isinstance(shape, tuple) else (shape,)


def _mismatch(member: str, kinds: tuple[type, ...], value: Any) -> SerializationException:
    if isinstance(value, list):
        return SerializationException("Start of list found where not expected")
    if isinstance(value, dict):
        return SerializationException("Start of structure or map found where not expected.")
    return SerializationException(
        f"Unexpected value for '{member}': expected {' or '.join(_JSON_NAMES[kind] for kind in kinds)}, "
        f"got {_json_name(value)}")


def _is_a(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # JSON true is no number
        return bool in kinds
    if isinstance(value, int) and float in kinds:
        return True
    return isinstance(value, kinds)


_JSON_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", list: "a list",
               dict: "a structure"}


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    for kind in (bool, str, int, float, list, dict):
        if isinstance(value, kind):
            return _JSON_NAMES[kind]
    return type(value).__name__


def accepted_keywords(method: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword names a method takes, or None when it takes any keyword."""
    parameters = inspect.signature(method).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    keyword_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return frozenset(p.name for p in parameters if p.kind in keyword_kinds)


def keyword_arguments(body: Mapping[str, Any], accepted: frozenset[str] | None) -> dict[str, Any]:
    """The request members as snake_case keywords, dropping nulls and what the method lacks."""
    arguments = {camel_to_snake(member): value for member, value in body.items()
                 if value is not None}
    if accepted is None:
        return arguments
    return {name: value for name, value in arguments.items() if name in accepted}


class Dispatcher:
    """Turns (target, members) into one facade call; method signatures are inspected once."""

    def __init__(self, engine: Any, services: Mapping[str, Service] = SERVICES):
        self._engine = engine
        self._services = services
        self._bound: dict[tuple[str, str], BoundOperation] = {}

    def service(self, target_prefix: str) -> Service:
        service = self._services.get(target_prefix)
        if service is None:
            raise UnknownOperation(f"The service {target_prefix!r} is not served here; "
                                   f"known: {', '.join(sorted(self._services))}")
        return service

    def call(self, service: Service, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Validate the members, call the facade method and return its response (``{}`` if None)."""
        bound = self._bind(service, action)
        check_required(dict(body), service.operations[action])
        arguments = keyword_arguments(body, bound.accepted)
        check_types(body, arguments, bound.types)
        response = bound.method(**arguments)
        return {} if response is None else response

    def _bind(self, service: Service, action: str) -> BoundOperation:
        key = (service.target_prefix, action)
        if key not in self._bound:
            self._bound[key] = self._resolve(service, action)
        return self._bound[key]

    def _resolve(self, service: Service, action: str) -> BoundOperation:
        # Only listed actions dispatch: a target must never reach an arbitrary facade method.
        method = None
        if action in service.operations:
            method = getattr(service.facade(self._engine), camel_to_snake(action), None)
        if not callable(method):
            raise UnknownOperation(f"{service.target_prefix}.{action} is not a supported operation")
        return BoundOperation(method, accepted_keywords(method), member_types(method))
