"""case columns on instances

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('item_name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('department', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('applicant_name', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_process_instance_applicant', ['applicant_name'], unique=False, postgresql_ops={'applicant_name': 'varchar_pattern_ops'})
        batch_op.create_index('ix_process_instance_department_started', ['department', 'started_at', 'id'], unique=False)
        batch_op.create_index('ix_process_instance_item_started', ['item_code', 'started_at', 'id'], unique=False)
        batch_op.create_index('ix_process_instance_started', ['started_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_process_instance_started')
        batch_op.drop_index('ix_process_instance_item_started')
        batch_op.drop_index('ix_process_instance_department_started')
        batch_op.drop_index('ix_process_instance_applicant', postgresql_ops={'applicant_name': 'varchar_pattern_ops'})
        batch_op.drop_column('applicant_name')
        batch_op.drop_column('department')
        batch_op.drop_column('item_name')
        batch_op.drop_column('item_code')
