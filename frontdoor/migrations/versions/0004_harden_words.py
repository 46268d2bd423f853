"""console doors (issue 12): sessions end at logout, failed logins counted in the database
and audited (the audit log may name no account: an unknown login)

Revision ID: 0004_harden_words
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0004_harden_words"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("counselor") as batch:
        batch.add_column(sa.Column("sessions_valid_after", frontdoor.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("counselor_id", existing_type=sa.Uuid(), nullable=True)
        batch.add_column(sa.Column("detail", sa.String(length=200), nullable=True))
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_key", sa.String(length=32), nullable=False),
        sa.Column("address_key", sa.String(length=32), nullable=False),
        sa.Column("at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index("ix_login_failure_account", "login_failure", ["account_key", "at"])
    op.create_index("ix_login_failure_address", "login_failure", ["address_key", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failure_address", table_name="login_failure")
    op.drop_index("ix_login_failure_account", table_name="login_failure")
    op.drop_table("login_failure")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("detail")
        batch.alter_column("counselor_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("counselor") as batch:
        batch.drop_column("sessions_valid_after")
