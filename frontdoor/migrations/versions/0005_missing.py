"""missing-person intakes beside their requests (issue 8)

Revision ID: 0005_missing
Revises: 0004_flows
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0005_missing"
down_revision = "0004_flows"
branch_labels = None
depends_on = None

_TIMES = (
    "closed_call_at", "intake_at", "report_due_at", "ward_phoned_at", "form_mailed_at", "checks_refused_at", "consult_at",
    "found_at", "found_due_at", "found_phoned_at", "found_mailed_at", "ward_call_at", "ended_at", "near_alert_for", "missed_alert_for",
)


def upgrade() -> None:
    op.create_table(
        "missing_person",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("ward_phoned_by", sa.Uuid(), nullable=True),
        sa.Column("ward_phoned_to", sa.String(length=80), nullable=True),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("check_day", sa.Date(), nullable=True),
        sa.Column("found", sa.JSON(), nullable=True),
        *(sa.Column(name, frontdoor.db.UTCDateTime(timezone=True), nullable=True) for name in _TIMES),
        sa.ForeignKeyConstraint(["request_id"], ["request.id"], name=op.f("fk_missing_person_request_id_request")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_missing_person_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_missing_person")),
    )
    op.create_index("ix_missing_person_tenant_id", "missing_person", ["tenant_id"])
    op.create_index("ix_missing_person_contact_id", "missing_person", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_missing_person_contact_id", table_name="missing_person")
    op.drop_index("ix_missing_person_tenant_id", table_name="missing_person")
    op.drop_table("missing_person")
