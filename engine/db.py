"""Database plumbing: the declarative base, engine creation and the session factory.

Sessions belong to the caller: commands take a ``Session`` and never commit;
whoever calls them frames the transaction with ``with factory.begin() as s:``.
The engine's services (clock, spec cache, settings) ride along in
``session.info`` so command signatures stay ``(session, args...)``.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.engine import Engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine tuned per backend.

    SQLite (the embedded demo) runs every transaction as ``BEGIN IMMEDIATE``
    in WAL mode: one writer at a time, readers never blocked, and no
    read-then-write upgrade deadlocks between threads of the one process.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine, services: Any) -> so.sessionmaker[so.Session]:
    """Sessions carry the engine services in ``info`` for the commands to find; every flush is guarded
    against strings no column can hold (``engine.values``)."""
    from .values import install

    factory = so.sessionmaker(engine, expire_on_commit=False, info={"services": services})
    install(factory)
    return factory


def is_postgres(session: so.Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
