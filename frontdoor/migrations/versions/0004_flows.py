"""requests residents make in chat, and their events (issue 13)

Revision ID: 0004_flows
Revises: 0004_answers
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0004_flows"
down_revision = "0004_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("step", sa.String(length=48), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("outside_hours", sa.Boolean(), nullable=False),
        sa.Column("created_at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Uuid(), nullable=True),
        sa.Column("question_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_request_tenant_id_tenant")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], name=op.f("fk_request_conversation_id_conversation")),
        sa.ForeignKeyConstraint(["done_by"], ["counselor.id"], name=op.f("fk_request_done_by_counselor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request")),
        sa.UniqueConstraint("tenant_id", "number", name="uq_request_tenant_number"),
    )
    op.create_index("ix_request_tenant_status", "request", ["tenant_id", "status"])
    op.create_index("ix_request_tenant_created", "request", ["tenant_id", "created_at"])
    op.create_index("ix_request_conversation_id", "request", ["conversation_id"])
    op.create_table(
        "request_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"], name=op.f("fk_request_event_request_id_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_event")),
    )
    op.create_index("ix_request_event_request_id", "request_event", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_request_event_request_id", table_name="request_event")
    op.drop_table("request_event")
    for name in ("ix_request_conversation_id", "ix_request_tenant_created", "ix_request_tenant_status"):
        op.drop_index(name, table_name="request")
    op.drop_table("request")
