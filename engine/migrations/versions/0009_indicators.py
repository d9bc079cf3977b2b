"""indicators per day, department and item; how a case clock stopped

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COUNTS = ('received', 'online', 'instant', 'completed', 'on_time', 'decided', 'working_days_used', 'promised_days',
          'rated_1', 'rated_2', 'rated_3', 'rated_4', 'rated_5')


def upgrade() -> None:
    op.create_table('case_day_stat',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('department', sa.String(length=50), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
    sa.PrimaryKeyConstraint('day', 'department', 'item_code', name=op.f('pk_case_day_stat'))
    )
    op.create_index('ix_case_day_stat_department_day', 'case_day_stat', ['department', 'day'], unique=False)
    with op.batch_alter_table('case_clock', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('working_days_used', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('on_time', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('department', sa.String(length=50), nullable=True))
    op.execute("UPDATE case_clock SET department = (SELECT department FROM process_instance "
               "WHERE process_instance.id = case_clock.instance_id)")
    running = sa.text("closed_at IS NULL")
    op.create_index('ix_case_clock_open_warning', 'case_clock', ['department', 'warning_state'], unique=False,
                    postgresql_where=running, sqlite_where=running)
    op.create_index('ix_case_clock_open_deadline', 'case_clock', ['promised_deadline_at', 'instance_id'], unique=False,
                    postgresql_where=running, sqlite_where=running)


def downgrade() -> None:
    op.drop_index('ix_case_clock_open_deadline', table_name='case_clock')
    op.drop_index('ix_case_clock_open_warning', table_name='case_clock')
    with op.batch_alter_table('case_clock', schema=None) as batch_op:
        batch_op.drop_column('department')
        batch_op.drop_column('on_time')
        batch_op.drop_column('working_days_used')
        batch_op.drop_column('outcome')
    op.drop_index('ix_case_day_stat_department_day', table_name='case_day_stat')
    op.drop_table('case_day_stat')
