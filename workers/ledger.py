"""The workers' ledger: side effects already done, keyed by the external task that asked for them.

Delivery is at least once: a worker can die after sending a notice but before
completing the task; the lock then expires and another worker gets the same
task (same id). Before an effect a handler claims the task's key here; a
second delivery finds the recorded result and completes with it, so there is
no second certificate or mail.

A claim is a lease as long as the engine's lock. While it runs, another
worker that gets the task (its lock expired early) is told the effect is in
progress and retries later, instead of doing it a second time. A lease that
ran out without a result means the claimant died in the middle: the effect is
repeated with the same identity (same file name, same Message-ID) so the
receiving side can recognise it, and the attempt is counted.

Worker machines must share one ledger database (``ONEWINDOW_WORKER_STORE_URL``)
for this to hold across machines; the SQLite default suits one host.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .runtime import RetryLater

_metadata = sa.MetaData()
effects = sa.Table(
    "worker_effect", _metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("claimed_until", sa.DateTime(timezone=True)),
    sa.Column("result", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
)


class EffectInProgress(RetryLater):
    """Another worker holds a live claim on this effect; try again after its lease."""


class Ledger:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        _metadata.create_all(self.engine)

    def once(self, key: str, topic: str, effect: Callable[[], dict[str, Any]], *, owner: str = "",
             lease: timedelta = timedelta(minutes=1)) -> dict[str, Any]:
        """The result of ``effect`` for ``key``, running it only if no earlier attempt finished."""
        done = self._claim(key, topic, owner, lease)
        if done is not None:
            return done
        result = effect()
        with self.engine.begin() as conn:
            conn.execute(effects.update().where(effects.c.key == key)
                         .values(state="done", result=result, done_at=_now(), claimed_until=None))
        return result

    def _claim(self, key: str, topic: str, owner: str, lease: timedelta) -> dict[str, Any] | None:
        """The stored result, or None after claiming the effect for ``owner``."""
        insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        with self.engine.begin() as conn:
            conn.execute(insert(effects).values(key=key, topic=topic, state="pending", attempts=0,
                                                created_at=_now()).on_conflict_do_nothing(index_elements=["key"]))
            row = conn.execute(sa.select(effects).where(effects.c.key == key).with_for_update()).one()
            if row.state == "done":
                return dict(row.result or {})
            now = _now()
            if row.claimed_until is not None and _aware(row.claimed_until) > now and row.claimed_by != owner:
                until = _aware(row.claimed_until)
                raise EffectInProgress(f"{topic} for this task is being done by {row.claimed_by} until "
                                       f"{until.isoformat(timespec='seconds')}", (until - now).total_seconds())
            conn.execute(effects.update().where(effects.c.key == key).values(
                attempts=row.attempts + 1, claimed_by=owner, claimed_until=now + lease))
        return None

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


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
