"""The schema the migrations build is the schema the models describe; the audit log is append-only."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from engine import audit
from engine.db import Base
from engine.migrate import current_revision, head_revision


def test_migrations_match_models(db_engine):
    with db_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert current_revision(db_engine) == head_revision(db_engine) == "0016"


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"])
def test_audit_log_refuses_changes(sessions, statement):
    with sessions.begin() as session:
        audit.record(session, "test", actor="alice", details={"x": 1})
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with sessions.begin() as session:
            session.execute(sa.text(statement))
    with sessions.begin() as session:
        assert session.execute(sa.text("SELECT actor FROM audit_log")).scalars().all() == ["alice"]


@pytest.mark.postgres
def test_audit_log_refuses_truncate_on_postgresql(sessions, db_engine):
    """TRUNCATE empties a table without touching its rows, so the row triggers never see it (SQLite has no
    TRUNCATE; its DELETE without WHERE is refused above)."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE statement")
    with sessions.begin() as session:
        audit.record(session, "test", actor="alice", details={"x": 1})
    for statement in ("TRUNCATE audit_log", "TRUNCATE audit_log RESTART IDENTITY CASCADE"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with sessions.begin() as session:
                session.execute(sa.text(statement))
    with sessions.begin() as session:
        assert session.execute(sa.text("SELECT actor FROM audit_log")).scalars().all() == ["alice"]
