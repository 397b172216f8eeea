"""The public Python API is small and pinned."""
import engine


def test_all_is_pinned():
    assert sorted(engine.__all__) == ["Engine", "errors", "task"]


def test_task_registers_explicitly():
    from engine.runtime import handlers

    @engine.task("pinned-api-test")
    def handler(event, context):
        return event

    assert handlers.lookup("pinned-api-test") is handler
    assert handlers.lookup("not-registered-anywhere") is None
