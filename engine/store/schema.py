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
    sa.Column("stop_date", sa.Double(), nullable=True, index=True),  # retention finds old ones
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

# --- the event bus (EventBridge) ----------------------------------------------------------
# Custom event buses; the "default" bus always exists and has no row.
event_buses = sa.Table(
    "event_buses", metadata,
    sa.Column("name", sa.String(), primary_key=True),
    sa.Column("arn", sa.String(), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("creation_time", sa.Double(), nullable=False),
)

event_rules = sa.Table(
    "event_rules", metadata,
    sa.Column("bus", sa.String(), primary_key=True),
    sa.Column("name", sa.String(), primary_key=True),
    sa.Column("arn", sa.String(), nullable=False),
    sa.Column("event_pattern", sa.Text(), nullable=True),  # the JSON text as given
    sa.Column("schedule_expression", sa.String(), nullable=True),
    sa.Column("state", sa.String(), nullable=False),  # ENABLED | DISABLED
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("role_arn", sa.String(), nullable=True),
    sa.Column("created", sa.Double(), nullable=False),
    # scheduled rules: when the schedule next fires; a guarded update decides who fires it
    sa.Column("next_fire", sa.Double(), nullable=True),
)

event_targets = sa.Table(
    "event_targets", metadata,
    sa.Column("bus", sa.String(), primary_key=True),
    sa.Column("rule", sa.String(), primary_key=True),
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("arn", sa.String(), nullable=False, index=True),
    sa.Column("role_arn", sa.String(), nullable=True),
    sa.Column("input", sa.Text(), nullable=True),
    sa.Column("input_path", sa.Text(), nullable=True),
    sa.Column("input_transformer", JsonText(), nullable=True),
    sa.Column("retry_policy", JsonText(), nullable=True),
    sa.Column("dead_letter_config", JsonText(), nullable=True),
)

# One row: bumped by every rule or target change, so each process knows when to reload the
# rules it has compiled.
event_rules_version = sa.Table(
    "event_rules_version", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer(), nullable=False),
)

# The outbox: every accepted event, stored before PutEvents answers. ``due_at`` is NULL once
# every delivery of the event is settled; a dispatcher leases the row while it works on it.
bus_events = sa.Table(
    "bus_events", metadata,
    sa.Column("id", sa.String(), primary_key=True),
    sa.Column("bus", sa.String(), nullable=False),
    sa.Column("event", JsonText(), nullable=False),  # the whole event envelope
    sa.Column("ingested", sa.Double(), nullable=False, index=True),  # retention finds old ones
    # a scheduled event goes only to the targets of the rule that fired it
    sa.Column("rule", sa.String(), nullable=True),
    sa.Column("matched", sa.Boolean(), nullable=False),  # deliveries were created
    sa.Column("due_at", sa.Double(), nullable=True, index=True),
    sa.Column("lease_owner", sa.String(), nullable=True),
    sa.Column("lease_expires", sa.Double(), nullable=True),
)

# One row per (event, rule, target): the target as it was when the event matched, and how
# its delivery went. PENDING -> DELIVERED | DEAD (moved to the dead letters).
event_deliveries = sa.Table(
    "event_deliveries", metadata,
    sa.Column("event_id", sa.String(), primary_key=True),
    sa.Column("rule", sa.String(), primary_key=True),
    sa.Column("target_id", sa.String(), primary_key=True),
    sa.Column("bus", sa.String(), nullable=False),
    sa.Column("rule_arn", sa.String(), nullable=False),
    sa.Column("target", JsonText(), nullable=False),  # PutTargets shape
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),  # failed attempts so far
    sa.Column("next_attempt", sa.Double(), nullable=True),
    sa.Column("execution_arn", sa.String(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created", sa.Double(), nullable=False),
)

event_dead_letters = sa.Table(
    "event_dead_letters", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(), nullable=False, index=True),
    sa.Column("bus", sa.String(), nullable=False),
    sa.Column("rule", sa.String(), nullable=False),
    sa.Column("target_id", sa.String(), nullable=False),
    sa.Column("target_arn", sa.String(), nullable=False),
    sa.Column("dead_letter_arn", sa.String(), nullable=True),  # the target's DeadLetterConfig
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("created", sa.Double(), nullable=False, index=True),  # retention finds old ones
    sqlite_autoincrement=True,
)
