"""check-in band on conversations, conversation events (issue 14)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(sa.Column("check_in_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("check_in_kind", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("check_in_subject", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("check_in_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("check_in_answered_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True))
        batch.create_index("ix_conversation_check_in", ["tenant_id", "check_in_status"])
    op.create_table(
        "conversation_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], name=op.f("fk_conversation_event_conversation_id_conversation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_event")),
    )
    op.create_index("ix_conversation_event_conversation_id", "conversation_event", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_event_conversation_id", table_name="conversation_event")
    op.drop_table("conversation_event")
    with op.batch_alter_table("conversation") as batch:
        batch.drop_index("ix_conversation_check_in")
        for column in ("check_in_answered_at", "check_in_at", "check_in_subject", "check_in_kind", "check_in_status"):
            batch.drop_column(column)
