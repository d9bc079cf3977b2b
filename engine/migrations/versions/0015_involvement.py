"""involvement: who took part in each instance (users and groups its tasks were assigned or offered to, and
the departments of those groups)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

One access policy for every surface (engine/access.py) lets a clerk see the cases they take part in; a task's
candidate rows go when it is done, so the parties are kept here. Existing databases are filled from what they
hold: the open tasks' assignees and candidates, and the audit log's claims and completions (the completer and
the groups the task was offered to).
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('involvement',
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('party', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_involvement_instance_id_process_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', 'kind', 'party', name=op.f('pk_involvement'))
    )
    with op.batch_alter_table('involvement', schema=None) as batch_op:
        batch_op.create_index('ix_involvement_party', ['kind', 'party', 'instance_id'], unique=False)
    _fill(op.get_bind())


def _fill(connection: sa.Connection) -> None:
    """Parties of existing instances, from the open tasks and from the audit log."""
    found: set[tuple[str, str, str]] = set()
    for instance_id, assignee in connection.execute(sa.text(
            "SELECT instance_id, assignee FROM user_task WHERE assignee IS NOT NULL")):
        found.add((instance_id, 'user', assignee))
    for instance_id, group_id, user_id in connection.execute(sa.text(
            "SELECT t.instance_id, c.group_id, c.user_id FROM task_candidate c JOIN user_task t ON t.id = c.task_id")):
        if group_id:
            found.add((instance_id, 'group', group_id))
        if user_id:
            found.add((instance_id, 'user', user_id))
    audit = sa.table('audit_log', sa.column('instance_id'), sa.column('actor'), sa.column('action'),
                     sa.column('details', sa.JSON))
    instances = {row[0] for row in connection.execute(sa.text("SELECT id FROM process_instance"))}
    for instance_id, actor, details in connection.execute(
            sa.select(audit.c.instance_id, audit.c.actor, audit.c.details)
            .where(audit.c.action.in_(['complete-task', 'claim']), audit.c.instance_id.is_not(None))):
        if actor:
            found.add((instance_id, 'user', actor))
        for group in (details or {}).get('groups') or []:
            found.add((instance_id, 'group', group))
    found |= {(i, 'department', p.split(':', 1)[0]) for i, k, p in list(found) if k == 'group' and ':' in p}
    rows = [{'instance_id': i, 'kind': k, 'party': p[:100]} for i, k, p in sorted(found) if i in instances]
    if rows:
        table = sa.table('involvement', sa.column('instance_id'), sa.column('kind'), sa.column('party'))
        op.bulk_insert(table, rows)


def downgrade() -> None:
    with op.batch_alter_table('involvement', schema=None) as batch_op:
        batch_op.drop_index('ix_involvement_party')
    op.drop_table('involvement')
