"""Store: state machines, revisions, executions, history and pagination on every database."""
from __future__ import annotations

import pytest

from engine.errors import ConflictError, InvalidToken, StoreError
from engine.store import Store

REGION = "arn:aws:states:us-east-1:123456789012"
ROLE = "arn:aws:iam::123456789012:role/test"


def state_machine(name: str = "sm", created: float = 1000.0, **changes) -> dict:
    return {"arn": f"{REGION}:stateMachine:{name}", "name": name, "type": "STANDARD",
            "status": "ACTIVE", "definition": '{"StartAt":"A","States":{}}', "role_arn": ROLE,
            "creation_date": created, **changes}


def execution(name: str = "ex", sm: str = "sm", started_at: float = 1000.0, **changes) -> dict:
    return {"arn": f"{REGION}:execution:{sm}:{name}",
            "state_machine_arn": f"{REGION}:stateMachine:{sm}", "name": name,
            "type": "STANDARD", "status": "RUNNING", "input": "{}", "start_date": started_at,
            **changes}


def event(event_id: int, kind: str = "PassStateEntered", timestamp: float = 1000.0,
          details: dict | None = None) -> dict:
    return {"id": event_id, "previous_event_id": event_id - 1 or None, "timestamp": timestamp,
            "type": kind, "details": details}


def started(store: Store, name: str = "ex", due_at: float | None = 1000.0,
            snapshot: dict | None = None) -> str:
    """Insert a running execution with its ExecutionStarted event and work item; its arn."""
    row = execution(name)
    store.insert_execution(row, snapshot or {"state": "A"}, due_at,
                           [event(1, "ExecutionStarted", details={"input": "{}"})])
    return row["arn"]


# -- lifecycle ------------------------------------------------------------------------------

def test_a_new_database_is_empty_until_upgraded(store_url):
    with Store(store_url) as store:
        assert store.is_empty()
        store.upgrade()
        assert not store.is_empty()
        store.upgrade()  # a second upgrade finds nothing to do
        assert store.dialect_name in ("sqlite", "postgresql")


def test_database_errors_become_store_errors(store_url):
    with Store(store_url) as store:  # never upgraded: no tables
        with pytest.raises(StoreError, match="stepstone db upgrade"):
            store.get_execution("arn:nope")


def test_a_row_missing_a_required_column_is_not_mistaken_for_a_conflict(store):
    with pytest.raises(StoreError) as caught:
        store.insert_state_machine(state_machine(definition=None))
    assert not isinstance(caught.value, ConflictError)


# -- state machines -------------------------------------------------------------------------

def test_state_machine_round_trips_json_columns(store):
    row = state_machine(tags=[{"key": "team", "value": "ops"}],
                        logging_configuration={"level": "OFF", "includeExecutionData": False})
    store.insert_state_machine(row)
    found = store.get_state_machine(row["arn"])
    assert found["tags"] == [{"key": "team", "value": "ops"}]
    assert found["logging_configuration"] == {"level": "OFF", "includeExecutionData": False}
    assert found["creation_date"] == 1000.0 and found["description"] is None


@pytest.mark.parametrize("clash", [
    state_machine("other", arn=state_machine()["arn"]),  # same arn
    state_machine(arn=f"{REGION}:stateMachine:other"),  # same name
])
def test_duplicate_state_machine_is_a_conflict(store, clash):
    store.insert_state_machine(state_machine())
    with pytest.raises(ConflictError, match="already exists"):
        store.insert_state_machine(clash)
    assert store.get_state_machine(f"{REGION}:stateMachine:other") is None


def test_update_and_delete_state_machine(store):
    row = state_machine()
    store.insert_state_machine(row)
    store.update_state_machine(row["arn"], {"definition": "{}", "update_date": 2000.5})
    found = store.get_state_machine(row["arn"])
    assert (found["definition"], found["update_date"]) == ("{}", 2000.5)
    store.delete_state_machine(row["arn"])
    assert store.get_state_machine(row["arn"]) is None
    with pytest.raises(ConflictError):
        store.update_state_machine(row["arn"], {"definition": "{}"})


def test_state_machines_page_oldest_first(store):
    for index in range(5):
        store.insert_state_machine(state_machine(f"sm{index}", created=1000.0 + index % 2))
    names, cursor = [], None
    for expected_size in (2, 2, 1):
        rows, cursor = store.list_state_machines(2, cursor)
        assert len(rows) == expected_size
        names += [row["name"] for row in rows]
    assert cursor is None
    assert names == ["sm0", "sm2", "sm4", "sm1", "sm3"]  # by creation date, then arn


