"""What the benchmark scripts share: a fresh PostgreSQL database per run and a free local port."""
from __future__ import annotations

import socket

import sqlalchemy as sa


def fresh_database(url: str) -> None:
    """Drop and create the database ``url`` names (its server's ``postgres`` database does the work)."""
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
