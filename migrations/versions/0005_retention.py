"""Retention: indexes that find finished executions, settled events and dead letters by age.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (index, table, column): the purge's range scans, oldest first
INDEXES = (
    ("ix_executions_stop_date", "executions", "stop_date"),
    ("ix_bus_events_ingested", "bus_events", "ingested"),
    ("ix_event_dead_letters_created", "event_dead_letters", "created"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
