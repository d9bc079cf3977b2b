"""sign-in throttle: indexes for known addresses and for forgetting old failures

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

The throttle (engine/password_checks.py) asks whether a name signed in from an address lately, and deletes
failures older than a day; both reads walk these indexes. No data changes.
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sign_in_session', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_session_username_remote_started', ['username', 'remote', 'started_at'],
                              unique=False)
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_failure_at', ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failure_at')
    with op.batch_alter_table('sign_in_session', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_session_username_remote_started')
