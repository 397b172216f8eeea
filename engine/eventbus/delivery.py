"""Pure rules of delivery: execution names, retry back-off, the scheduled event.

* :func:`execution_name` is deterministic in (bus, rule, target id, event id), so delivering
  the same event again can never start a second execution: the name is taken.
* :func:`retry_decision` applies a target's RetryPolicy (AWS's defaults: 185 retries, 24 h).
"""
from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timezone

MAX_RETRY_ATTEMPTS = 185  # AWS's default MaximumRetryAttempts
MAX_EVENT_AGE = 86_400  # seconds: AWS's default MaximumEventAgeInSeconds
MAX_BACKOFF = 300.0  # seconds between two attempts at most
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def execution_name(bus: str, rule: str, target_id: str, event_id: str) -> str:
    """``RULE-EVENTID-DIGEST`` (at most 78 characters, valid as a Step Functions name)."""
    digest = hashlib.sha256("\0".join((bus, rule, target_id, event_id)).encode()).hexdigest()
    return f"{_UNSAFE.sub('_', rule)[:20]}-{_UNSAFE.sub('_', event_id)[:36]}-{digest[:20]}"


def backoff(attempts: int, first: float) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones (doubling, capped)."""
    return min(first * 2 ** max(0, attempts - 1), MAX_BACKOFF)


def retry_decision(policy: dict | None, attempts: int, age: float, now: float,
                   first: float) -> float | None:
    """When to try again after ``attempts`` failures of an event ``age`` seconds old; None
    when the policy allows no more (the delivery goes to the dead letters)."""
    policy = policy or {}
    if attempts > policy.get("MaximumRetryAttempts", MAX_RETRY_ATTEMPTS):
        return None
    if age >= policy.get("MaximumEventAgeInSeconds", MAX_EVENT_AGE):
        return None
    return now + backoff(attempts, first)


def iso_time(moment: float) -> str:
    """An event's ``time``: ``2026-11-26T12:00:00Z`` (whole seconds, as AWS writes it)."""
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_event(rule_arn: str, region: str, account: str, tick: float) -> dict:
    """AWS's event for one tick of a scheduled rule."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": account, "time": iso_time(tick),
            "region": region, "resources": [rule_arn], "detail": {}}
