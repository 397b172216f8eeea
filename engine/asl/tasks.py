"""What a Task state's ``Resource`` names: pure parsing, no dispatch.

AWS records two families of task events: a bare Lambda function ARN gives the legacy
``LambdaFunction*`` events; every ``arn:aws:states:::service:action[.pattern]`` integration gives
``Task*`` events with ``resourceType`` (the service) and ``resource`` (the action and pattern).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_LAMBDA_ARN = re.compile(
    r"^arn:[\w-]+:lambda:(?P<region>[\w-]*):(?P<account>\d*):function:(?P<name>[\w.-]+)(?::(?P<qualifier>[\w$-]+))?$")
_INTEGRATION = re.compile(r"^arn:[\w-]+:states:[\w-]*:\d*:(?P<service>[\w-]+):(?P<action>.+)$")
_ACTIVITY = re.compile(r"^arn:[\w-]+:states:(?P<region>[\w-]+):(?P<account>\d+):activity:(?P<name>.+)$")

PATTERNS = (".waitForTaskToken", ".sync:2", ".sync")


@dataclass(frozen=True)
class Resource:
    arn: str
    kind: str  # "lambda" (bare function ARN), "integration", "activity", "unknown"
    service: str = ""  # resourceType in history: "lambda", "states", "http", ...
    action: str = ""  # resource in history: "invoke", "startExecution.sync", ...
    name: str = ""  # the function or activity name
    pattern: str = ""  # "", ".waitForTaskToken", ".sync", ".sync:2"

    @property
    def legacy_lambda(self) -> bool:
        return self.kind == "lambda"

    @property
    def is_lambda(self) -> bool:
        return self.kind == "lambda" or (self.service == "lambda" and self.action.startswith("invoke"))


def describe_resource(arn: str, region: str = "us-east-1", account: str = "123456789012") -> Resource:
    found = _LAMBDA_ARN.match(arn)
    if found:
        return Resource(arn, "lambda", "lambda", "invoke", found["name"])
    found = _ACTIVITY.match(arn)
    if found:
        return Resource(arn, "activity", "activity", "", found["name"])
    found = _INTEGRATION.match(arn)
    if found:
        action = found["action"]
        pattern = next((p for p in PATTERNS if action.endswith(p)), "")
        return Resource(arn, "integration", found["service"], action, "", pattern)
    return Resource(arn, "unknown")


def function_name(value: str) -> str:
    """The function name from a FunctionName parameter: a name, a partial or a full ARN."""
    found = _LAMBDA_ARN.match(value)
    if found:
        return found["name"]
    # "NAME:alias" or "123456789012:function:NAME"
    parts = value.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[0]
