"""the definition holding each waiting element, for heat maps of called processes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLES = ('user_task', 'external_task', 'message_subscription', 'timer', 'incident')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('element_definition_id', sa.String(length=200), nullable=True))
        # rows made before this column: the instance's own definition (right unless the element is in a called one)
        op.execute(f"UPDATE {table} SET element_definition_id = definition_id")
    op.create_index('ix_process_instance_definition_status', 'process_instance', ['definition_id', 'status'],
                    unique=False)
    op.create_index('ix_user_task_element', 'user_task', ['element_definition_id', 'activity_id'], unique=False)
    op.create_index('ix_external_task_element', 'external_task', ['element_definition_id', 'activity_id'], unique=False)
    op.create_index('ix_message_subscription_element', 'message_subscription', ['element_definition_id', 'activity_id'],
                    unique=False)
    op.create_index('ix_timer_element', 'timer', ['element_definition_id', 'activity_id'], unique=False)
    op.create_index('ix_incident_element', 'incident', ['element_definition_id', 'activity_id', 'resolved_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_process_instance_definition_status', table_name='process_instance')
    for table in TABLES:
        op.drop_index(f'ix_{table}_element', table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('element_definition_id')
