"""case files: the material files each case received, the only ones its pages hand out

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

Files are stored by content, so a checksum named in a case's variables could be another case's file; from now
on the command that stores a file attaches it to the case it receives (engine/materials.py). Existing cases are
filled in from what their state records as submitted materials (every ``submittedMaterials`` list anywhere in
the stored state: what the window received for that case).
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_file',
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_case_file_instance_id_process_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', 'sha256', name=op.f('pk_case_file'))
    )
    _fill(op.get_bind())


def _fill(connection: sa.Connection) -> None:
    rows = []
    for instance_id, state in connection.execute(sa.text(
            "SELECT id, state FROM process_instance WHERE item_code IS NOT NULL")):
        try:
            found = _checksums(json.loads(state or "{}"))
        except ValueError:
            continue
        rows += [{'instance_id': instance_id, 'sha256': sha} for sha in sorted(found)]
    if rows:
        op.bulk_insert(sa.table('case_file', sa.column('instance_id'), sa.column('sha256')), rows)


def _checksums(node) -> set:
    """Every ``sha256`` of an entry in a ``submittedMaterials`` list, anywhere in a serialized state."""
    found = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == 'submittedMaterials' and isinstance(value, list):
                    found |= {str(m['sha256']) for m in value if isinstance(m, dict)
                              and isinstance(m.get('sha256'), str) and len(m['sha256']) == 64}
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def downgrade() -> None:
    op.drop_table('case_file')
