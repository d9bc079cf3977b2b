"""inbox columns, sign-in attempts index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain index, not batch mode: the audit log's append-only triggers must stay in place
    op.create_index('ix_audit_log_entity_action', 'audit_log', ['entity_id', 'action', 'at'], unique=False)
    with op.batch_alter_table('user_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('applicant_name', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_user_task_applicant', ['applicant_name'], unique=False,
                              postgresql_ops={'applicant_name': 'varchar_pattern_ops'})
        batch_op.create_index('ix_user_task_business_key', ['business_key'], unique=False,
                              postgresql_ops={'business_key': 'varchar_pattern_ops'})
        batch_op.create_index('ix_user_task_urgency', ['due_at', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('user_task', schema=None) as batch_op:
        batch_op.drop_index('ix_user_task_urgency')
        batch_op.drop_index('ix_user_task_business_key')
        batch_op.drop_index('ix_user_task_applicant')
        batch_op.drop_column('applicant_name')
        batch_op.drop_column('item_name')
    op.drop_index('ix_audit_log_entity_action', table_name='audit_log')
