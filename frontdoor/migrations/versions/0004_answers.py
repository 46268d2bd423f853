"""disaster notice per tenant, with its switch events (issue 15)

Revision ID: 0004_answers
Revises: 0004_harden_words
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0004_answers"
down_revision = "0004_harden_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disaster_notice",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("switched_on_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("switched_off_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("switched_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_disaster_notice_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_disaster_notice")),
    )
    op.create_table(
        "disaster_notice_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_disaster_notice_event_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disaster_notice_event")),
    )
    op.create_index("ix_disaster_notice_event_tenant_id", "disaster_notice_event", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_disaster_notice_event_tenant_id", table_name="disaster_notice_event")
    op.drop_table("disaster_notice_event")
    op.drop_table("disaster_notice")
