"""The center's indicators (rule 18), counted as cases are received, decided and rated, and read back
per day, department and item without touching the cases."""
from __future__ import annotations

from datetime import date


from engine import caseclock, indicators
from engine.models import CaseClock

from .paths import ENTERPRISE, FOOD_CHANGE, GRANT, PERFORMANCE, PERSON, SOLE_TRADER, delivered

MONDAY = date(2026, 1, 5)


def board(center, department=None, start=MONDAY, end=date(2026, 1, 31)) -> indicators.Dashboard:
    with center.sessions.begin() as session:
        return indicators.dashboard(session, start, end, department)


def test_receipts_decisions_non_acceptances_and_ratings_are_counted(center):
    instant = center.receive(SOLE_TRADER, PERSON, [{"code": "application-form"}, {"code": "premises"}])
    online = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}], user="portal", channel="online")
    refused = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(instant, "Task_chief_decision", "market_chief", GRANT)
    center.complete(refused, "Task_acceptance_review", "market_clerk", {
        "acceptance": "refuse", "opinion": "不属于本机关职权", "refusalReasons": "申请事项依法不需要许可"})
    center.complete(online, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    center.pass_days(2)  # Wednesday: two working days after the acceptance
    center.complete(online, "Task_chief_decision", "market_chief", GRANT)
    center.work()
    rated = delivered(center)  # a culture case: granted, handed over, rated below
    center.message("rating-received", rated, {"rating": "不满意", "realName": True})
    market = board(center, "market")
    total = market.total.as_dict()
    assert (total["received"], total["completed"], total["decided"]) == (3, 3, 2)
    assert total["instantShare"] == total["onlineShare"] == 0.3333  # rounded to four places
    assert total["onTimeRate"] == 1.0
    assert total["averageWorkingDaysUsed"] == 1.0  # 0 for the instant item, 2 for the online one
    assert total["averagePromisedDays"] == 2.5  # 0 and 5 promised
    with center.sessions.begin() as session:
        clock = session.get(CaseClock, center.instance_id(online))
        assert (clock.outcome, clock.working_days_used, clock.on_time) == ("decided", 2, True)
    assert [(d.isoformat(), r, c) for d, r, c in market.days] == [("2026-01-05", 3, 2), ("2026-01-07", 0, 1)]
    everyone = board(center)
    assert everyone.total.as_dict()["ratings"]["不满意"] == 1
    assert [code for code, _ in everyone.departments] == ["culture", "market"]
    assert {code for code, _, _ in everyone.items} == {SOLE_TRADER, FOOD_CHANGE, PERFORMANCE}
    assert board(center, "market", start=date(2026, 1, 6)).total.received == 0  # the period filters days


def test_open_cases_by_warning_state_and_a_late_decision_is_not_on_time(center):
    late = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(late, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    with center.sessions.begin() as session:
        assert indicators.open_cases(session) == {"normal": 1, "yellow": 0, "red": 0}
    center.pass_days(9)  # five working days promised: overdue
    caseclock.check_due(center.sessions)  # what the scheduler's clock job does every round
    with center.sessions.begin() as session:
        assert indicators.open_cases(session, "market") == {"normal": 0, "yellow": 0, "red": 1}
        assert indicators.open_cases(session, "culture") == {"normal": 0, "yellow": 0, "red": 0}
    center.complete(late, "Task_chief_decision", "market_chief", GRANT)
    total = board(center, "market").total.as_dict()
    assert total["completed"] == 1 and total["onTimeRate"] == 0.0


def test_the_seeding_command_writes_cases_clocks_and_indicators_that_agree(app):
    import sqlalchemy as sa

    from api import state
    from api.demo import seed
    from engine import deploy, supervision
    from engine.identity import Principal
    from engine.models import CaseDayStat, ProcessInstance
    from engine.settings import PROJECT_ROOT

    with state(app).sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
    with app.app_context():  # as `onewindow` runs its commands
        result = app.test_cli_runner().invoke(args=["seed-cases", "120", "--batch", "50", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "synthetic cases" in result.output and "120 cases written" in result.output
    with state(app).sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 120
        assert session.scalar(sa.select(sa.func.sum(CaseDayStat.received))) == 120
        done = session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)
                              .where(ProcessInstance.status == "completed"))
        assert session.scalar(sa.select(sa.func.sum(CaseDayStat.completed))) == done
        viewer = Principal("supervisor", frozenset({"supervisor"}), "center")
        page = supervision.instances(session, supervision.InstanceFilter(sort="deadline"), viewer)
        assert all(r.instance.status == "running" for r in page.rows)
    again = app.test_cli_runner().invoke(args=["seed-cases", "0"])
    assert again.exit_code != 0 and "0 is not in the range" in again.output
