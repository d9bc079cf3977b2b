"""draft reports kept per revision; the audit log refuses TRUNCATE too

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

``process_draft.report`` holds the validate + lint findings of revision ``report_revision``, computed
when that revision was saved, so viewing a draft never checks the model again. Drafts saved before
this migration have no report; the first view computes and keeps it.

The audit log already refused UPDATE and DELETE (0001, row triggers); TRUNCATE empties a table
without touching rows, so PostgreSQL needs a statement trigger ``BEFORE TRUNCATE`` as well. SQLite
has no TRUNCATE statement (its ``DELETE FROM`` without WHERE is still a DELETE, which 0001's
trigger refuses), so nothing is added there.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('report_revision', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    with op.batch_alter_table('process_draft', schema=None) as batch_op:
        batch_op.drop_column('report_revision')
        batch_op.drop_column('report')
