"""The executor: claim -> advance -> commit -> carry out commands, on worker threads.

Each worker thread claims due work items (one per running execution) with a lease, feeds the
inbox to the pure interpreter, commits the step in one transaction and only then carries out
the step's commands (task invocations) on a bounded pool. A command's answer is posted to the
execution's inbox, which makes the work item due again. Nothing is held only in memory: after
a crash the leases expire and another worker (or the restarted process) goes on from the last
commit. A task whose answer was lost with the process is invoked again after
``task_redispatch_seconds`` with the same idempotency key.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Protocol

from engine.asl import interpreter
from engine.asl.history import to_json
from engine.asl.model import Machine
from engine.clock import Clock
from engine.errors import ConflictError
from engine.observability import spans
from engine.observability.observer import Observer
from engine.runtime import invoker
from engine.runtime.answers import LocalAnswers, Resume
from engine.settings import Settings
from engine.store import Step, StepWrite, Store

logger = logging.getLogger(__name__)

CLAIM_BATCH = 64  # work items one round claims, advances and commits together


def final_columns(step: interpreter.Step, now: float) -> dict:
    """The executions-row columns of a finished step."""
    return {"status": step.status, "stop_date": now, "output": output_text(step),
            "error": step.error, "cause": step.cause}


def output_text(step: interpreter.Step) -> str | None:
    """A succeeded execution's output as JSON text (the text its history already holds)."""
    if step.status != "SUCCEEDED":
        return None
    return step.output_text if step.output_text is not None else to_json(step.output)


class Services(Protocol):
    """What commands other than handler calls need from the engine around the executor."""

    def answer(self, command: dict, execution_arn: str) -> list[dict] | None: ...
    def child_finished(self, snapshot: dict, columns: dict) -> list[tuple[str, dict]]: ...
    def stop_child(self, arn: str, error: str | None, cause: str | None) -> None: ...
    def tokens_opened(self) -> None: ...
    def status_events(self, snapshot: dict, columns: dict) -> list[dict]: ...
    def events_published(self) -> None: ...


