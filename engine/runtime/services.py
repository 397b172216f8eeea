"""What the executor asks of the engine around it (``executor.Services``): nested executions,
stopping children, waking activity pollers, and the status changes an execution publishes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine.eventbus import status
from engine.runtime import nested

if TYPE_CHECKING:
    from engine.service import Engine


class EngineServices:
    def __init__(self, engine: "Engine"):
        self.engine = engine

    def start_child(self, command: dict, parent_arn: str) -> list[dict]:
        return nested.start_child(self.engine, command, parent_arn)

    def child_finished(self, snapshot: dict, columns: dict) -> list[tuple[str, dict]]:
        return nested.child_finished(self.engine, snapshot, columns)

    def stop_child(self, arn: str, error: str | None, cause: str | None) -> None:
        self.engine.stop_execution(arn, error, cause, wait=False)

    def tokens_opened(self) -> None:
        self.engine.tokens_opened()

    def status_events(self, snapshot: dict, columns: dict) -> list[dict]:
        """The status change a finishing STANDARD execution publishes (none for others)."""
        if snapshot.get("status_events") is None:
            return []
        execution = status.execution_of_snapshot(snapshot, columns)
        return [status.status_change(execution, self.engine.settings.region,
                                     self.engine.settings.account, columns["stop_date"])]

    def events_published(self) -> None:
        self.engine.dispatcher.wake()
