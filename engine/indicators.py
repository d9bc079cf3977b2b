"""The center's indicators (rule 18): cases received and completed, on-time rate, working days used
against the promised limit, share of instant items (即办件比例), share handled online (网办比例),
好差评 results — per department and item, over a period.

Counted when things happen, in the same transaction: a receipt, a clock that
stops with a decision or a non-acceptance, a rating. Each adds to one row of
``case_day_stat`` (day, department, item) with an upsert, so the dashboard
reads days × items rows, never the cases, and takes the same time with a
thousand cases or a million. The cases waiting now (yellow and red cards) are
counted on the case clocks' warning index.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .context import services
from .db import is_postgres
from .errors import Forbidden, InvalidInput
from .identity import Principal
from .models import CaseClock, CaseDayStat, ProcessInstance
from .settings import RATING_LEVELS
from .access import supervised_department

COUNTS = ("received", "online", "instant", "completed", "on_time", "decided", "working_days_used", "promised_days",
          "rated_1", "rated_2", "rated_3", "rated_4", "rated_5")
INSTANT = "1"  # GB/T 39046-2020 case type 即办件


def add(session: so.Session, day: date, department: str, item_code: str, **counts: int) -> None:
    """Add to the day's row of a department's item (created at zero the first time)."""
    add_many(session, [{"day": day, "department": department, "item_code": item_code, **counts}])


def add_many(session: so.Session, rows: list[dict[str, Any]]) -> None:
    """Add each row's counts to its (day, department, item) row (an upsert each, one statement for all)."""
    if not rows:
        return
    values = []
    for row in rows:
        unknown = set(row) - {"day", "department", "item_code", *COUNTS}
        if unknown:
            raise ValueError(f"unknown indicator counts: {', '.join(sorted(unknown))}")
        values.append({c: row.get(c, 0) for c in ("day", "department", "item_code", *COUNTS)})
    table = CaseDayStat.__table__
    statement = (postgresql_insert if is_postgres(session) else sqlite_insert)(table)
    upsert = statement.on_conflict_do_update(index_elements=["day", "department", "item_code"],
                                             set_={c: table.c[c] + statement.excluded[c] for c in COUNTS})
    session.connection().execute(upsert, values)  # one compiled statement, executed for every row


def _local_day(session: so.Session, moment: datetime) -> date:
    return moment.astimezone(services(session).tz).date()


def count_receipt(session: so.Session, instance: ProcessInstance, *, channel: str, case_type: str) -> None:
    add(session, _local_day(session, instance.started_at), instance.department or "", instance.item_code or "",
        received=1, online=int(channel == "online"), instant=int(case_type == INSTANT))


def count_close(session: so.Session, clock: CaseClock) -> None:
    """A clock stopped by a decision or a non-acceptance: the case's handling ended (办结)."""
    if clock.item_code is None or clock.closed_at is None:
        return
    decided = clock.outcome == "decided"
    add(session, _local_day(session, clock.closed_at), clock.department or "", clock.item_code,
        completed=1, on_time=int(bool(clock.on_time)), decided=int(decided),
        working_days_used=(clock.working_days_used or 0) if decided else 0,
        promised_days=_promised(clock) if decided else 0)


def _promised(clock: CaseClock) -> int:
    """The limit the case was promised (an instant item's 0 included), else the legal one."""
    limit = clock.promised_limit_days if clock.promised_limit_days is not None else clock.legal_limit_days
    return limit or 0


def count_rating(session: so.Session, instance_id: str, rating: str) -> None:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or instance.item_code is None or rating not in RATING_LEVELS:
        return
    level = RATING_LEVELS.index(rating) + 1
    add(session, _local_day(session, services(session).clock.now()), instance.department or "", instance.item_code,
        **{f"rated_{level}": 1})


# --- what the dashboard reads ------------------------------------------------------------

