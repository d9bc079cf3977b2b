"""process drafts: BPMN files designers upload or edit in the web modeler before deploying

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('process_draft',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('resource_name', sa.String(length=255), nullable=False),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('based_on', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deployment_id', sa.String(length=36), nullable=True),
    sa.Column('deployed_revision', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_draft'))
    )
    op.create_index(op.f('ix_process_draft_updated_at'), 'process_draft', ['updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_process_draft_updated_at'), table_name='process_draft')
    op.drop_table('process_draft')
