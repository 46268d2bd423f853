"""requests past their due time are marked once (issue 13: due times staff actually see pass)

Revision ID: 0006_req2
Revises: 0005_missing
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0006_req2"
down_revision = "0005_missing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request") as batch:
        batch.add_column(sa.Column("overdue_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("request") as batch:
        batch.drop_column("overdue_at")
