"""Who has taken part in an instance: the users and groups its user tasks were assigned or offered to, and
who claimed and completed them.

A user task's candidate rows go when the task is done; "having taken part" must outlive them (the clerk who
asked for a supplement prints the notice after the case moved on), so each party is kept here once per
instance, as Camunda keeps historic identity links. Lists of cases then filter by one indexed EXISTS instead
of reading the audit log. Rows are only added (insert-or-ignore), never changed.
"""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite

from .db import is_postgres
from .models import Involvement

USER, GROUP, DEPARTMENT = "user", "group", "department"


def involve(session: so.Session, instance_id: str, *, users: Iterable[str | None] = (),
            groups: Iterable[str] = ()) -> None:
    """Record ``users`` and ``groups`` as parties of the instance, and the department of each department-scoped
    group (``market:approval-clerk``: the market bureau takes part, as in a 一件事's member part); those already
    recorded are skipped."""
    groups = set(groups)
    rows = [{"instance_id": instance_id, "kind": USER, "party": user} for user in sorted({u for u in users if u})]
    rows += [{"instance_id": instance_id, "kind": GROUP, "party": group} for group in sorted(groups)]
    rows += [{"instance_id": instance_id, "kind": DEPARTMENT, "party": department}
             for department in sorted({g.split(":", 1)[0] for g in groups if ":" in g})]
    if rows:
        session.execute(_insert_ignoring_duplicates(session).values(rows))


def _insert_ignoring_duplicates(session: so.Session):
    dialect = postgresql if is_postgres(session) else sqlite
    return dialect.insert(Involvement).on_conflict_do_nothing()


def department_takes_part(instance_id: sa.ColumnElement[str], department: str) -> sa.ColumnElement[bool]:
    """SQL: a group of ``department`` is or was offered a task of the instance."""
    return sa.exists().where(Involvement.instance_id == instance_id, Involvement.kind == DEPARTMENT,
                             Involvement.party == department)


def involved(instance_id: sa.ColumnElement[str], username: str, groups: Iterable[str]) -> sa.ColumnElement[bool]:
    """SQL: the user, or one of ``groups``, is a party of the instance whose id is ``instance_id``."""
    return sa.exists().where(Involvement.instance_id == instance_id, sa.or_(
        sa.and_(Involvement.kind == USER, Involvement.party == username),
        sa.and_(Involvement.kind == GROUP, Involvement.party.in_(sorted(groups)))))
