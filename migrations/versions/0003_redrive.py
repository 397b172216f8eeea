"""RedriveExecution: the redrive date and client tokens of executions, and final snapshots.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("redrive_date", sa.Double(), nullable=True))
        batch.add_column(sa.Column("redrive_tokens", sa.Text(), nullable=True))
    op.create_table(
        "final_snapshots",
        sa.Column("execution_arn", sa.String(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("execution_arn", name="pk_final_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("final_snapshots")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("redrive_tokens")
        batch.drop_column("redrive_date")