class Executor:
    def __init__(self, store: Store, settings: Settings, clock: Clock,
                 model_for: Callable[[str, dict], Machine], env: interpreter.Env,
                 services: Services | None = None, mocks=None, observer: Observer | None = None):
        self.store = store
        self.observer = observer or Observer()  # told of every step this executor commits
        self.services = services
        self.mocks = mocks  # a mocks.Session (stepstone run --mock-config): answers tasks itself
        self.settings = settings
        self.clock = clock
        self.model_for = model_for
        self.env = env
        self.owner_prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Condition()
        self._finished = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: set[tuple[str, str, int]] = set()
        self._inflight_lock = threading.Lock()
        self._answers = LocalAnswers(on_answer=self.wake)  # replies for the next round

    # ---- lifecycle
    def start(self, workers: int | None = None) -> None:
        if self._threads:
            return
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(self.settings.handler_threads, thread_name_prefix="stepstone-task")
        for index in range(workers or self.settings.workers):
            thread = threading.Thread(target=self._work, args=(f"{self.owner_prefix}:{index}",),
                                      name=f"stepstone-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        resume, posts = self._answers.take()  # no round will hand them over now
        for arn, reply in posts + _replies_of(resume):
            self.store.post(arn, reply, self.clock.now())

    @property
    def running(self) -> bool:
        return bool(self._threads)

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def wait_finished(self, timeout: float) -> None:
        """Block until some execution finishes (or ``timeout``): for synchronous callers."""
        with self._finished:
            self._finished.wait(timeout)

    # ---- the worker loop
    def _work(self, owner: str) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.run_once(owner)
            except Exception:  # noqa: BLE001 - a worker must survive a bad item or a DB blip
                logger.exception("executor worker %s failed; retrying", owner)
                worked = False
            if not worked:
                self._sleep()

    def _sleep(self) -> None:
        timeout = self.settings.poll_seconds
        due = self.store.next_due()
        if due is not None:
            timeout = max(0.0, min(timeout, due - self.clock.now()))
        with self._wake:
            if not self._answers:
                self._wake.wait(timeout)

    def run_once(self, owner: str, inline: bool = False) -> bool:
        """One round: post the answers gathered since the last one that go through the inbox
        and claim a batch of due items (one transaction), advance those and the items resumed
        from memory with their answers, record every step in one transaction (a group commit),
        then carry out the steps' commands. True if anything was handed over or claimed."""
        resume, posts = self._answers.take()
        try:
            items = self.store.claim_round(owner, self.clock.now(), self.settings.lease_seconds,
                                           CLAIM_BATCH, posts)
        except Exception:
            self._answers.give_back(posts + _replies_of(resume))
            raise
        for item in items:  # claimed: the kept snapshot may be stale; the answers still count
            self._answers.forget(item["execution_arn"])
            waiting = resume.pop(item["execution_arn"], None)
            item["replies"] = waiting.replies if waiting is not None else []
        now = self.clock.now()
        items += [{"execution_arn": arn, "version": waiting.version, "snapshot": waiting.snapshot,
                   "inbox": [], "replies": waiting.replies, "unleased_at": now}
                  for arn, waiting in resume.items()]
        if items and self.observer.tracing:  # before advance, which changes the snapshots in place
            for item in items:
                item["open_states"] = spans.open_states(item["snapshot"])
        try:
            committed = self._commit(owner, [triple for triple in map(self._advance, items)
                                             if triple is not None])
        except Exception:  # the database failed: the inbox still holds what was read from it,
            self._answers.give_back(_replies_of_items(items))  # and memory gets back the rest
            raise
        if committed:
            self.observer.committed([(item["execution_arn"], step, item.get("open_states"))
                                     for item, step, _ in committed])
        for item, step, record in committed:
            self._after_commit(item, step, record, inline)
        return bool(items or posts)

    def _advance(self, item: dict) -> tuple[dict, interpreter.Step, Step] | None:
        """The item's next step and what to record of it; None (the item is left to its lease)
        if the interpreter failed, which is a bug in the engine, not in the execution."""
        arn = item["execution_arn"]
        now = self.clock.now()
        messages = [message["body"] for message in item["inbox"]] + item.get("replies", [])
        try:
            step = interpreter.advance(self.model_for(arn, item["snapshot"]), item["snapshot"],
                                       messages, now, self.env, owned=True)
        except Exception:  # noqa: BLE001 - the other items of the batch go on
            logger.exception("could not advance %s; it is retried when its lease expires", arn,
                             extra={"executionArn": arn})
            return None
        columns = final_columns(step, now) if step.finished else None
        posts, published = [], []
        if columns is not None and self.services is not None:
            if step.snapshot.get("parent"):
                posts = self.services.child_finished(step.snapshot, columns)
            published = self.services.status_events(step.snapshot, columns)
        write = StepWrite(arn, item["version"], step.snapshot, step.due_at, step.events, columns,
                          [message["id"] for message in item["inbox"]], step.finished,
                          item.get("unleased_at"))
        return item, step, Step(write, step.token_changes, posts, published, now)

    def _commit(self, owner: str, advanced: list) -> list:
        """Record the steps in one transaction; if one of the items moved on (another worker
        has it now), record them one by one so that the others still count. Returns the
        (item, step, record) triples recorded. The answers a dropped step had taken from
        memory go through the inbox instead."""
        if not advanced:
            return []
        try:
            self.store.commit_steps(owner, [record for _, _, record in advanced])
            return advanced
        except ConflictError:
            if len(advanced) > 1:
                return [triple for triple in advanced if self._commit(owner, [triple])]
        item = advanced[0][0]
        logger.info("%s moved on elsewhere; this step is dropped", item["execution_arn"],
                    extra={"executionArn": item["execution_arn"]})
        self._answers.give_back(_replies_of_items([item]))
        return []

    def _after_commit(self, item: dict, step: interpreter.Step, record: Step, inline: bool) -> None:
        arn = item["execution_arn"]
        if step.finished:
            with self._finished:
                self._finished.notify_all()
        elif step.commands:  # answers will come: keep the snapshot to resume from (answers.py)
            self._answers.remember(arn, item["version"] + 1, step.snapshot)
        self.dispatch(arn, step.commands, inline)
        if step.token_changes and self.services is not None:
            self.services.tokens_opened()
        if record.bus_events:
            self.services.events_published()

    def _answered(self, arn: str, replies: list[dict], inline: bool) -> None:
        """Hand a task's replies to the execution: through the next round when rounds run here
        (worker threads, or ``run_until_idle`` for ``inline`` calls; see answers.py), else
        posted at once."""
        if inline or self.running:
            self._answers.add(arn, replies)
            return
        for reply in replies:
            self.store.post(arn, reply, self.clock.now())

    # ---- commands
    def dispatch(self, arn: str, commands: list[dict], inline: bool = False) -> None:
        if self.mocks is not None:  # numbered here, in the interpreter's order, before any answer
            replies, commands = self.mocks.split(arn, commands)
            for reply in replies:
                self.store.post(arn, reply, self.clock.now())
            if replies:
                self.wake()
        for command in commands:
            if command["kind"] == "stop_execution":
                self._submit(inline, self._stop_child, command)
                continue
            key = (arn, command["path"], command["invocation"])
            with self._inflight_lock:
                if key in self._inflight:
                    continue  # still running here: a re-dispatch is for lost answers only
                self._inflight.add(key)
            self._submit(inline, self._carry_out, arn, command, key, inline, time.perf_counter())

    def _submit(self, inline: bool, function: Callable, *args: Any) -> None:
        if inline or self._pool is None:
            function(*args)
        else:
            self._pool.submit(function, *args)

    def _stop_child(self, command: dict) -> None:
        try:
            self.services.stop_child(command["arn"], command.get("error"), command.get("cause"))
        except Exception:  # noqa: BLE001 - a child already gone needs no stopping
            logger.exception("could not stop child execution %s", command["arn"],
                             extra={"executionArn": command["arn"]})

    def replies_to(self, arn: str, command: dict) -> list[dict]:
        """Carry out one invoke command: the engine's own integrations, else the invoker."""
        replies = self.services.answer(command, arn) if self.services is not None else None
        if replies is None:
            replies = [invoker.invoke(command, arn, self.env.region, self.env.account, self.settings,
                                      self.clock.now)]
        return replies

    def _carry_out(self, arn: str, command: dict, key: tuple, inline: bool, handed_out: float) -> None:
        try:
            replies = self.replies_to(arn, command)
            if replies and replies[-1].get("kind") == "task_result":  # not a callback's submission
                self.observer.task_done(command.get("resource", ""), time.perf_counter() - handed_out)
            self._answered(arn, replies, inline)
        except Exception:  # noqa: BLE001 - the answer is re-requested after the redispatch delay
            logger.exception("task %s of %s could not be carried out", command.get("state"), arn,
                             extra={"executionArn": arn, "stateName": command.get("state")})
        finally:
            with self._inflight_lock:
                self._inflight.discard(key)
            self.wake()

    # ---- synchronous driving (stepstone run, tests)
    def run_until_idle(self, max_rounds: int = 1_000_000) -> None:
        """Advance every due execution in this thread until nothing is due now."""
        owner = f"{self.owner_prefix}:inline"
        for _ in range(max_rounds):
            if not self.run_once(owner, inline=True):
                return


def _replies_of(resume: dict[str, Resume]) -> list[tuple[str, dict]]:
    return [(arn, reply) for arn, waiting in resume.items() for reply in waiting.replies]


def _replies_of_items(items: list[dict]) -> list[tuple[str, dict]]:
    return [(item["execution_arn"], reply) for item in items for reply in item["replies"]]
