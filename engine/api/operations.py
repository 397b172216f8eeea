"""Which actions the API answers and how one request becomes one call on the Engine facade.

The dispatch table is data: a service is one :class:`Service` entry in :data:`SERVICES`, keyed by
its ``X-Amz-Target`` prefix. Each action lists its required members (from the AWS API reference,
in AWS's order so the validation message lists them as AWS does); every other member is optional
and is passed on only when the facade method accepts it.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from engine.api.protocol import JSON_1_0, JSON_1_1, camel_to_snake, check_required
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
    """A facade method and the keyword arguments it accepts (None: it takes ``**kwargs``)."""

    method: Callable[..., Any]
    accepted: frozenset[str] | None


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
        response = bound.method(**keyword_arguments(body, bound.accepted))
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
        return BoundOperation(method, accepted_keywords(method))
