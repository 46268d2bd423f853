"""LINE channel: webhook inbox, outbound deliveries, unfollowed contacts (issue 10)

Revision ID: 0004_line
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0004_line"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resident_contact") as batch:
        batch.add_column(sa.Column("unfollowed_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "line_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("webhook_event_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("redelivered", sa.Integer(), nullable=False),
        sa.Column("received_at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handled_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_event")),
        sa.UniqueConstraint("webhook_event_id", name=op.f("uq_line_event_webhook_event_id")),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("status", sa.Enum("pending", "sent", "failed", name="deliverystatus", native_enum=False, create_constraint=False, length=24), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_key", sa.String(length=36), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("created_at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], name=op.f("fk_delivery_message_id_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("message_id", name=op.f("uq_delivery_message_id")),
    )


def downgrade() -> None:
    op.drop_table("delivery")
    op.drop_table("line_event")
    with op.batch_alter_table("resident_contact") as batch:
        batch.drop_column("unfollowed_at")
