"""console doors (issue 12): sessions end at logout, failed logins counted in the database
and audited (the audit log may name no account: an unknown login)

Revision ID: 0004_harden_words
Revises: 0004_harden_escalation
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0004_harden_words"
down_revision = "0004_harden_escalation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (table copy) on SQLite would drop 0004_console's
    # append-only triggers on audit_log. counselor.sessions_valid_after and the nullable
    # audit_log.counselor_id come from 0004_console.
    op.add_column("audit_log", sa.Column("detail", sa.String(length=200), nullable=True))
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
    op.execute("ALTER TABLE audit_log DROP COLUMN detail")
