"""entry confirmations (入驻事项确认书): the items each department handles in the center

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

No rows are made for existing databases: a confirmation is a signed document the engine cannot invent,
so after this upgrade a department's items are received again once its confirmation is entered
(``onewindow demo`` seeds the demo departments' confirmations).
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entry_confirmation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('department', sa.String(length=50), nullable=False),
    sa.Column('document_number', sa.String(length=100), nullable=False),
    sa.Column('signed_by', sa.String(length=255), nullable=False),
    sa.Column('confirmed_by', sa.String(length=255), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('item_codes', sa.JSON(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['department'], ['department.code'],
                            name=op.f('fk_entry_confirmation_department_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_confirmation')),
    sa.UniqueConstraint('document_number', name=op.f('uq_entry_confirmation_document_number'))
    )
    with op.batch_alter_table('entry_confirmation', schema=None) as batch_op:
        batch_op.create_index('ix_entry_confirmation_department_from', ['department', 'valid_from'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('entry_confirmation', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_confirmation_department_from')
    op.drop_table('entry_confirmation')
