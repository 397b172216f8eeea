"""The event bus: buses, rules, targets, the event outbox, deliveries and dead letters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_buses",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("arn", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("creation_time", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_event_buses"),
    )
    op.create_table(
        "event_rules",
        sa.Column("bus", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("arn", sa.String(), nullable=False),
        sa.Column("event_pattern", sa.Text(), nullable=True),
        sa.Column("schedule_expression", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("role_arn", sa.String(), nullable=True),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("next_fire", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("bus", "name", name="pk_event_rules"),
    )
    op.create_table(
        "event_targets",
        sa.Column("bus", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("arn", sa.String(), nullable=False),
        sa.Column("role_arn", sa.String(), nullable=True),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("input_path", sa.Text(), nullable=True),
        sa.Column("input_transformer", sa.Text(), nullable=True),
        sa.Column("retry_policy", sa.Text(), nullable=True),
        sa.Column("dead_letter_config", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("bus", "rule", "id", name="pk_event_targets"),
    )
    op.create_index("ix_event_targets_arn", "event_targets", ["arn"])
    version = op.create_table(
        "event_rules_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_rules_version"),
    )
    op.bulk_insert(version, [{"id": 1, "version": 0}])
    op.create_table(
        "bus_events",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("bus", sa.String(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("ingested", sa.Double(), nullable=False),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("due_at", sa.Double(), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_expires", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_bus_events"),
    )
    op.create_index("ix_bus_events_due_at", "bus_events", ["due_at"])
    op.create_table(
        "event_deliveries",
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("target_id", sa.String(), nullable=False),
        sa.Column("bus", sa.String(), nullable=False),
        sa.Column("rule_arn", sa.String(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.Double(), nullable=True),
        sa.Column("execution_arn", sa.String(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "rule", "target_id", name="pk_event_deliveries"),
    )
    op.create_table(
        "event_dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("bus", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("target_id", sa.String(), nullable=False),
        sa.Column("target_arn", sa.String(), nullable=False),
        sa.Column("dead_letter_arn", sa.String(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_event_dead_letters"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_event_dead_letters_event_id", "event_dead_letters", ["event_id"])


def downgrade() -> None:
    op.drop_table("event_dead_letters")
    op.drop_table("event_deliveries")
    op.drop_table("bus_events")
    op.drop_table("event_rules_version")
    op.drop_table("event_targets")
    op.drop_table("event_rules")
    op.drop_table("event_buses")
