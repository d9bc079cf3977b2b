"""The clerk's inbox: the tasks a user may work on, most urgent first, a page at a time.

Pages follow a cursor (keyset pagination) instead of an offset, so page 500
costs what page 1 costs however many tasks are open: the next page starts
after the last row's (due, created, id). Tasks without a due date come after
all dated ones. Search is by case number (办件编号) or applicant, both prefix
matches on indexed columns.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import cursors
from .errors import InvalidInput
from .models import UserTask
from .access import offered_to

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    tasks: list[UserTask]
    #: pass back as ``after`` for the next page; None on the last page
    next_cursor: str | None


def inbox(session: so.Session, user: str, groups: Iterable[str], *, search: str | None = None,
          mine_only: bool = False, after: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """The user's tasks (assigned, or offered to their groups while unclaimed), most urgent first."""
    # the page shows no candidate groups: don't load them (one query and 50 collections less a page)
    stmt = sa.select(UserTask).options(so.lazyload(UserTask.candidates)).where(UserTask.suspended.is_(False))
    stmt = stmt.where(UserTask.assignee == user) if mine_only else stmt.where(offered_to(user, groups))
    if search and search.strip():
        text = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(sa.or_(UserTask.business_key.like(f"{text}%", escape="\\"),
                                 UserTask.applicant_name.like(f"{text}%", escape="\\")))
    if after:
        stmt = stmt.where(_after(after))
    # NULLS LAST is PostgreSQL's order for an ascending index, so it walks ix_user_task_urgency and stops early
    stmt = stmt.order_by(UserTask.due_at.asc().nulls_last(), UserTask.created_at, UserTask.id)
    rows = list(session.scalars(stmt.limit(limit + 1)))
    return Page(rows[:limit], _cursor(rows[limit - 1]) if len(rows) > limit else None)


def _cursor(row: UserTask) -> str:
    return cursors.encode([row.due_at.isoformat() if row.due_at else None, row.created_at.isoformat(), row.id])


def _after(cursor: str) -> sa.ColumnElement[bool]:
    due, created, task_id = cursors.decode(cursor, 3)
    try:
        created_at = datetime.fromisoformat(created)
        due_at = datetime.fromisoformat(due) if due is not None else None
    except (ValueError, TypeError):
        raise InvalidInput("The page cursor is not valid; start again from the first page",
                           code="page.bad-cursor") from None
    created_value, id_value = sa.literal(created_at, UserTask.created_at.type), sa.literal(task_id, UserTask.id.type)
    if due_at is None:  # past every dated task
        return sa.and_(UserTask.due_at.is_(None),
                       sa.tuple_(UserTask.created_at, UserTask.id) > sa.tuple_(created_value, id_value))
    return sa.or_(UserTask.due_at.is_(None),
                  sa.tuple_(UserTask.due_at, UserTask.created_at, UserTask.id)
                  > sa.tuple_(sa.literal(due_at, UserTask.due_at.type), created_value, id_value))
