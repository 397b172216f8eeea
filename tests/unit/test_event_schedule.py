"""Schedule expressions (rate and AWS cron) and the pure rules of delivery."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine import arns
from engine.errors import ValidationException
from engine.eventbus import delivery, schedule


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def next_fire(expression: str, after: str) -> str:
    found = schedule.parse(expression).next_after(at(after))
    return datetime.fromtimestamp(found, timezone.utc).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("expression, seconds", [
    ("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600),
    ("rate(12 hours)", 43200), ("rate(1 day)", 86400), ("rate(7 days)", 604800)])
def test_rates(expression, seconds):
    assert schedule.parse(expression).seconds == seconds


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-1 minutes)", "rate(5 seconds)",
    "rate(5minutes)", "rate()", "every 5 minutes", "cron(0 12 * * *)", "cron(0 12 * * * *)",
    "cron(0 12 ? * ? *)", "cron(60 12 * * ? *)", "cron(0 24 * * ? *)", "cron(0 12 32 * ? *)",
    "cron(0 12 ? * 8 *)", "cron(0 12 * 13 ? *)", "cron(0 12 * * ? 1969)", "cron(0 12 ? * 2#6 *)",
    "cron(0 5-2 * * ? *)", "cron(a b c d e f)", "cron(0 12 * * ? *", ""])
def test_invalid_expressions_are_aws_validation_errors(expression):
    with pytest.raises(ValidationException, match="Parameter ScheduleExpression is not valid."):
        schedule.parse(expression)


@pytest.mark.parametrize("expression, after, expected", [
    ("cron(0 12 * * ? *)", "2026-01-01T11:59:00", "2026-01-01 12:00"),
    ("cron(0 12 * * ? *)", "2026-01-01T12:00:00", "2026-01-02 12:00"),  # strictly after
    ("cron(0/15 * * * ? *)", "2026-01-01T10:07:30", "2026-01-01 10:15"),
    ("cron(0/15 * ? * MON-FRI *)", "2026-01-02T23:50:00", "2026-01-05 00:00"),  # Fri -> Mon
    ("cron(15 10 ? * 6L 2026-2030)", "2026-01-01T00:00:00", "2026-01-30 10:15"),  # last Friday
    ("cron(0 9 ? * 2#1 *)", "2026-01-01T00:00:00", "2026-01-05 09:00"),  # first Monday
    ("cron(0 0 L * ? *)", "2026-02-01T00:00:00", "2026-02-28 00:00"),
    ("cron(0 0 LW * ? *)", "2026-01-01T00:00:00", "2026-01-30 00:00"),  # the 31st is a Saturday
    ("cron(0 0 1W * ? *)", "2026-02-01T00:00:00", "2026-02-02 00:00"),  # Feb 1st is a Sunday -> Mon 2nd
    ("cron(0 0 1W * ? *)", "2026-02-03T00:00:00", "2026-03-02 00:00"),  # Mar 1st too
    ("cron(0 8 1 JAN,JUL ? *)", "2026-02-01T00:00:00", "2026-07-01 08:00"),
    ("cron(0 0 29 2 ? *)", "2026-03-01T00:00:00", "2028-02-29 00:00"),
    ("cron(30 6 ? * SUN *)", "2026-01-01T00:00:00", "2026-01-04 06:30"),
    ("cron(0 18 ? * 1,7 *)", "2026-01-01T00:00:00", "2026-01-03 18:00"),  # 7 = Saturday
    ("cron(0 10 * * ? 2027)", "2026-06-01T00:00:00", "2027-01-01 10:00"),
])
def test_cron_next_fire_times(expression, after, expected):
    assert next_fire(expression, after) == expected


def test_a_cron_that_never_fires_again_has_no_next_time():
    assert schedule.parse("cron(0 0 1 1 ? 1999)").next_after(at("2026-01-01T00:00:00")) is None


def test_rate_ticks_stay_on_their_grid_and_skip_missed_ones():
    rate = schedule.parse("rate(5 minutes)")
    assert rate.next_tick(1000.0, 1000.0) == 1300.0
    assert rate.next_tick(1000.0, 2000.0) == 2200.0  # ticks at 1300..1900 were missed: no backlog


def test_execution_names_are_deterministic_valid_and_distinct():
    name = delivery.execution_name("default", "order-placed", "workflow", "7c97006d-1ba8-42c3-9a9c-4266a141d9ba")
    assert name == delivery.execution_name("default", "order-placed", "workflow",
                                           "7c97006d-1ba8-42c3-9a9c-4266a141d9ba")
    assert name.startswith("order-placed-7c97006d-1ba8-42c3-9a9c-4266a141d9ba-")
    others = {delivery.execution_name(bus, rule, target, event) for bus, rule, target, event in [
        ("other", "order-placed", "workflow", "7c97006d-1ba8-42c3-9a9c-4266a141d9ba"),
        ("default", "order-placed", "workflow2", "7c97006d-1ba8-42c3-9a9c-4266a141d9ba"),
        ("default", "order-placed", "workflow", "7c97006d-1ba8-42c3-9a9c-4266a141d9bb")]}
    assert name not in others and len(others) == 3
    long = delivery.execution_name("b", "r" * 64, "t" * 64, "kafka:topic/partition:0#offset 99" * 5)
    assert len(long) <= 80 and arns.check_name(long) == long


def test_retry_policy_defaults_and_limits():
    assert delivery.retry_decision(None, 1, 0, 100.0, 1.0) == 101.0
    assert delivery.retry_decision(None, 3, 0, 100.0, 1.0) == 104.0  # doubling back-off
    assert delivery.retry_decision(None, 185, 0, 0.0, 1.0) == delivery.MAX_BACKOFF  # capped
    assert delivery.retry_decision(None, 186, 0, 0.0, 1.0) is None  # AWS's 185 retries
    assert delivery.retry_decision(None, 1, 86_400, 0.0, 1.0) is None  # 24 h old
    policy = {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60}
    assert delivery.retry_decision(policy, 2, 10, 0.0, 1.0) is not None
    assert delivery.retry_decision(policy, 3, 10, 0.0, 1.0) is None
    assert delivery.retry_decision(policy, 1, 60, 0.0, 1.0) is None
    assert delivery.retry_decision({"MaximumRetryAttempts": 0}, 1, 0, 0.0, 1.0) is None


def test_the_scheduled_event_is_aws_shaped():
    event = delivery.scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r", "us-east-1",
                                     "123456789012", at("2026-01-01T12:00:00"))
    assert {k: v for k, v in event.items() if k != "id"} == {
        "version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-01-01T12:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/r"], "detail": {}}