def test_exact_last_page_has_no_cursor(store):
    store.insert_state_machine(state_machine())
    assert store.list_state_machines(1) == ([store.get_state_machine(state_machine()["arn"])],
                                            None)


def test_foreign_cursor_is_an_invalid_token(store):
    with pytest.raises(InvalidToken):
        store.list_state_machines(2, "not-a-cursor")


def test_revisions_get_new_ids_and_outlive_their_state_machine(store):
    first = store.insert_revision(f"{REGION}:stateMachine:sm", "{}", ROLE, 1.0)
    second = store.insert_revision(f"{REGION}:stateMachine:sm", "{ }", ROLE, 2.0)
    assert second > first
    store.delete_state_machine(f"{REGION}:stateMachine:sm")
    assert store.get_revision(first) == {
        "id": first, "state_machine_arn": f"{REGION}:stateMachine:sm", "definition": "{}",
        "role_arn": ROLE, "created": 1.0}
    assert store.get_revision(second + 100) is None


# -- executions -----------------------------------------------------------------------------

def test_insert_and_get_execution(store):
    arn = started(store)
    found = store.get_execution(arn)
    assert (found["status"], found["redrive_count"], found["stop_date"]) == ("RUNNING", 0, None)
    assert store.get_execution(arn + "-missing") is None


def test_duplicate_execution_is_a_conflict_and_records_nothing(store):
    arn = started(store)
    with pytest.raises(ConflictError, match="already exists"):
        store.insert_execution(execution(), {"state": "B"}, 1.0, [event(1), event(2)])
    assert [e["type"] for e in store.get_history(arn)] == ["ExecutionStarted"]
    assert store.claim("w", 5000.0, 30, 10)[0]["snapshot"] == {"state": "A"}


def test_finished_or_express_execution_has_no_work_item(store):
    row = execution(type="EXPRESS", status="SUCCEEDED", output='{"ok":true}', stop_date=1001.0)
    store.insert_execution(row, None, None, [])
    assert store.get_execution(row["arn"])["output"] == '{"ok":true}'
    assert store.claim("w", 5000.0, 30, 10) == []
    assert store.post(row["arn"], {"stop": True}, 5000.0) is False


def test_update_execution(store):
    arn = started(store)
    store.update_execution(arn, {"status": "SUCCEEDED", "output": "1", "stop_date": 1002.0})
    assert store.get_execution(arn)["status"] == "SUCCEEDED"
    with pytest.raises(ConflictError):
        store.update_execution(arn + "-missing", {"status": "FAILED"})


def test_executions_page_newest_first_and_filter_by_status(store):
    for index in range(5):
        status = "RUNNING" if index % 2 else "SUCCEEDED"
        store.insert_execution(execution(f"e{index}", started_at=1000.0 + index, status=status),
                               None, None, [])
    store.insert_execution(execution("elsewhere", sm="other"), None, None, [])
    sm_arn = f"{REGION}:stateMachine:sm"
    first, cursor = store.list_executions(sm_arn, None, 3)
    rest, end = store.list_executions(sm_arn, None, 3, cursor)
    assert [row["name"] for row in first + rest] == ["e4", "e3", "e2", "e1", "e0"]
    assert end is None
    running, _ = store.list_executions(sm_arn, "RUNNING", 10)
    assert [row["name"] for row in running] == ["e3", "e1"]


# -- history --------------------------------------------------------------------------------

@pytest.fixture
def history(store):
    """An execution with events 1..6, inserted out of order across two writes."""
    arn = started(store)
    claimed = store.claim("w", 1000.0, 30, 1)[0]
    store.commit(arn, claimed["version"], "w", snapshot={}, due_at=None,
                 events=[event(4), event(2), event(3), event(6), event(5, details={"n": 5})])
    return arn


@pytest.mark.parametrize(("kwargs", "ids"), [
    ({}, [1, 2, 3, 4, 5, 6]),
    ({"after_id": 2}, [3, 4, 5, 6]),
    ({"after_id": 2, "limit": 2}, [3, 4]),
    ({"reverse": True}, [6, 5, 4, 3, 2, 1]),
    ({"reverse": True, "limit": 2}, [6, 5]),
    ({"reverse": True, "after_id": 5, "limit": 3}, [4, 3, 2]),
    ({"after_id": 6}, []),
])
def test_history_pages_in_either_direction(store, history, kwargs, ids):
    assert [e["id"] for e in store.get_history(history, **kwargs)] == ids


def test_history_events_carry_their_fields(store, history):
    fifth = store.get_history(history, after_id=4, limit=1)[0]
    assert fifth == {"id": 5, "previous_event_id": 4, "timestamp": 1000.0,
                     "type": "PassStateEntered", "details": {"n": 5}}
    assert store.get_history(history + "-other") == []
