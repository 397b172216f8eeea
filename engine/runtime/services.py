"""What the executor asks of the engine around it (``executor.Services``): nested executions,
stopping children, waking activity pollers, and the status changes an execution publishes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from engine import errors
from engine.eventbus import status
from engine.runtime import nested, publish

if TYPE_CHECKING:
    from engine.service import Engine


class EngineServices:
    def __init__(self, engine: "Engine"):
        self.engine = engine

    def answer(self, command: dict, execution_arn: str) -> list[dict] | None:
        """Carry out a task the engine serves itself (nested executions, putEvents); None for
        the invoker's (handlers, HTTP)."""
        if nested.is_start_execution(command["resource"]):
            return nested.start_child(self.engine, command, execution_arn)
        if publish.is_put_events(command["resource"]):
            return [self._put_events(command, execution_arn)]
        return None

    def _put_events(self, command: dict, execution_arn: str) -> dict:
        state_machine = command["context"]["StateMachine"]["Id"]
        entries = publish.task_entries(command["payload"], execution_arn, state_machine)
        try:
            ids = publish.event_ids(execution_arn, command, len(entries)) if isinstance(entries, list) else None
            answer = self.engine.events.put_entries(entries, ids)
        except errors.ApiError as error:
            return {"kind": "task_result", "path": command["path"], "invocation": command["invocation"],
                    "error": f"EventBridge.{error.code}", "cause": str(error)}
        return publish.reply(command, answer)

    def child_finished(self, snapshot: dict, columns: dict) -> list[tuple[str, dict]]:
        return nested.child_finished(self.engine, snapshot, columns)

    def stop_child(self, arn: str, error: str | None, cause: str | None) -> None:
        self.engine.stop_execution(arn, error, cause, wait=False)

    def tokens_opened(self) -> None:
        self.engine.tokens_opened()

    def status_events(self, snapshot: dict, columns: dict) -> list[dict]:
        """The status change a finishing STANDARD execution publishes (none for others)."""
        if snapshot.get("status_events") is None or not self.engine.dispatcher.has_rules(status.DEFAULT_BUS):
            return []
        execution = status.execution_of_snapshot(snapshot, columns)
        event = status.status_change(execution, self.engine.settings.region,
                                     self.engine.settings.account, columns["stop_date"])
        return [event] if self.engine.dispatcher.has_listener(event) else []

    def events_published(self) -> None:
        self.engine.dispatcher.wake()
