"""Activities, task tokens, and the parent link of nested executions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("started_by", sa.Text(), nullable=True))
    op.create_table(
        "activities",
        sa.Column("arn", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("creation_date", sa.Double(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("arn", name="pk_activities"),
        sa.UniqueConstraint("name", name="uq_activities_name"),
    )
    op.create_table(
        "task_tokens",
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("execution_arn", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("invocation", sa.Integer(), nullable=False),
        sa.Column("state_name", sa.String(), nullable=False),
        sa.Column("resource", sa.String(), nullable=False),
        sa.Column("activity_arn", sa.String(), nullable=True),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("started", sa.Double(), nullable=True),
        sa.Column("worker_name", sa.String(), nullable=True),
        sa.Column("timeout_at", sa.Double(), nullable=True),
        sa.Column("heartbeat_seconds", sa.Integer(), nullable=True),
        sa.Column("last_beat", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("token", name="pk_task_tokens"),
    )
    op.create_index("ix_task_tokens_execution_arn", "task_tokens", ["execution_arn"])
    op.create_index("ix_task_tokens_activity_arn_status_created", "task_tokens",
                    ["activity_arn", "status", "created"])


def downgrade() -> None:
    op.drop_table("task_tokens")
    op.drop_table("activities")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("started_by")
