"""Answers of the task calls this process carries out, on their way to the next round.

A handler's result need not be durable before its execution records it: nobody was told it was
accepted, and a result lost with the process is asked for again (``task_redispatch_seconds``,
same idempotency key). So results wait here for the worker's next round instead of taking a
transaction each, and the round hands them over in bulk.

Better still, an execution whose step this worker has just committed is usually the one to take
the answer: the worker keeps that step's snapshot (``remember``) and, when the answer arrives,
advances it from memory without reading it back, leasing it or going through the inbox
(``take``'s ``resume``); the step's write is guarded by the version and a free lease instead. If
someone else moved it on meanwhile, that write fails and the answer is posted to the inbox.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

MAX_REMEMBERED = 10_000  # snapshots kept for resuming; the oldest are forgotten first


@dataclass
class Resume:
    """An item to lease again at ``version`` and advance from ``snapshot`` with ``replies``."""
    version: int
    snapshot: dict
    replies: list[dict] = field(default_factory=list)


class LocalAnswers:
    def __init__(self, on_answer=lambda: None):
        self._lock = threading.Lock()
        self._on_answer = on_answer  # wakes the worker
        self._replies: list[tuple[str, dict]] = []  # (execution ARN, reply), in arrival order
        self._remembered: dict[str, tuple[int, dict]] = {}  # ARN -> (version, snapshot)

    def __bool__(self) -> bool:
        return bool(self._replies)

    def add(self, arn: str, replies: list[dict]) -> None:
        with self._lock:
            self._replies.extend((arn, reply) for reply in replies)
        self._on_answer()

    def remember(self, arn: str, version: int, snapshot: dict) -> None:
        """The item of ``arn`` is released at ``version`` with ``snapshot``, waiting for answers."""
        with self._lock:
            self._remembered.pop(arn, None)
            self._remembered[arn] = (version, snapshot)
            while len(self._remembered) > MAX_REMEMBERED:
                del self._remembered[next(iter(self._remembered))]

    def forget(self, arn: str) -> None:
        with self._lock:
            self._remembered.pop(arn, None)

    def take(self) -> tuple[dict[str, Resume], list[tuple[str, dict]]]:
        """Everything answered so far: the items to resume from memory (each with its replies)
        and the replies to post (their items are not remembered)."""
        with self._lock:
            replies, self._replies = self._replies, []
            resume: dict[str, Resume] = {}
            posts = []
            for arn, reply in replies:
                if arn not in resume and arn in self._remembered:
                    resume[arn] = Resume(*self._remembered.pop(arn))
                if arn in resume:
                    resume[arn].replies.append(reply)
                else:
                    posts.append((arn, reply))
            return resume, posts

    def give_back(self, posts: list[tuple[str, dict]]) -> None:
        """Replies a round could not hand over: posted by the next round."""
        with self._lock:
            self._replies[:0] = posts
