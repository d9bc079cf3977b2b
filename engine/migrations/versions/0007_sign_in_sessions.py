"""sign-in sessions and failed sign-ins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.Column('remote', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['username'], ['app_user.username'], name=op.f('fk_sign_in_session_username_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_session'))
    )
    op.create_index(op.f('ix_sign_in_session_username'), 'sign_in_session', ['username'], unique=False)
    op.create_table('sign_in_failure',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('remote', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure'))
    )
    op.create_index('ix_sign_in_failure_username_at', 'sign_in_failure', ['username', 'at'], unique=False)
    op.create_index('ix_sign_in_failure_remote_at', 'sign_in_failure', ['remote', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_failure_remote_at', table_name='sign_in_failure')
    op.drop_index('ix_sign_in_failure_username_at', table_name='sign_in_failure')
    op.drop_table('sign_in_failure')
    op.drop_index(op.f('ix_sign_in_session_username'), table_name='sign_in_session')
    op.drop_table('sign_in_session')
