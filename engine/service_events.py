"""EventBridge's API over the Engine: buses, rules, targets, PutEvents, TestEventPattern.

An object of its own (``engine.events``), not a mixin: EventBridge action names such as
ListTagsForResource clash with Step Functions'. Methods are the actions in snake_case with
AWS's PascalCase members as snake_case keywords, and return AWS's response dicts.

PutEvents stores its events (the outbox) in one transaction before it answers; the
dispatcher (``engine.eventbus.dispatcher``) delivers them. Dead letters and redelivery are
Stepstone's own operations (CLI ``stepstone events dead-letters``), not AWS actions.
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

from engine import arns, errors
from engine.eventbus import delivery, schedule, transform
from engine.eventbus.dispatcher import api_target
from engine.eventbus.patterns import check_event, compile_pattern

DEFAULT_BUS = "default"
MAX_ENTRIES = 10  # PutEvents
MAX_PUT_EVENTS_BYTES = 256 * 1024
MAX_TARGETS_PER_RULE = 5  # AWS's quota
MAX_TARGETS_PER_CALL = 10
MAX_PAGE = 100
_RULE_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
_BUS_NAME = re.compile(r"^[\.\-_A-Za-z0-9]{1,256}$")
_TARGET_ID = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
_STATE_MACHINE = re.compile(r"^arn:aws:states:[\w-]+:\d{12}:stateMachine:[^:]+$")
_STATES = ("ENABLED", "DISABLED")


class EventsOperations:
    """The AWSEvents.* actions, for one Engine."""

    def __init__(self, engine: Any):
        self._engine = engine
        self.store = engine.store
        self.clock = engine.clock
        self.region, self.account = engine.settings.region, engine.settings.account

    # ---- event buses
    def _rules_changed(self) -> None:
        self._engine.dispatcher.rules_changed()

    def create_event_bus(self, name: str, description: str | None = None,
                         event_source_name: str | None = None, tags: list | None = None) -> dict:
        if name == DEFAULT_BUS:
            raise errors.ResourceAlreadyExistsException(f"Event bus {name} already exists.")
        _check_pattern(name, _BUS_NAME, "name")
        if event_source_name is not None:
            raise errors.ValidationException("Partner event sources are not supported by Stepstone")
        arn = arns.event_bus_arn(self.region, self.account, name)
        try:
            self.store.insert_bus({"name": name, "arn": arn, "description": description,
                                   "creation_time": self.clock.now()})
        except errors.ConflictError:
            raise errors.ResourceAlreadyExistsException(f"Event bus {name} already exists.") from None
        return {"EventBusArn": arn}

    def delete_event_bus(self, name: str) -> dict:
        if name == DEFAULT_BUS:
            raise errors.ValidationException("Cannot delete event bus default.")
        self.store.delete_bus(name)  # AWS: deleting a bus that is not there succeeds
        self._rules_changed()
        return {}

    def describe_event_bus(self, name: str | None = None) -> dict:
        return _bus_answer(self._bus(arns.event_bus_name(name)))

    def list_event_buses(self, name_prefix: str | None = None, next_token: str | None = None,
                         limit: int | None = None) -> dict:
        buses = [self._default_bus()] + self.store.list_buses(name_prefix)
        buses = [b for b in buses if not name_prefix or b["name"].startswith(name_prefix)]
        buses.sort(key=lambda b: b["name"])
        page, token = _page(buses, lambda b: b["name"], limit, next_token)
        answer: dict[str, Any] = {"EventBuses": [_bus_answer(b) for b in page]}
        if token:
            answer["NextToken"] = token
        return answer

    # ---- rules
    def put_rule(self, name: str, event_pattern: str | None = None,
                 schedule_expression: str | None = None, state: str | None = None,
                 description: str | None = None, role_arn: str | None = None,
                 tags: list | None = None, event_bus_name: str | None = None) -> dict:
        _check_pattern(name, _RULE_NAME, "name")
        bus = self._bus(arns.event_bus_name(event_bus_name))["name"]
        state = state or "ENABLED"
        if state not in _STATES:
            raise errors.ValidationException(
                f"1 validation error detected: Value '{state}' at 'state' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [ENABLED, DISABLED]")
        if event_pattern is None and schedule_expression is None:
            raise errors.ValidationException(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if event_pattern is not None:
            compile_pattern(event_pattern)  # InvalidEventPatternException
        now = self.clock.now()
        next_fire = None
        if schedule_expression is not None:
            if bus != DEFAULT_BUS:
                raise errors.ValidationException(
                    "ScheduleExpression is supported only on the default event bus.")
            next_fire = schedule.parse(schedule_expression).next_after(now)
        arn = arns.rule_arn(self.region, self.account, bus, name)
        existing = self.store.get_rule(bus, name)
        if existing is not None and existing["schedule_expression"] == schedule_expression \
                and existing["state"] == state:
            next_fire = existing["next_fire"]  # an unchanged schedule keeps its rhythm
        self.store.put_rule({
            "bus": bus, "name": name, "arn": arn, "event_pattern": event_pattern,
            "schedule_expression": schedule_expression, "state": state,
            "description": description, "role_arn": role_arn, "created": now,
            "next_fire": next_fire if state == "ENABLED" else None})
        self._rules_changed()
        return {"RuleArn": arn}

    def describe_rule(self, name: str, event_bus_name: str | None = None) -> dict:
        rule = self._rule(name, event_bus_name)
        answer = {"Name": rule["name"], "Arn": rule["arn"], "State": rule["state"],
                  "EventBusName": rule["bus"], "CreatedBy": self.account}
        for column, member in (("event_pattern", "EventPattern"), ("description", "Description"),
                               ("schedule_expression", "ScheduleExpression"),
                               ("role_arn", "RoleArn")):
            if rule[column] is not None:
                answer[member] = rule[column]
        return answer

    def list_rules(self, name_prefix: str | None = None, event_bus_name: str | None = None,
                   next_token: str | None = None, limit: int | None = None) -> dict:
        bus = self._bus(arns.event_bus_name(event_bus_name))["name"]
        rows, token = self.store.list_rules(bus, name_prefix, _limit(limit), next_token)
        answer: dict[str, Any] = {"Rules": [_rule_item(row) for row in rows]}
        if token:
            answer["NextToken"] = token
        return answer

    def delete_rule(self, name: str, event_bus_name: str | None = None, force: bool = False) -> dict:
        bus = arns.event_bus_name(event_bus_name)
        if self.store.delete_rule(bus, name) == "has_targets":
            raise errors.ValidationException("Rule can't be deleted since it has targets.")
        self._rules_changed()
        return {}  # AWS: deleting a rule that is not there succeeds

    def enable_rule(self, name: str, event_bus_name: str | None = None) -> dict:
        rule = self._rule(name, event_bus_name)
        changes: dict[str, Any] = {"state": "ENABLED"}
        if rule["schedule_expression"] and rule["state"] != "ENABLED":
            changes["next_fire"] = schedule.parse(rule["schedule_expression"]).next_after(self.clock.now())
        self.store.update_rule(rule["bus"], rule["name"], changes)
        self._rules_changed()
        return {}

    def disable_rule(self, name: str, event_bus_name: str | None = None) -> dict:
        rule = self._rule(name, event_bus_name)
        self.store.update_rule(rule["bus"], rule["name"], {"state": "DISABLED", "next_fire": None})
        self._rules_changed()
        return {}

    # ---- targets
    def put_targets(self, rule: str, targets: list, event_bus_name: str | None = None) -> dict:
        found = self._rule(rule, event_bus_name)
        if not isinstance(targets, list) or not 1 <= len(targets) <= MAX_TARGETS_PER_CALL:
            raise errors.ValidationException(
                "1 validation error detected: Value at 'targets' failed to satisfy constraint: "
                f"Member must have length between 1 and {MAX_TARGETS_PER_CALL}")
        rows, failed = [], []
        for target in targets:
            _check_pattern(target.get("Id"), _TARGET_ID, "targets.member.id")
            transform.check_target_input(target)
            problem = _unsupported_target(target)
            if problem:
                failed.append({"TargetId": target["Id"], "ErrorCode": "ValidationException",
                               "ErrorMessage": problem})
                continue
            rows.append(_target_row(found, target))
        if rows and not self.store.put_targets(found["bus"], found["name"], rows, MAX_TARGETS_PER_RULE):
            raise errors.LimitExceededException(
                "The requested resource exceeds the maximum number allowed.")
        self._rules_changed()
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    def remove_targets(self, rule: str, ids: list, event_bus_name: str | None = None,
                       force: bool = False) -> dict:
        found = self._rule(rule, event_bus_name)
        self.store.remove_targets(found["bus"], found["name"], list(ids))
        self._rules_changed()
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(self, rule: str, event_bus_name: str | None = None,
                             next_token: str | None = None, limit: int | None = None) -> dict:
        found = self._rule(rule, event_bus_name)
        rows, token = self.store.list_targets(found["bus"], found["name"], _limit(limit), next_token)
        answer: dict[str, Any] = {"Targets": [api_target(row) for row in rows]}
        if token:
            answer["NextToken"] = token
        return answer

    def list_rule_names_by_target(self, target_arn: str, event_bus_name: str | None = None,
                                  next_token: str | None = None, limit: int | None = None) -> dict:
        bus = self._bus(arns.event_bus_name(event_bus_name))["name"]
        names, token = self.store.rule_names_by_target(bus, target_arn, _limit(limit), next_token)
        answer: dict[str, Any] = {"RuleNames": names}
        if token:
            answer["NextToken"] = token
        return answer

    # ---- events
    def put_events(self, entries: list, endpoint_id: str | None = None) -> dict:
        return self.put_entries(entries)

    def put_entries(self, entries: list, event_ids: list[str] | None = None) -> dict:
        """PutEvents; with ``event_ids`` (a workflow's putEvents task, whose ids derive from the
        task attempt) an entry whose id is already stored is not stored again."""
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
            raise errors.ValidationException(
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_ENTRIES}")
        if sum(_entry_size(entry) for entry in entries) > MAX_PUT_EVENTS_BYTES:
            raise errors.ValidationException("Total size of the entries in the request is over the limit.")
        now = self.clock.now()
        answers, rows = [], []
        for index, entry in enumerate(entries):
            row, problem = self._event_row(entry, now)
            if problem is not None:
                answers.append(problem)
                continue
            if event_ids is not None:
                row["id"] = row["event"]["id"] = event_ids[index]
            rows.append(row)
            answers.append({"EventId": row["id"]})
        if rows:
            self.store.insert_events(rows, only_new=event_ids is not None)
            self._engine.dispatcher.wake()
        failed = sum(1 for answer in answers if "ErrorCode" in answer)
        return {"FailedEntryCount": failed, "Entries": answers}

    def publish(self, events: list[dict], event_bus_name: str = DEFAULT_BUS) -> list[str]:
        """Store complete events (each with its ``id``) unless their id is already stored:
        for sources that derive ids from their own message ids, so a message delivered twice
        becomes one event. Returns the ids stored now."""
        bus = self._bus(arns.event_bus_name(event_bus_name))["name"]
        now = self.clock.now()
        rows = []
        for event in events:
            if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event["id"]:
                raise errors.ValidationException("Each published event needs a string 'id'")
            full = {"version": "0", "account": self.account, "region": self.region,
                    "time": delivery.iso_time(now), "resources": [], "detail": {}, **event}
            rows.append({"id": event["id"], "bus": bus, "event": full, "ingested": now,
                         "rule": None, "matched": False, "due_at": now})
        stored = self.store.insert_events(rows, only_new=True) if rows else []
        if stored:
            self._engine.dispatcher.wake()
        return stored

    def test_event_pattern(self, event_pattern: str, event: str) -> dict:
        pattern = compile_pattern(event_pattern)
        return {"Result": bool(pattern.matches(check_event(event)))}

    # ---- Stepstone's own: dead letters and redelivery
    def list_dead_letters(self, next_token: str | None = None, limit: int | None = None) -> dict:
        rows, token = self.store.list_dead_letters(_limit(limit), next_token)
        answer: dict[str, Any] = {"DeadLetters": [_dead_letter(row) for row in rows]}
        if token:
            answer["NextToken"] = token
        return answer

    def redrive_dead_letter(self, dead_letter_id: int) -> dict:
        if not self.store.redrive_dead_letter(int(dead_letter_id), self.clock.now()):
            raise errors.ResourceNotFoundException(f"Dead letter {dead_letter_id} does not exist.")
        self._engine.dispatcher.wake()
        return {}

    def redeliver_event(self, event_id: str) -> dict:
        """Deliver a stored event to its matched targets again (idempotent per target)."""
        if not self.store.redeliver(event_id, self.clock.now()):
            raise errors.ResourceNotFoundException(f"Event {event_id} has no deliveries.")
        self._engine.dispatcher.wake()
        return {}

    def describe_event(self, event_id: str) -> dict:
        row = self.store.get_event(event_id)
        if row is None:
            raise errors.ResourceNotFoundException(f"Event {event_id} does not exist.")
        return {"Event": row["event"], "EventBusName": row["bus"], "IngestionTime": row["ingested"],
                "Deliveries": [{"Rule": d["rule"], "TargetId": d["target_id"], "Status": d["status"],
                                "Attempts": d["attempts"], "ExecutionArn": d["execution_arn"],
                                "LastError": d["last_error"]} for d in row["deliveries"]]}

    # ---- helpers
    def _default_bus(self) -> dict:
        return {"name": DEFAULT_BUS, "arn": arns.event_bus_arn(self.region, self.account, DEFAULT_BUS),
                "description": None, "creation_time": None}

    def _bus(self, name: str) -> dict:
        if name == DEFAULT_BUS:
            return self._default_bus()
        found = self.store.get_bus(name)
        if found is None:
            raise errors.ResourceNotFoundException(f"Event bus {name} does not exist.")
        return found

    def _rule(self, name: str, event_bus_name: str | None) -> dict:
        bus = self._bus(arns.event_bus_name(event_bus_name))["name"]
        rule = self.store.get_rule(bus, name)
        if rule is None:
            raise errors.ResourceNotFoundException(f"Rule {name} does not exist on EventBus {bus}.")
        return rule

    def _event_row(self, entry: dict, now: float) -> tuple[dict | None, dict | None]:
        for member in ("Source", "DetailType", "Detail"):
            if not entry.get(member):
                return None, _entry_error("InvalidArgument", f"Parameter {member} is not valid. "
                                          f"Reason: {member} is a required argument.")
        try:
            detail = json.loads(entry["Detail"])
        except (TypeError, ValueError, RecursionError):
            detail = None
        if not isinstance(detail, dict):
            return None, _entry_error("MalformedDetail", "Detail is malformed.")
        bus = arns.event_bus_name(entry.get("EventBusName"))
        if bus != DEFAULT_BUS and self.store.get_bus(bus) is None:
            return None, _entry_error("ResourceNotFoundException", f"Event bus {bus} does not exist.")
        moment = entry.get("Time")
        try:
            time_text = delivery.iso_time(float(moment) if moment is not None else now)
        except (TypeError, ValueError, OverflowError):  # past what a timestamp can hold
            return None, _entry_error("InvalidArgument", "Parameter Time is not valid.")
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": entry["DetailType"],
                 "source": entry["Source"], "account": self.account,
                 "time": time_text,
                 "region": self.region, "resources": list(entry.get("Resources") or []),
                 "detail": detail}
        return {"id": event["id"], "bus": bus, "event": event, "ingested": now, "rule": None,
                "matched": False, "due_at": now}, None


# --- pure helpers ----------------------------------------------------------------------------
def _check_pattern(value: Any, pattern: re.Pattern, member: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise errors.ValidationException(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: "
            f"{pattern.pattern.strip('^$').split('{')[0]}+")


def _limit(limit: int | None) -> int:
    if limit is None:
        return MAX_PAGE
    if not 1 <= int(limit) <= MAX_PAGE:
        raise errors.ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value between 1 and {MAX_PAGE}")
    return int(limit)


def _page(items: list, key, limit: int | None, token: str | None) -> tuple[list, str | None]:
    size = _limit(limit)
    if token:
        items = [item for item in items if key(item) > token]
    return items[:size], (key(items[size - 1]) if len(items) > size else None)


def _bus_answer(bus: dict) -> dict:
    answer = {"Name": bus["name"], "Arn": bus["arn"]}
    if bus.get("description"):
        answer["Description"] = bus["description"]
    if bus.get("creation_time") is not None:
        answer["CreationTime"] = bus["creation_time"]
        answer["LastModifiedTime"] = bus["creation_time"]
    return answer


def _rule_item(rule: dict) -> dict:
    item = {"Name": rule["name"], "Arn": rule["arn"], "State": rule["state"],
            "EventBusName": rule["bus"]}
    for column, member in (("event_pattern", "EventPattern"), ("description", "Description"),
                           ("schedule_expression", "ScheduleExpression"), ("role_arn", "RoleArn")):
        if rule[column] is not None:
            item[member] = rule[column]
    return item


def _unsupported_target(target: dict) -> str | None:
    arn = target.get("Arn")
    if not isinstance(arn, str) or not _STATE_MACHINE.match(arn):
        return (f"Target {target.get('Id')}: Stepstone delivers only to Step Functions state "
                f"machines (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME), not {arn!r}")
    return None


def _target_row(rule: dict, target: dict) -> dict:
    return {"bus": rule["bus"], "rule": rule["name"], "id": target["Id"], "arn": target["Arn"],
            "role_arn": target.get("RoleArn"), "input": target.get("Input"),
            "input_path": target.get("InputPath"),
            "input_transformer": target.get("InputTransformer"),
            "retry_policy": target.get("RetryPolicy"),
            "dead_letter_config": target.get("DeadLetterConfig")}


def _entry_size(entry: Any) -> int:
    """AWS's PutEvents entry size: Time (14), Source, DetailType, Detail and Resources."""
    if not isinstance(entry, dict):
        return 0
    size = 14 if entry.get("Time") is not None else 0
    for member in ("Source", "DetailType", "Detail"):
        if isinstance(entry.get(member), str):
            size += len(entry[member].encode("utf-8"))
    return size + sum(len(r.encode("utf-8")) for r in entry.get("Resources") or [] if isinstance(r, str))


def _entry_error(code: str, message: str) -> dict:
    return {"ErrorCode": code, "ErrorMessage": message}


def _dead_letter(row: dict) -> dict:
    return {"Id": row["id"], "EventId": row["event_id"], "EventBusName": row["bus"],
            "Rule": row["rule"], "TargetId": row["target_id"], "TargetArn": row["target_arn"],
            "DeadLetterArn": row["dead_letter_arn"], "Error": row["error"],
            "Attempts": row["attempts"], "Created": row["created"]}
