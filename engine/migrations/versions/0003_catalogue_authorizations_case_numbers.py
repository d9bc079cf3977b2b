"""catalogue, authorizations, case numbers, supplement items

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table('case_clock', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplement_items', sa.JSON(), nullable=True))
    op.create_table('case_sequence',
    sa.Column('department', sa.String(length=50), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('department', 'day', name=op.f('pk_case_sequence'))
    )
    op.create_table('catalogue_item',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('department', sa.String(length=50), nullable=False),
    sa.Column('item_type', sa.String(length=32), nullable=False),
    sa.Column('case_type', sa.String(length=2), nullable=False),
    sa.Column('legal_limit_days', sa.Integer(), nullable=False),
    sa.Column('promised_limit_days', sa.Integer(), nullable=False),
    sa.Column('accepted_on_receipt', sa.Boolean(), nullable=False),
    sa.Column('written_review_only', sa.Boolean(), nullable=False),
    sa.Column('site_survey', sa.Boolean(), nullable=False),
    sa.Column('site_survey_suspends_clock', sa.Boolean(), nullable=False),
    sa.Column('handling', sa.String(length=16), nullable=False),
    sa.Column('process_key', sa.String(length=255), nullable=False),
    sa.Column('form_key', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['department'], ['department.code'], name=op.f('fk_catalogue_item_department_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_item')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_catalogue_item_code'))
    )
    with op.batch_alter_table('catalogue_item', schema=None) as batch_op:
        batch_op.create_index('ix_catalogue_item_current', ['code', 'current'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_item_department'), ['department'], unique=False)

    op.create_table('authorization',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('department', sa.String(length=50), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('item_codes', sa.JSON(), nullable=True),
    sa.Column('powers', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('signed_by', sa.String(length=255), nullable=False),
    sa.Column('document_number', sa.String(length=100), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department'], ['department.code'], name=op.f('fk_authorization_department_department')),
    sa.ForeignKeyConstraint(['username'], ['app_user.username'], name=op.f('fk_authorization_username_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authorization'))
    )
    with op.batch_alter_table('authorization', schema=None) as batch_op:
        batch_op.create_index('ix_authorization_holder', ['username', 'department'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('authorization', schema=None) as batch_op:
        batch_op.drop_index('ix_authorization_holder')

    op.drop_table('authorization')
    with op.batch_alter_table('catalogue_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_item_department'))
        batch_op.drop_index('ix_catalogue_item_current')

    op.drop_table('catalogue_item')
    op.drop_table('case_sequence')
    with op.batch_alter_table('case_clock', schema=None) as batch_op:
        batch_op.drop_column('supplement_items')

