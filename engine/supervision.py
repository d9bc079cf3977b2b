"""What supervisors see of cases: the instance list with its filters, a page at a time, and its CSV.

Every filter is a column of ``process_instance`` (copied from the case when it
was received) or an indexed lookup (case clock warning state, open incident),
so the list never deserializes workflows and stays fast as the table grows.
Pages follow a cursor on (started_at, id), newest first. The service
center's supervisors see every case; a department's supervisors see their
department's only (``engine.access.supervised_department``).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import cursors
from .context import services
from .access import supervised_department
from .errors import InvalidInput
from .identity import Principal
from .models import CaseClock, Incident, ProcessInstance

STATUSES = ("running", "suspended", "completed", "cancelled")
WARNINGS = ("normal", "yellow", "red")
#: newest / oldest received first, or the running cases by their nearest promised deadline
SORTS = ("newest", "oldest", "deadline")
PAGE_SIZE = 50


@dataclass(frozen=True)
class InstanceFilter:
    status: str | None = None
    process: str | None = None
    item_code: str | None = None
    department: str | None = None
    business_key: str | None = None
    applicant: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
    ended_from: datetime | None = None
    ended_to: datetime | None = None
    warning: str | None = None
    has_incident: bool | None = None
    sort: str = "newest"

    def check(self) -> "InstanceFilter":
        if self.sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)}, got {self.sort!r}")
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.warning is not None and self.warning not in WARNINGS:
            raise InvalidInput(f"warning must be one of {', '.join(WARNINGS)}, got {self.warning!r}")
        return self


@dataclass(frozen=True)
class Row:
    instance: ProcessInstance
    warning: str | None
    deadline: datetime | None
    incidents: int


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_cursor: str | None


def query(found: InstanceFilter, viewer: Principal) -> sa.Select:
    f = found.check()
    stmt = sa.select(ProcessInstance, CaseClock.warning_state, CaseClock.promised_deadline_at).outerjoin(
        CaseClock, CaseClock.instance_id == ProcessInstance.id)
    # a department's own cases, by the indexed column (a 一件事 it takes part in is the center's case: its
    # supervisors open it from the case's page, until each part is a case of its own department)
    own = supervised_department(viewer)
    columns = [(own, ProcessInstance.department), (f.status, ProcessInstance.status),
               (f.process, ProcessInstance.definition_key), (f.item_code, ProcessInstance.item_code),
               (f.department, ProcessInstance.department), (f.business_key, ProcessInstance.business_key),
               (f.warning, CaseClock.warning_state)]
    stmt = stmt.where(*[column == value for value, column in columns if value is not None])
    ranges = [(f.started_from, ProcessInstance.started_at, True), (f.started_to, ProcessInstance.started_at, False),
              (f.ended_from, ProcessInstance.ended_at, True), (f.ended_to, ProcessInstance.ended_at, False)]
    stmt = stmt.where(*[column >= value if lower else column < value for value, column, lower in ranges
                        if value is not None])
    if f.applicant:
        text = f.applicant.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(ProcessInstance.applicant_name.like(f"{text}%", escape="\\"))
    if f.has_incident is not None:
        open_incident = sa.exists().where(Incident.instance_id == ProcessInstance.id, Incident.resolved_at.is_(None))
        stmt = stmt.where(open_incident if f.has_incident else ~open_incident)
    return stmt


def instances(session: so.Session, found: InstanceFilter, viewer: Principal, *, after: str | None = None,
              limit: int = PAGE_SIZE) -> Page:
    """One page in the filter's order; ``after`` is the previous page's ``next_cursor``. Every order is
    a keyset on an index (received time and id, or deadline and id), so page 1,000 costs what page 1 does."""
    stmt = query(found, viewer)
    key = _sort_key(found.sort)
    if found.sort == "deadline":  # cases whose clock runs, the nearest (or most overdue) promised deadline first
        stmt = stmt.where(CaseClock.closed_at.is_(None), CaseClock.promised_deadline_at.is_not(None))
    if after:
        stmt = stmt.where(_after(key, found.sort, after))
    stmt = stmt.order_by(*key.order).limit(limit + 1)
    found_rows = session.execute(stmt).all()
    ids = [r[0].id for r in found_rows[:limit]]
    counts = dict(session.execute(sa.select(Incident.instance_id, sa.func.count()).where(
        Incident.instance_id.in_(ids), Incident.resolved_at.is_(None)).group_by(Incident.instance_id)).all())
    rows = [Row(r[0], r[1], r[2], counts.get(r[0].id, 0)) for r in found_rows[:limit]]
    last = found_rows[limit - 1] if len(found_rows) > limit else None
    return Page(rows, _encode(found.sort, key.values(last)) if last is not None else None)


@dataclass(frozen=True)
class _SortKey:
    columns: tuple[Any, Any]
    descending: bool

    @property
    def order(self) -> list[Any]:
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def values(self, row: Any) -> list[Any]:
        """The row's place in the order, for the next page's cursor."""
        instance, _, deadline = row
        moment = deadline if self.columns[0] is CaseClock.promised_deadline_at else instance.started_at
        return [moment.isoformat(), instance.id]


def _sort_key(sort: str) -> _SortKey:
    if sort == "deadline":
        return _SortKey((CaseClock.promised_deadline_at, ProcessInstance.id), False)
    return _SortKey((ProcessInstance.started_at, ProcessInstance.id), sort == "newest")


def _after(key: _SortKey, sort: str, cursor: str) -> Any:
    moment, instance_id = _decode(sort, cursor)
    first, second = key.columns
    row = sa.tuple_(first, second)
    bound = sa.tuple_(sa.literal(moment, first.type), sa.literal(instance_id, second.type))
    return row < bound if key.descending else row > bound


def _encode(sort: str, values: list[Any]) -> str:
    return cursors.encode([sort, *values])


def _decode(sort: str, cursor: str) -> tuple[datetime, str]:
    found_sort, moment, instance_id = cursors.decode(cursor, 3)
    try:
        if found_sort != sort:
            raise ValueError
        return datetime.fromisoformat(moment), str(instance_id)
    except (ValueError, TypeError):
        raise InvalidInput("The page cursor is not valid; start again from the first page",
                           code="page.bad-cursor") from None


CSV_COLUMNS = ("business_key", "item_code", "item_name", "department", "applicant_name", "status", "process",
               "started_at", "ended_at", "warning", "deadline", "open_incidents")


def _cell(value: object) -> str:
    """Text a spreadsheet shows as text: values from applicants never start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _local(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def export_csv(session: so.Session, found: InstanceFilter, viewer: Principal, batch: int = 1000) -> Iterable[str]:
    """The filtered list as CSV, streamed a page at a time (a million rows never sit in memory);
    times in the center's zone, as the pages show them."""
    tz = services(session).tz
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    after = None
    while True:
        page = instances(session, found, viewer, after=after, limit=batch)
        for row in page.rows:
            i = row.instance
            writer.writerow([_cell(v) for v in (
                i.business_key, i.item_code, i.item_name, i.department, i.applicant_name, i.status,
                i.definition_key, _local(i.started_at, tz), _local(i.ended_at, tz), row.warning,
                _local(row.deadline, tz), row.incidents)])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if page.next_cursor is None:
            return
        after = page.next_cursor
