"""escalation outbox, repeated escalation, worker heartbeat (issue 12)

Revision ID: 0004_harden_escalation
Revises: 0004_console
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0004_harden_escalation"
down_revision = "0004_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_case") as batch:
        batch.add_column(sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_escalation_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True))
    # Cases escalated before this migration count as level 1.
    op.execute("UPDATE handoff_case SET escalation_level = 1 WHERE escalated_at IS NOT NULL")
    op.create_table(
        "escalation_delivery",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("notifier", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "sent", "superseded", "cancelled", name="deliverystatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["handoff_case.id"], name=op.f("fk_escalation_delivery_case_id_handoff_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_delivery")),
        sa.UniqueConstraint("case_id", "level", "notifier", name="uq_escalation_delivery_key"),
    )
    op.create_index("ix_escalation_delivery_case_id", "escalation_delivery", ["case_id"])
    op.create_index("ix_escalation_delivery_due", "escalation_delivery", ["status", "next_attempt_at"])
    op.create_table(
        "heartbeat",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_heartbeat")),
    )


def downgrade() -> None:
    op.drop_table("heartbeat")
    op.drop_index("ix_escalation_delivery_due", table_name="escalation_delivery")
    op.drop_index("ix_escalation_delivery_case_id", table_name="escalation_delivery")
    op.drop_table("escalation_delivery")
    with op.batch_alter_table("handoff_case") as batch:
        batch.drop_column("next_escalation_at")
        batch.drop_column("escalation_level")
