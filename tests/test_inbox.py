"""The inbox query: what the clerks' inbox page is built on."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from engine.inbox import inbox
from engine.models import UserTask

from .paths import ENTERPRISE, FOOD_CHANGE, PERSON, SOLE_TRADER


def test_the_inbox_lists_a_departments_tasks_most_urgent_first_page_by_page(center):
    keys = []
    for _ in range(5):
        keys.append(center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}]))
        center.work()
        center.clock.advance(timedelta(hours=1))
    keys.append(center.receive(SOLE_TRADER, PERSON, [{"code": "application-form"}, {"code": "premises"}]))
    center.work()
    groups, chief_groups, culture_groups = (center.groups(u) for u in ("market_clerk", "market_chief", "culture_clerk"))
    with center.sessions.begin() as session:
        first = inbox(session, "market_clerk", groups, limit=3)
        second = inbox(session, "market_clerk", groups, limit=3, after=first.next_cursor)
        assert second.next_cursor is None
        assert [t.business_key for t in first.tasks + second.tasks] == keys[:5]  # the instant one is the chief's
        assert first.tasks[0].item_name == "食品经营许可（变更许可事项）"
        assert first.tasks[0].applicant_name == ENTERPRISE["applicantName"]
        chief = inbox(session, "market_chief", chief_groups)
        assert [t.business_key for t in chief.tasks] == [keys[5]]
        assert inbox(session, "culture_clerk", culture_groups).tasks == []
        found = inbox(session, "market_clerk", groups, search="上海青禾")
        assert len(found.tasks) == 5 and inbox(session, "market_clerk", groups, search=keys[2]).tasks[0].business_key == keys[2]
        assert inbox(session, "market_clerk", groups, search="%").tasks == []


def test_tasks_without_a_due_date_come_last_and_the_cursor_crosses_into_them(center):
    for _ in range(3):
        center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
        center.work()
        center.clock.advance(timedelta(minutes=5))
    with center.sessions.begin() as session:
        rows = list(session.scalars(sa.select(UserTask).order_by(UserTask.created_at)))
        rows[0].due_at = None
    groups = center.groups("market_clerk")
    with center.sessions.begin() as session:
        first = inbox(session, "market_clerk", groups, limit=2)
        rest = inbox(session, "market_clerk", groups, limit=2, after=first.next_cursor)
        assert [t.due_at is None for t in first.tasks + rest.tasks] == [False, False, True]
