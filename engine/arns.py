"""Build and check AWS ARNs and resource names (AWS's shapes and AWS's error messages)."""
from __future__ import annotations

import re

from engine.errors import InvalidArn, InvalidName

# AWS: 1-80 characters; no whitespace, brackets, wildcards, special or control characters
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_STATE_MACHINE = re.compile(r"^arn:aws:states:([\w-]+):(\d{12}):stateMachine:([^:]+)$")
_EXECUTION = re.compile(r"^arn:aws:states:([\w-]+):(\d{12}):(execution|express):([^:]+):([^:]+)(?::([^:]+))?$")


def check_name(name: str, what: str = "Name") -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
        raise InvalidName(f"Invalid {what}: '{name}'")
    return name


def state_machine_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def execution_arn(state_machine: str, name: str) -> str:
    region, account, sm_name = parse_state_machine_arn(state_machine)
    return f"arn:aws:states:{region}:{account}:execution:{sm_name}:{name}"


def express_execution_arn(state_machine: str, name: str, run_id: str) -> str:
    region, account, sm_name = parse_state_machine_arn(state_machine)
    return f"arn:aws:states:{region}:{account}:express:{sm_name}:{name}:{run_id}"


def parse_state_machine_arn(arn: str) -> tuple[str, str, str]:
    """(region, account, name) of a state machine ARN, or InvalidArn."""
    found = _STATE_MACHINE.match(arn or "")
    if not found:
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {arn}'"
                         if isinstance(arn, str) and arn.startswith("arn:aws:states:")
                         else f"Invalid Arn: '{arn}'")
    return found.group(1), found.group(2), found.group(3)


def parse_execution_arn(arn: str) -> tuple[str, str, str, str]:
    """(region, account, state machine name, execution name) of an execution ARN, or InvalidArn."""
    found = _EXECUTION.match(arn or "")
    if not found:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    return found.group(1), found.group(2), found.group(4), found.group(5)


def state_machine_of_execution(arn: str) -> str:
    region, account, sm_name, _ = parse_execution_arn(arn)
    return state_machine_arn(region, account, sm_name)


_ACTIVITY = re.compile(r"^arn:aws:states:([\w-]+):(\d{12}):activity:([^:]+)$")


def activity_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account}:activity:{name}"


def parse_activity_arn(arn: str) -> tuple[str, str, str]:
    """(region, account, name) of an activity ARN, or InvalidArn."""
    found = _ACTIVITY.match(arn or "")
    if not found:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    return found.group(1), found.group(2), found.group(3)


# --- EventBridge ----------------------------------------------------------------------------
_EVENT_BUS = re.compile(r"^arn:aws:events:([\w-]+):(\d{12}):event-bus/(.+)$")


def event_bus_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(region: str, account: str, bus: str, name: str) -> str:
    """``rule/NAME`` on the default bus, ``rule/BUS/NAME`` on a custom one (AWS's shapes)."""
    path = name if bus == "default" else f"{bus}/{name}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"


def event_bus_name(name_or_arn: str | None) -> str:
    """The bus an ``EventBusName`` member names (a name or an event-bus ARN); default if None."""
    if not name_or_arn:
        return "default"
    found = _EVENT_BUS.match(name_or_arn)
    return found.group(3) if found else name_or_arn
