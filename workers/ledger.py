"""The workers' ledger: side effects already done, keyed by the external task that asked for them.

Delivery is at least once: a worker can die after sending a notice but before
completing the task, and the lock then expires and another worker gets the
same task (same id). Before doing an effect a handler asks the ledger; a
second delivery finds the recorded result and completes with it, so there is
no second certificate or mail. Rows are written before the effect as
``pending`` and turned ``done`` after it; a pending row found on redelivery
means the first attempt died in between, and the effect is repeated with the
same identity (same file name, same Message-ID) so the receiving side can
recognise it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import sqlalchemy as sa

_metadata = sa.MetaData()
effects = sa.Table(
    "worker_effect", _metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("result", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
)


class Ledger:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        _metadata.create_all(self.engine)

    def once(self, key: str, topic: str, effect: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The result of ``effect`` for ``key``, running it only if no earlier attempt finished
        (attempts are counted, so a repeated effect after a crash shows in the ledger)."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(effects).where(effects.c.key == key)).first()
            if row is not None and row.state == "done":
                return dict(row.result or {})
            attempt = (row.attempts + 1) if row is not None else 1
            if row is None:
                conn.execute(effects.insert().values(key=key, topic=topic, state="pending", attempts=1,
                                                     created_at=_now()))
            else:
                conn.execute(effects.update().where(effects.c.key == key).values(attempts=attempt))
        result = effect()
        with self.engine.begin() as conn:
            conn.execute(effects.update().where(effects.c.key == key)
                         .values(state="done", result=result, done_at=_now()))
        return result

    def get(self, key: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(effects).where(effects.c.key == key)).first()
        return None if row is None else {"state": row.state, "attempts": row.attempts, "result": row.result}

    def entries(self, topic: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(effects).where(effects.c.topic == topic).order_by(effects.c.created_at))
            return [{"key": r.key, "state": r.state, "attempts": r.attempts, "result": r.result} for r in rows]

    def dispose(self) -> None:
        self.engine.dispose()


def _now() -> datetime:
    return datetime.now(timezone.utc)
