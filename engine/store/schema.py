"""The tables of Stepstone: the one description the migrations must match.

Times are float epoch seconds (double precision). JSON documents are TEXT (see ``codec``).
There are no foreign keys on purpose: executions outlive a deleted state machine (AWS keeps
them describable) and the hot path (history appends, work-item updates) stays cheap.
"""
from __future__ import annotations

import sqlalchemy as sa

from engine.store.codec import JsonText

# Named constraints and indexes: the migrations spell the same names on every dialect, so a
# later migration can drop or alter them without looking the generated name up.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

state_machines = sa.Table(
    "state_machines", metadata,
    sa.Column("arn", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False, unique=True),
    sa.Column("type", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("definition", sa.Text(), nullable=False),
    sa.Column("role_arn", sa.String(), nullable=False),
    sa.Column("revision_id", sa.Integer(), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("logging_configuration", JsonText(), nullable=True),
    sa.Column("tracing_configuration", JsonText(), nullable=True),
    sa.Column("tags", JsonText(), nullable=True),
    sa.Column("creation_date", sa.Double(), nullable=False),
    sa.Column("update_date", sa.Double(), nullable=True),
)

state_machine_revisions = sa.Table(
    "state_machine_revisions", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("state_machine_arn", sa.String(), nullable=False, index=True),
    sa.Column("definition", sa.Text(), nullable=False),
    sa.Column("role_arn", sa.String(), nullable=False),
    sa.Column("created", sa.Double(), nullable=False),
    sqlite_autoincrement=True,  # never reuse a revision id: executions are pinned to it
)

executions = sa.Table(
    "executions", metadata,
    sa.Column("arn", sa.String(), primary_key=True),
    sa.Column("state_machine_arn", sa.String(), nullable=False),
    sa.Column("revision_id", sa.Integer(), nullable=True),
    sa.Column("name", sa.String(), nullable=False),
    sa.Column("type", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("input", sa.Text(), nullable=True),
    sa.Column("output", sa.Text(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("cause", sa.Text(), nullable=True),
    sa.Column("start_date", sa.Double(), nullable=False),
    sa.Column("stop_date", sa.Double(), nullable=True),
    sa.Column("role_arn", sa.String(), nullable=True),
    sa.Column("redrive_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("redrive_date", sa.Double(), nullable=True),
    # the last client tokens of RedriveExecution: [{"token", "date"}], newest last
    sa.Column("redrive_tokens", JsonText(), nullable=True),
    sa.Column("state_machine_name", sa.String(), nullable=True),
    # the parent task of a nested execution: {"arn", "path", "invocation", "pattern"}
    sa.Column("started_by", JsonText(), nullable=True),
    sa.Index(None, "state_machine_arn", "start_date"),
)

history_events = sa.Table(
    "history_events", metadata,
    sa.Column("execution_arn", sa.String(), primary_key=True),
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("previous_event_id", sa.Integer(), nullable=True),
    sa.Column("timestamp", sa.Double(), nullable=False),
    sa.Column("type", sa.String(), nullable=False),
    sa.Column("details", JsonText(), nullable=True),
)

work_items = sa.Table(
    "work_items", metadata,
    sa.Column("execution_arn", sa.String(), primary_key=True),
    sa.Column("snapshot", JsonText(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("due_at", sa.Double(), nullable=True, index=True),
    sa.Column("lease_owner", sa.String(), nullable=True),
    sa.Column("lease_expires", sa.Double(), nullable=True),
)

# The last snapshot of an execution that ended unsuccessfully: RedriveExecution continues from
# it. Apart from work_items so that claims never scan finished executions.
final_snapshots = sa.Table(
    "final_snapshots", metadata,
    sa.Column("execution_arn", sa.String(), primary_key=True),
    sa.Column("snapshot", JsonText(), nullable=False),
    sa.Column("event_count", sa.Integer(), nullable=False),  # history events when it ended
)

inbox = sa.Table(
    "inbox", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("execution_arn", sa.String(), nullable=False, index=True),
    sa.Column("body", JsonText(), nullable=False),
    sa.Column("created", sa.Double(), nullable=False),
    sqlite_autoincrement=True,  # a consumed message id must never name a new message
)

activities = sa.Table(
    "activities", metadata,
    sa.Column("arn", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), nullable=False, unique=True),
    sa.Column("creation_date", sa.Double(), nullable=False),
    sa.Column("tags", JsonText(), nullable=True),
)

# One row per task token handed out (activities, .waitForTaskToken and .sync tasks). Rows stay
# after the task closes so a late or reused token gets TaskTimedOut, not "does not exist".
task_tokens = sa.Table(
    "task_tokens", metadata,
    sa.Column("token", sa.String(), primary_key=True),
    sa.Column("execution_arn", sa.String(), nullable=False, index=True),
    sa.Column("path", sa.String(), nullable=False),
    sa.Column("invocation", sa.Integer(), nullable=False),
    sa.Column("state_name", sa.String(), nullable=False),
    sa.Column("resource", sa.String(), nullable=False),
    # the activity a worker polls for it; NULL for callbacks
    sa.Column("activity_arn", sa.String(), nullable=True),
    sa.Column("input", sa.Text(), nullable=True),
    # OPEN -> STARTED (an activity worker took it) -> CLOSED | TIMED_OUT
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("created", sa.Double(), nullable=False),
    sa.Column("started", sa.Double(), nullable=True),
    sa.Column("worker_name", sa.String(), nullable=True),
    sa.Column("timeout_at", sa.Double(), nullable=True),
    sa.Column("heartbeat_seconds", sa.Integer(), nullable=True),
    sa.Column("last_beat", sa.Double(), nullable=True),
    sa.Index(None, "activity_arn", "status", "created"),
)
