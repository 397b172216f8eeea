"""The bus dispatcher: stored events -> matching rules -> state machine executions.

A thread (started with the executor) or ``run_until_idle`` (tests, ``stepstone run``) does, per
round: fire the scheduled rules that are due (a guarded update of the rule's next fire time
decides which process fires a tick), claim due events with a lease, match a new event once
against its bus's enabled rules (compiled into one RuleIndex per bus, rebuilt when the rules
version changes, whichever process changed them) into delivery rows, and attempt each pending
delivery: StartExecution with the transformed input and a name derived from (bus, rule,
target, event), so an attempt repeated after a crash finds the execution it started. A failed
attempt is retried with back-off per the target's RetryPolicy, then dead-lettered.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING, Callable

from engine import arns, errors
from engine.clock import Clock
from engine.eventbus import delivery, transform
from engine.settings import Settings
from engine.store import Store

if TYPE_CHECKING:
    from engine.eventbus.index import RuleIndex

logger = logging.getLogger(__name__)

CLAIM_BATCH = 16
# how stale this process's view of other processes' rule changes may be when it decides whether
# an event it publishes has any listener (EventBridge, too, applies rule changes eventually)
RULES_TTL_SECONDS = 1.0
PENDING, DELIVERED, DEAD = "PENDING", "DELIVERED", "DEAD"
# errors a retry cannot fix: the delivery goes to the dead letters at once
FINAL_ERRORS = (transform.TransformError, errors.InvalidExecutionInput, errors.InvalidArn,
                errors.InvalidName)

StartTarget = Callable[[str, str, str], str]  # (state machine ARN, name, input) -> execution ARN
OnDelivery = Callable[[str, str, str], None]  # (bus, rule, outcome): an attempt's outcome recorded
DELIVERED_OUTCOME, RETRYING_OUTCOME, DEAD_OUTCOME = "delivered", "retrying", "dead"


class Dispatcher:
    def __init__(self, store: Store, settings: Settings, clock: Clock, start_target: StartTarget,
                 on_delivery: OnDelivery | None = None):
        self.store = store
        self.on_delivery = on_delivery or (lambda bus, rule, outcome: None)  # the metrics
        self.settings = settings
        self.clock = clock
        self.start_target = start_target
        self.owner_prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}:bus"
        self._version: int | None = None
        self._indexes: dict[str, RuleIndex] = {}
        self._rules_read_at = float("-inf")  # monotonic time of the last rules refresh
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="stepstone-bus", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _loop(self) -> None:
        owner = f"{self.owner_prefix}:0"
        while not self._stopping.is_set():
            try:
                worked = self.run_once(owner)
            except Exception:  # noqa: BLE001 - the dispatcher must survive a DB blip
                logger.exception("event dispatcher failed; retrying")
                worked = False
            if not worked:
                self._sleep()

    def _sleep(self) -> None:
        timeout = self.settings.poll_seconds
        due = self.store.next_event_due()
        if due is not None:
            timeout = max(0.0, min(timeout, due - self.clock.now()))
        with self._wake:
            self._wake.wait(timeout)

    def run_until_idle(self, max_rounds: int = 100_000) -> bool:
        """Dispatch in this thread until nothing is due now; True if anything was done."""
        owner = f"{self.owner_prefix}:inline"
        worked = False
        for _ in range(max_rounds):
            if not self.run_once(owner):
                return worked
            worked = True
        return worked

    def run_once(self, owner: str) -> bool:
        fired = self.fire_schedules()
        now = self.clock.now()
        due = self.store.next_event_due()  # a read: idle rounds take no write lock (SQLite)
        if due is None or due > now:
            return fired
        rows = self.store.claim_events(owner, now, self.settings.lease_seconds, CLAIM_BATCH)
        if rows:
            self._refresh_rules()  # after the claim: sees every rule older than these events
        for row in rows:
            try:
                self.process(row, owner)
            except errors.ConflictError:
                logger.info("lost the lease on event %s; another dispatcher goes on", row["id"])
        return bool(rows) or fired

    # ---- schedules
    def fire_schedules(self) -> bool:
        now = self.clock.now()
        fired = False
        for rule in self.store.due_schedules(now):
            from engine.eventbus import schedule  # only once a rule is due: start-up need not pay for it

            try:
                parsed = schedule.parse(rule["schedule_expression"])
            except errors.ValidationException:
                continue
            following = (parsed.next_tick(rule["next_fire"], now) if isinstance(parsed, schedule.Rate)
                         else parsed.next_after(now))
            event = delivery.scheduled_event(rule["arn"], self.settings.region,
                                             self.settings.account, rule["next_fire"])
            row = {"id": event["id"], "bus": rule["bus"], "event": event, "ingested": now,
                   "rule": rule["name"], "matched": False, "due_at": now}
            fired = self.store.fire_schedule(rule, following, row) or fired
        return fired

    # ---- matching
    def rules_changed(self) -> None:
        """This process changed rules or targets: the next ``has_listener`` reads them again."""
        self._rules_read_at = float("-inf")

    def has_rules(self, bus: str) -> bool:
        """Whether ``bus`` has any enabled rule with a pattern: if not, ``has_listener`` is False
        for every event on it, and the event need not even be built."""
        if time.monotonic() - self._rules_read_at > RULES_TTL_SECONDS:
            self._refresh_rules()
        return bus in self._indexes

    def has_listener(self, row: dict) -> bool:
        """Whether an event the engine publishes itself (an outbox row) matches an enabled rule.

        EventBridge drops an event that matches no rule, so such an event need not be written at
        all: an execution's status changes cost nothing while no rule listens for them.
        """
        if not self.has_rules(row["bus"]):
            return False
        index = self._indexes.get(row["bus"])  # (another thread may have refreshed them)
        return index is not None and bool(index.match(row["event"]))

    def _refresh_rules(self) -> None:
        self._rules_read_at = time.monotonic()
        version = self.store.rules_version()
        if version == self._version:
            return
        rules = self.store.enabled_rules()
        self._indexes, self._version = (_rule_indexes(rules) if rules else {}), version

    def _matching_rules(self, row: dict) -> list[str]:
        if row["rule"] is not None:  # a scheduled event: only the rule that fired it
            return [row["rule"]]
        index = self._indexes.get(row["bus"])
        return sorted(index.match(row["event"])) if index is not None else []

    def _deliveries(self, row: dict, now: float) -> list[dict]:
        rules = self._matching_rules(row)
        if not rules:
            return []
        region, account = self.settings.region, self.settings.account
        return [{"event_id": row["id"], "rule": target["rule"], "target_id": target["id"],
                 "bus": row["bus"], "rule_arn": arns.rule_arn(region, account, row["bus"], target["rule"]),
                 "target": api_target(target), "status": PENDING, "attempts": 0,
                 "next_attempt": now, "execution_arn": None, "last_error": None, "created": now}
                for target in self.store.targets_of_rules(row["bus"], rules)]

    # ---- delivering
    def process(self, row: dict, owner: str) -> None:
        if not row["matched"]:
            row["deliveries"] = self._deliveries(row, self.clock.now())
            self.store.record_matches(row["id"], owner, row["deliveries"])
        for item in row["deliveries"]:
            if item["status"] == PENDING and (item["next_attempt"] or 0) <= self.clock.now():
                self.attempt(row, item, owner)
        self.store.release_event(row["id"], owner)

    def attempt(self, row: dict, item: dict, owner: str) -> None:
        target = item["target"]
        try:
            text = transform.target_input(target, row["event"], item["rule"], item["rule_arn"],
                                          row["ingested"])
            _check_json(text)
            name = delivery.execution_name(row["bus"], item["rule"], item["target_id"], row["id"])
            execution = self.start_target(target["Arn"], name, text)
        except FINAL_ERRORS as error:
            self._dead(item, owner, item["attempts"] + 1, _describe(error))
        except Exception as error:  # noqa: BLE001 - anything else may pass on a later attempt
            self._failed(row, item, owner, _describe(error))
        else:
            self.store.settle_delivery(owner, item, {
                "status": DELIVERED, "execution_arn": execution, "next_attempt": None})
            item["status"] = DELIVERED
            self.on_delivery(item["bus"], item["rule"], DELIVERED_OUTCOME)

    def _failed(self, row: dict, item: dict, owner: str, error: str) -> None:
        attempts = item["attempts"] + 1
        now = self.clock.now()
        retry_at = delivery.retry_decision(item["target"].get("RetryPolicy"), attempts,
                                           now - row["ingested"], now,
                                           self.settings.event_retry_seconds)
        if retry_at is None:
            self._dead(item, owner, attempts, error)
            return
        logger.info("delivery of event %s to %s failed (attempt %d), retrying: %s",
                    item["event_id"], item["target"]["Arn"], attempts, error,
                    extra=_delivery_fields(item))
        self.store.settle_delivery(owner, item, {"attempts": attempts, "next_attempt": retry_at,
                                                 "last_error": error})
        self.on_delivery(item["bus"], item["rule"], RETRYING_OUTCOME)

    def _dead(self, item: dict, owner: str, attempts: int, error: str) -> None:
        logger.warning("event %s could not be delivered to %s after %d attempt(s): %s",
                       item["event_id"], item["target"]["Arn"], attempts, error,
                       extra=_delivery_fields(item))
        letter = {"event_id": item["event_id"], "bus": item["bus"], "rule": item["rule"],
                  "target_id": item["target_id"], "target_arn": item["target"]["Arn"],
                  "dead_letter_arn": (item["target"].get("DeadLetterConfig") or {}).get("Arn"),
                  "error": error, "attempts": attempts, "created": self.clock.now()}
        self.store.settle_delivery(owner, item, {"status": DEAD, "attempts": attempts,
                                                 "next_attempt": None, "last_error": error},
                                   dead_letter=letter)
        item["status"] = DEAD
        self.on_delivery(item["bus"], item["rule"], DEAD_OUTCOME)


def _rule_indexes(rules: list[dict]) -> dict[str, RuleIndex]:
    """One RuleIndex per bus of these enabled rules; a rule with an unusable pattern is left out."""
    # imported here, once there are rules: the pattern compiler costs start-up (`stepstone run`) ~10 ms
    from engine.eventbus.index import RuleIndex
    from engine.eventbus.patterns import compile_pattern

    indexes: dict[str, RuleIndex] = {}
    for rule in rules:
        try:
            pattern = compile_pattern(rule["event_pattern"])
        except errors.ApiError as error:
            logger.warning("rule %s has an unusable pattern: %s", rule["arn"], error)
            continue
        indexes.setdefault(rule["bus"], RuleIndex()).add(rule["name"], pattern)
    return indexes


def api_target(row: dict) -> dict:
    """A stored target row in the PutTargets/ListTargetsByRule shape."""
    target = {"Id": row["id"], "Arn": row["arn"]}
    for column, member in (("role_arn", "RoleArn"), ("input", "Input"), ("input_path", "InputPath"),
                           ("input_transformer", "InputTransformer"),
                           ("retry_policy", "RetryPolicy"), ("dead_letter_config", "DeadLetterConfig")):
        if row.get(column) is not None:
            target[member] = row[column]
    return target


def _delivery_fields(item: dict) -> dict:
    """A delivery's log fields: its target is a state machine, its event has an id."""
    return {"stateMachineArn": item["target"]["Arn"], "eventId": item["event_id"],
            "rule": item["rule"], "bus": item["bus"]}


def _check_json(text: str) -> None:
    try:
        json.loads(text)
    except ValueError:
        raise transform.TransformError(
            f"The target input is not JSON, which a state machine needs: {text[:200]}") from None


def _describe(error: Exception) -> str:
    code = getattr(error, "code", None) or type(error).__name__
    return f"{code}: {error}"