@dataclass
class Totals:
    received: int = 0
    online: int = 0
    instant: int = 0
    completed: int = 0
    on_time: int = 0
    decided: int = 0
    working_days_used: int = 0
    promised_days: int = 0
    ratings: list[int] = field(default_factory=lambda: [0] * len(RATING_LEVELS))

    def as_dict(self) -> dict[str, Any]:
        share = (lambda part, whole: round(part / whole, 4) if whole else None)
        return {"received": self.received, "completed": self.completed, "decided": self.decided,
                "onTimeRate": share(self.on_time, self.completed), "instantShare": share(self.instant, self.received),
                "onlineShare": share(self.online, self.received),
                "averageWorkingDaysUsed": share(self.working_days_used, self.decided),
                "averagePromisedDays": share(self.promised_days, self.decided),
                "ratings": dict(zip(RATING_LEVELS, self.ratings))}


def _sums() -> list[Any]:
    return [sa.func.coalesce(sa.func.sum(getattr(CaseDayStat, c)), 0).label(c) for c in COUNTS]


def _totals(row: Any) -> Totals:
    values = dict(row._mapping)
    return Totals(**{c: int(values[c]) for c in COUNTS if not c.startswith("rated_")},
                  ratings=[int(values[f"rated_{n}"]) for n in range(1, len(RATING_LEVELS) + 1)])


@dataclass
class Dashboard:
    start: date
    end: date
    department: str | None
    total: Totals
    days: list[tuple[date, int, int]]
    departments: list[tuple[str, Totals]]
    items: list[tuple[str, str, Totals]]
    #: open cases now by warning state
    now: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "department": self.department,
                "total": self.total.as_dict(),
                "days": [{"day": d.isoformat(), "received": r, "completed": c} for d, r, c in self.days],
                "departments": [{"department": code, **t.as_dict()} for code, t in self.departments],
                "items": [{"itemCode": code, "department": dept, **t.as_dict()} for code, dept, t in self.items],
                "openCases": self.now}


DEFAULT_PERIOD_DAYS = 30


def period(session: so.Session, start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for; by default the thirty days up to today (in the center's zone)."""
    end = end or services(session).today()
    start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if start > end:
        raise InvalidInput(f"The period starts ({start}) after it ends ({end})", code="period.reversed")
    return start, end


def department_for(viewer: Principal, asked: str | None) -> str | None:
    """A department's supervisors read their department's figures only; the center's read any or all."""
    own = supervised_department(viewer)
    if own is not None and asked not in (None, own):
        raise Forbidden(f"User '{viewer.username}' supervises department '{own}' only", code="case.not-supervised")
    return own or asked


def dashboard(session: so.Session, start: date, end: date, department: str | None = None) -> Dashboard:
    """The indicators of ``start``..``end`` (both included), of one department or all."""
    where = [CaseDayStat.day >= start, CaseDayStat.day <= end]
    if department is not None:
        where.append(CaseDayStat.department == department)
    total = _totals(session.execute(sa.select(*_sums()).where(*where)).one())
    days = [(d, int(r), int(c)) for d, r, c in session.execute(
        sa.select(CaseDayStat.day, sa.func.sum(CaseDayStat.received), sa.func.sum(CaseDayStat.completed))
        .where(*where).group_by(CaseDayStat.day).order_by(CaseDayStat.day))]
    departments = [(row.department, _totals(row)) for row in session.execute(
        sa.select(CaseDayStat.department, *_sums()).where(*where).group_by(CaseDayStat.department)
        .order_by(CaseDayStat.department))]
    items = [(row.item_code, row.department, _totals(row)) for row in session.execute(
        sa.select(CaseDayStat.item_code, CaseDayStat.department, *_sums()).where(*where)
        .group_by(CaseDayStat.item_code, CaseDayStat.department).order_by(CaseDayStat.item_code))]
    return Dashboard(start, end, department, total, days, departments, items, open_cases(session, department))


def open_cases(session: so.Session, department: str | None = None) -> dict[str, int]:
    """Cases whose clock runs now, by warning state (normal, yellow, red)."""
    stmt = (sa.select(CaseClock.warning_state, sa.func.count()).where(CaseClock.closed_at.is_(None))
            .group_by(CaseClock.warning_state))
    if department is not None:
        stmt = stmt.where(CaseClock.department == department)
    found = dict(session.execute(stmt).all())
    return {state: int(found.get(state, 0)) for state in ("normal", "yellow", "red")}
