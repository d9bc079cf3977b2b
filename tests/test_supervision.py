"""The supervisors' instance list: filters on case columns, newest first page by page, department scope, CSV."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine import identity
from engine.errors import InvalidInput
from engine.supervision import InstanceFilter, export_csv, instances

from .paths import ENTERPRISE, FOOD_CHANGE, PERFORMANCE, PERSON, SOLE_TRADER

CENTER_SUPERVISOR = identity.Principal("supervisor", frozenset({"supervisor"}), "center")
MARKET_SUPERVISOR = identity.Principal("market_boss", frozenset({"supervisor"}), "market")


def test_filters_pages_and_department_scope(center):
    market = [center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])]
    center.clock.advance(timedelta(minutes=10))
    market.append(center.receive(SOLE_TRADER, PERSON, [{"code": "application-form"}, {"code": "premises"}]))
    center.clock.advance(timedelta(minutes=10))
    culture = center.receive(PERFORMANCE, ENTERPRISE, [{"code": "application-form"}, {"code": "programme"}])
    with center.sessions.begin() as session:
        everything = instances(session, InstanceFilter(), CENTER_SUPERVISOR)
        assert [r.instance.business_key for r in everything.rows] == [culture, market[1], market[0]]
        assert everything.rows[0].instance.item_name == "营业性演出审批" and everything.rows[0].warning == "normal"
        first = instances(session, InstanceFilter(), CENTER_SUPERVISOR, limit=2)
        rest = instances(session, InstanceFilter(), CENTER_SUPERVISOR, after=first.next_cursor, limit=2)
        assert [r.instance.business_key for r in first.rows + rest.rows] == [culture, market[1], market[0]]
        assert rest.next_cursor is None
        own = instances(session, InstanceFilter(), MARKET_SUPERVISOR)
        assert [r.instance.business_key for r in own.rows] == [market[1], market[0]]  # their department only
        assert [r.instance.business_key for r in instances(
            session, InstanceFilter(applicant="沈小"), CENTER_SUPERVISOR).rows] == [market[1]]
        assert instances(session, InstanceFilter(item_code=PERFORMANCE, department="culture", status="running"),
                         CENTER_SUPERVISOR).rows[0].instance.business_key == culture
        assert instances(session, InstanceFilter(has_incident=True), CENTER_SUPERVISOR).rows == []
        assert instances(session, InstanceFilter(warning="red"), CENTER_SUPERVISOR).rows == []
        started = everything.rows[-1].instance.started_at
        assert len(instances(session, InstanceFilter(started_from=started + timedelta(minutes=5)),
                             CENTER_SUPERVISOR).rows) == 2
        with pytest.raises(InvalidInput, match="warning must be one of normal, yellow, red"):
            instances(session, InstanceFilter(warning="purple"), CENTER_SUPERVISOR)
        text = "".join(export_csv(session, InstanceFilter(department="market"), CENTER_SUPERVISOR, batch=1))
    lines = text.strip().splitlines()
    assert lines[0].startswith("business_key,item_code,item_name") and len(lines) == 3
    assert lines[1].startswith(market[1]) and "个体工商户设立登记" in lines[1]


def test_a_damaged_cursor_is_a_clear_error(center):
    from engine.inbox import inbox

    with center.sessions.begin() as session:
        for call in (lambda: instances(session, InstanceFilter(), CENTER_SUPERVISOR, after="bm90LWEtY3Vyc29y"),
                     lambda: inbox(session, "market_clerk", ["market:approval-clerk"], after="!!!")):
            with pytest.raises(InvalidInput, match="page cursor is not valid"):
                call()


def test_the_list_sorts_oldest_first_or_by_the_nearest_deadline_page_by_page(center):
    food = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])  # promises 5 working days
    center.clock.advance(timedelta(minutes=10))
    instant = center.receive(SOLE_TRADER, PERSON, [{"code": "application-form"}, {"code": "premises"}])  # today
    center.clock.advance(timedelta(minutes=10))
    show = center.receive(PERFORMANCE, ENTERPRISE, [{"code": "application-form"}, {"code": "programme"}])
    with center.sessions.begin() as session:
        def keys(sort: str) -> list[str]:
            found, after = [], None
            while True:  # one row a page: every page boundary is crossed by a cursor
                page = instances(session, InstanceFilter(sort=sort), CENTER_SUPERVISOR, after=after, limit=1)
                found += [r.instance.business_key for r in page.rows]
                if page.next_cursor is None:
                    return found
                after = page.next_cursor
        assert keys("oldest") == [food, instant, show]
        deadlines = keys("deadline")
        assert deadlines[0] == instant and set(deadlines) == {food, instant, show}
        rows = instances(session, InstanceFilter(sort="deadline"), CENTER_SUPERVISOR).rows
        assert [r.deadline for r in rows] == sorted(r.deadline for r in rows)
        newest = instances(session, InstanceFilter(), CENTER_SUPERVISOR, limit=1)
        with pytest.raises(InvalidInput, match="page cursor is not valid"):  # a cursor of another order
            instances(session, InstanceFilter(sort="oldest"), CENTER_SUPERVISOR, after=newest.next_cursor)
        with pytest.raises(InvalidInput, match="sort must be one of newest, oldest, deadline"):
            instances(session, InstanceFilter(sort="name"), CENTER_SUPERVISOR)
