"""catalogue fields: basic code (基本编码) and effective dates of an item, beside its implementation code

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('catalogue_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('basic_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('effective_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('effective_to', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_catalogue_item_basic_code'), ['basic_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('catalogue_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_item_basic_code'))
        batch_op.drop_column('effective_to')
        batch_op.drop_column('effective_from')
        batch_op.drop_column('basic_code')
