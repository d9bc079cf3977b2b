"""timers, working-day calendar, case clock

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_revision',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_revision'))
    )
    op.bulk_insert(sa.table('calendar_revision', sa.column('id', sa.Integer), sa.column('revision', sa.Integer)),
                   [{'id': 1, 'revision': 0}])
    op.create_table('calendar_rule',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('workday', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_rule'))
    )
    op.create_table('calendar_year',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('arrangement', sa.Text(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('loaded_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_year'))
    )
    op.create_table('case_clock',
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('business_key', sa.String(length=255), nullable=True),
    sa.Column('item_code', sa.String(length=100), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acceptance', sa.String(length=24), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acceptance_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('supplement_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('legal_limit_days', sa.Integer(), nullable=True),
    sa.Column('promised_limit_days', sa.Integer(), nullable=True),
    sa.Column('site_survey_suspends', sa.Boolean(), nullable=False),
    sa.Column('joint_handling', sa.Boolean(), nullable=False),
    sa.Column('extension_days', sa.Integer(), nullable=False),
    sa.Column('extended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extended_by', sa.String(length=100), nullable=True),
    sa.Column('extension_reason', sa.Text(), nullable=True),
    sa.Column('suspended_days', sa.Integer(), nullable=False),
    sa.Column('suspended_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('legal_deadline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('promised_deadline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('estimated', sa.Boolean(), nullable=False),
    sa.Column('warning_state', sa.String(length=8), nullable=False),
    sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_case_clock_instance_id_process_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_case_clock'))
    )
    with op.batch_alter_table('case_clock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_clock_legal_deadline_at'), ['legal_deadline_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_clock_next_check_at'), ['next_check_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_clock_promised_deadline_at'), ['promised_deadline_at'], unique=False)
        batch_op.create_index('ix_case_clock_warning', ['warning_state', 'closed_at'], unique=False)

    op.create_table('supervision_notice',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('business_key', sa.String(length=255), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_supervision_notice_instance_id_process_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_notice'))
    )
    with op.batch_alter_table('supervision_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_notice_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_supervision_notice_pending', ['delivered_at', 'id'], unique=False)

    op.create_table('timer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('definition_id', sa.String(length=200), nullable=False),
    sa.Column('activity_id', sa.String(length=255), nullable=False),
    sa.Column('event_kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('period_seconds', sa.Double(), nullable=True),
    sa.Column('cron', sa.String(length=120), nullable=True),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id'], name=op.f('fk_timer_definition_id_process_definition'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_timer_instance_id_process_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timer'))
    )
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timer_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index('ix_timer_due', ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_instance_id'), ['instance_id'], unique=False)

    op.create_table('clock_suspension',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('procedure', sa.String(length=32), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expected_days', sa.Integer(), nullable=False),
    sa.Column('applicant_notice', sa.Text(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=100), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['case_clock.instance_id'], name=op.f('fk_clock_suspension_instance_id_case_clock'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_suspension'))
    )
    with op.batch_alter_table('clock_suspension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_suspension_instance_id'), ['instance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('clock_suspension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clock_suspension_instance_id'))

    op.drop_table('clock_suspension')
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_instance_id'))
        batch_op.drop_index('ix_timer_due')
        batch_op.drop_index(batch_op.f('ix_timer_definition_id'))

    op.drop_table('timer')
    with op.batch_alter_table('supervision_notice', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_notice_pending')
        batch_op.drop_index(batch_op.f('ix_supervision_notice_instance_id'))

    op.drop_table('supervision_notice')
    with op.batch_alter_table('case_clock', schema=None) as batch_op:
        batch_op.drop_index('ix_case_clock_warning')
        batch_op.drop_index(batch_op.f('ix_case_clock_promised_deadline_at'))
        batch_op.drop_index(batch_op.f('ix_case_clock_next_check_at'))
        batch_op.drop_index(batch_op.f('ix_case_clock_legal_deadline_at'))

    op.drop_table('case_clock')
    op.drop_table('calendar_year')
    op.drop_table('calendar_rule')
    op.drop_table('calendar_revision')
