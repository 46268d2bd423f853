"""accounts (disable, reset, cap), audit log columns and append-only triggers, erasure records (issue 11)

Revision ID: 0004_console
Revises: 0004_line
"""
from alembic import op
import sqlalchemy as sa

import frontdoor.db


revision = "0004_console"
down_revision = "0004_line"
branch_labels = None
depends_on = None

# Audit rows are append-only (Kashiwa 002 §9(3), Setagaya 別紙1-1): no UPDATE ever, and a
# DELETE only below the cut-off of a permit the retention job writes in the same transaction.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permit p
                        WHERE p.tenant_id = OLD.tenant_id AND OLD.at < p.before)
       BEGIN SELECT RAISE(ABORT, 'audit_log rows are erased only by the retention job'); END""",
]
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'audit_log is append-only';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM audit_purge_permit p WHERE p.tenant_id = OLD.tenant_id AND OLD.at < p.before) THEN
    RAISE EXCEPTION 'audit_log rows are erased only by the retention job';
  END IF;
  RETURN OLD;
END $$ LANGUAGE plpgsql"""
PG_TRIGGER = """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"""


def upgrade() -> None:
    with op.batch_alter_table("counselor") as batch:
        batch.add_column(sa.Column("disabled_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sessions_valid_after", frontdoor.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("password_changed_at", frontdoor.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("max_live_chats", sa.Integer(), nullable=True))
    with op.batch_alter_table("handoff_case") as batch:
        batch.add_column(sa.Column("subject", sa.String(length=16), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        # Actions from the command line (`frontdoor users disable`) have no console account.
        batch.alter_column("counselor_id", existing_type=sa.Uuid(), nullable=True)
        batch.add_column(sa.Column("tenant_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("target", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("ip", sa.String(length=64), nullable=True))
        batch.create_index("ix_audit_log_tenant_at", ["tenant_id", "at"])
    # Rows written before this revision get their tenant from the account that wrote them.
    op.execute("UPDATE audit_log SET tenant_id = (SELECT c.tenant_id FROM counselor c WHERE c.id = audit_log.counselor_id)")
    op.create_table(
        "audit_purge_permit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("before", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_purge_permit")),
    )
    op.create_table(
        "erasure_record",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("at", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("before", frontdoor.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_erasure_record_tenant_id_tenant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_record")),
    )
    op.create_index("ix_erasure_record_tenant_id", "erasure_record", ["tenant_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    op.execute("DELETE FROM audit_log WHERE counselor_id IS NULL")
    op.drop_index("ix_erasure_record_tenant_id", table_name="erasure_record")
    op.drop_table("erasure_record")
    op.drop_table("audit_purge_permit")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ix_audit_log_tenant_at")
        for column in ("ip", "target", "tenant_id"):
            batch.drop_column(column)
        batch.alter_column("counselor_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("handoff_case") as batch:
        batch.drop_column("subject")
    with op.batch_alter_table("counselor") as batch:
        for column in ("max_live_chats", "password_changed_at", "must_change_password", "sessions_valid_after", "disabled_at"):
            batch.drop_column(column)
