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

import json
import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Protocol

from engine.asl import interpreter
from engine.asl.model import Machine
from engine.clock import Clock
from engine.errors import ConflictError
from engine.runtime import invoker
from engine.settings import Settings
from engine.store import Store

logger = logging.getLogger(__name__)

CLAIM_BATCH = 8


def final_columns(step: interpreter.Step, now: float) -> dict:
    """The executions-row columns of a finished step."""
    return {"status": step.status, "stop_date": now,
            "output": json.dumps(step.output, separators=(",", ":"), ensure_ascii=False)
            if step.status == "SUCCEEDED" else None,
            "error": step.error, "cause": step.cause}


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
                 model_for: Callable[[str], Machine], env: interpreter.Env,
                 services: Services | None = None, mocks=None):
        self.store = store
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
            self._wake.wait(timeout)

    def run_once(self, owner: str, inline: bool = False) -> bool:
        """Claim and advance one batch; True if anything was claimed."""
        items = self.store.claim(owner, self.clock.now(), self.settings.lease_seconds, CLAIM_BATCH)
        for item in items:
            self.process(item, owner, inline)
        return bool(items)

    def process(self, item: dict, owner: str, inline: bool = False) -> None:
        arn = item["execution_arn"]
        now = self.clock.now()
        step = interpreter.advance(self.model_for(arn), item["snapshot"],
                                   [message["body"] for message in item["inbox"]], now, self.env)
        columns = final_columns(step, now) if step.finished else None
        posts, published = [], []
        if columns is not None and self.services is not None:
            if step.snapshot.get("parent"):
                posts = self.services.child_finished(step.snapshot, columns)
            published = self.services.status_events(step.snapshot, columns)
        try:
            self.store.commit(
                arn, item["version"], owner, snapshot=step.snapshot, due_at=step.due_at,
                events=step.events,  # already history_events rows
                execution=columns,
                consumed_inbox=[message["id"] for message in item["inbox"]],
                finished=step.finished, token_changes=step.token_changes, now=now, posts=posts,
                bus_events=published)
        except ConflictError:
            logger.info("lost the lease on %s; another worker goes on", arn)
            return
        if not step.finished:
            self.store.release(arn, owner)
        else:
            with self._finished:
                self._finished.notify_all()
        self.dispatch(arn, step.commands, inline)
        if step.token_changes and self.services is not None:
            self.services.tokens_opened()
        if published:
            self.services.events_published()

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
            self._submit(inline, self._carry_out, arn, command, key)

    def _submit(self, inline: bool, function: Callable, *args: Any) -> None:
        if inline or self._pool is None:
            function(*args)
        else:
            self._pool.submit(function, *args)

    def _stop_child(self, command: dict) -> None:
        try:
            self.services.stop_child(command["arn"], command.get("error"), command.get("cause"))
        except Exception:  # noqa: BLE001 - a child already gone needs no stopping
            logger.exception("could not stop child execution %s", command["arn"])

    def replies_to(self, arn: str, command: dict) -> list[dict]:
        """Carry out one invoke command: the engine's own integrations, else the invoker."""
        replies = self.services.answer(command, arn) if self.services is not None else None
        if replies is None:
            replies = [invoker.invoke(command, arn, self.env.region, self.env.account, self.settings,
                                      self.clock.now)]
        return replies

    def _carry_out(self, arn: str, command: dict, key: tuple) -> None:
        try:
            for reply in self.replies_to(arn, command):
                self.store.post(arn, reply, self.clock.now())
        except Exception:  # noqa: BLE001 - the answer is re-requested after the redispatch delay
            logger.exception("task %s of %s could not be carried out", command.get("state"), arn)
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
