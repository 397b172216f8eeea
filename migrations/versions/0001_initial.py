"""Initial tables: state machines and revisions, executions, history, work items, inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_machines",
        sa.Column("arn", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("role_arn", sa.String(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("logging_configuration", sa.Text(), nullable=True),
        sa.Column("tracing_configuration", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("creation_date", sa.Double(), nullable=False),
        sa.Column("update_date", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("arn", name="pk_state_machines"),
        sa.UniqueConstraint("name", name="uq_state_machines_name"),
    )
    op.create_table(
        "state_machine_revisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state_machine_arn", sa.String(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("role_arn", sa.String(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_state_machine_revisions"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_state_machine_revisions_state_machine_arn",
                    "state_machine_revisions", ["state_machine_arn"])
    op.create_table(
        "executions",
        sa.Column("arn", sa.String(), nullable=False),
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
        sa.Column("redrive_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("state_machine_name", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("arn", name="pk_executions"),
    )
    op.create_index("ix_executions_state_machine_arn_start_date",
                    "executions", ["state_machine_arn", "start_date"])
    op.create_table(
        "history_events",
        sa.Column("execution_arn", sa.String(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("previous_event_id", sa.Integer(), nullable=True),
        sa.Column("timestamp", sa.Double(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("execution_arn", "id", name="pk_history_events"),
    )
    op.create_table(
        "work_items",
        sa.Column("execution_arn", sa.String(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.Double(), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_expires", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("execution_arn", name="pk_work_items"),
    )
    op.create_index("ix_work_items_due_at", "work_items", ["due_at"])
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_arn", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_inbox_execution_arn", "inbox", ["execution_arn"])


def downgrade() -> None:
    for table in ("inbox", "work_items", "history_events", "executions",
                  "state_machine_revisions", "state_machines"):
        op.drop_table(table)
