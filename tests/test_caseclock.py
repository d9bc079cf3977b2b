"""The case clock on both databases, with a moved clock: limits, acceptance (art. 32), suspensions
(art. 45), one extension (art. 42), warnings and their supervision notices, estimated years."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine import caseclock, runtime, workdays
from engine.calendar import WorkingCalendar, parse_arrangement
from engine.errors import BadUserRequest, Forbidden, InvalidInput
from engine.models import AuditEntry, CaseClock, ProcessInstance, SupervisionNotice

from .flows import complete_only, start

UTC = timezone.utc
SAMPLE_2027 = Path(__file__).parent / "data" / "calendar" / "2027-sample.json"


def at(text: str) -> datetime:
    """A Shanghai local time as UTC, the way the engine stores it."""
    return datetime.fromisoformat(text + "+08:00").astimezone(UTC)


@pytest.fixture
def case(sessions, deploy, clock):
    """Start a case (two parallel user tasks keep it open) received now, with the given variables."""
    deploy("camunda/parallel.bpmn")

    def _start(received: str, **variables) -> str:
        clock.set(at(received))
        return start(sessions, "parallel", business_key="QP-2025-0001", variables=variables)
    return _start


def clock_of(sessions, instance_id: str) -> CaseClock:
    with sessions.begin() as session:
        return session.get(CaseClock, instance_id)


def actions(sessions, instance_id: str) -> list[str]:
    with sessions.begin() as session:
        return list(session.scalars(sa.select(AuditEntry.action).where(AuditEntry.instance_id == instance_id)
                                    .order_by(AuditEntry.id)))


def check(sessions) -> int:
    return caseclock.check_due(sessions)


def test_five_working_days_from_the_friday_before_national_day(sessions, case):
    """Fri 26 Sep 2025: Sun 28 is a make-up workday (1), Mon 29 (2), Tue 30 (3), 1-8 Oct holiday,
    Thu 9 (4), Fri 10 (5) — due 10 Oct 17:00."""
    iid = case("2025-09-26T10:00:00", legalLimitDays=5, acceptedOnReceipt=True)
    found = clock_of(sessions, iid)
    assert (found.acceptance, found.accepted_at) == ("accepted", at("2025-09-26T10:00:00"))
    assert found.legal_deadline_at == at("2025-10-10T17:00:00")
    assert not found.estimated
    assert "clock-opened" in actions(sessions, iid)


def test_instant_item_closes_the_same_day(sessions, case):
    iid = case("2026-03-02T10:00:00", legalLimitDays=20, promisedLimitDays=0, acceptedOnReceipt=True)
    assert clock_of(sessions, iid).promised_deadline_at == at("2026-03-02T17:00:00")


def test_expert_review_of_three_working_days_pushes_the_deadline_by_three(sessions, case, clock):
    iid = case("2026-03-02T09:00:00", legalLimitDays=20, acceptedOnReceipt=True)
    before = clock_of(sessions, iid).legal_deadline_at
    assert before == at("2026-03-30T17:00:00")
    clock.set(at("2026-03-04T10:00:00"))
    with sessions.begin() as session:
        caseclock.suspend(session, iid, procedure="expert-review", legal_basis="《行政许可法》第四十五条",
                          expected_days=3, applicant_notice="专家评审预计需要3个工作日，不计入审批时限。",
                          actor="specialist1")
    assert clock_of(sessions, iid).next_check_at is None, "a suspended clock does not move towards red"
    clock.set(at("2026-03-09T10:00:00"))  # Thu 5, Fri 6, Mon 9: three working days
    with sessions.begin() as session:
        suspension = caseclock.resume(session, iid, result="专家评审通过", actor="specialist1")
        assert suspension.working_days == 3
    after = clock_of(sessions, iid)
    assert (after.suspended_days, after.legal_deadline_at) == (3, at("2026-04-02T17:00:00"))
    assert actions(sessions, iid)[-2:] == ["clock-suspended", "clock-resumed"]


def test_site_survey_stops_the_clock_only_where_the_item_says_so(sessions, case):
    plain = case("2026-03-02T09:00:00", legalLimitDays=20, acceptedOnReceipt=True)
    survey = dict(procedure="site-survey", legal_basis="青浦区现场踏勘规则", expected_days=2,
                  applicant_notice="现场踏勘预计2个工作日", actor="specialist1")
    with sessions.begin() as session:
        with pytest.raises(BadUserRequest, match="site survey stops the clock only where"):
            caseclock.suspend(session, plain, **survey)
    allowed = case("2026-03-02T09:00:00", legalLimitDays=20, acceptedOnReceipt=True, siteSurveySuspendsClock=True)
    with sessions.begin() as session:
        caseclock.suspend(session, allowed, **survey)
    assert clock_of(sessions, allowed).suspended_since is not None


@pytest.mark.parametrize("bad,message", [
    (dict(procedure="lunch"), "does not stop the clock"),
    (dict(legal_basis=" "), "legalBasis is required"),
    (dict(applicant_notice=""), "applicantNotice is required"),
    (dict(expected_days=0), "expectedDays must be"),
])
def test_suspension_needs_a_procedure_basis_and_notice(sessions, case, bad, message):
    iid = case("2026-03-02T09:00:00", legalLimitDays=20, acceptedOnReceipt=True)
    args = dict(procedure="hearing", legal_basis="第四十六条", expected_days=5, applicant_notice="听证约5个工作日",
                actor="x")
    with sessions.begin() as session:
        with pytest.raises(InvalidInput, match=message):
            caseclock.suspend(session, iid, **{**args, **bad})
    assert clock_of(sessions, iid).suspended_since is None


def test_no_supplement_notice_in_five_working_days_means_accepted_on_receipt(sessions, case, clock):
    iid = case("2026-03-02T09:00:00", legalLimitDays=20)
    pending = clock_of(sessions, iid)
    assert (pending.acceptance, pending.acceptance_due_at) == ("pending", at("2026-03-09T17:00:00"))
    clock.set(at("2026-03-09T16:59:00"))
    check(sessions)
    assert clock_of(sessions, iid).acceptance == "pending"
    clock.set(at("2026-03-09T17:00:00"))
    assert check(sessions) == 1
    accepted = clock_of(sessions, iid)
    assert (accepted.acceptance, accepted.accepted_at) == ("accepted", at("2026-03-02T09:00:00"))
    assert accepted.legal_deadline_at == at("2026-03-30T17:00:00")
    assert "clock-accepted-by-law" in actions(sessions, iid)
    with sessions.begin() as session:
        with pytest.raises(BadUserRequest, match="only before acceptance"):
            caseclock.request_supplement(session, iid, ["营业执照副本"], actor="clerk")


def test_after_a_supplement_the_last_correction_day_is_the_acceptance_date(sessions, case, clock):
    iid = case("2026-03-02T09:00:00", legalLimitDays=20)
    clock.set(at("2026-03-03T10:00:00"))
    with sessions.begin() as session:
        with pytest.raises(InvalidInput, match="every missing item at once"):
            caseclock.request_supplement(session, iid, [], actor="clerk")
        caseclock.request_supplement(session, iid, ["房屋租赁合同", "法定代表人身份证明"], actor="clerk")
    waiting = clock_of(sessions, iid)
    assert (waiting.acceptance, waiting.legal_deadline_at, waiting.next_check_at) == (
        "supplement-requested", None, None)
    clock.set(at("2026-03-20T14:00:00"))
    assert check(sessions) == 0, "the scheduler never accepts a case waiting for corrections"
    with sessions.begin() as session:
        caseclock.supplement_complete(session, iid, actor="clerk")
    accepted = clock_of(sessions, iid)
    assert accepted.accepted_at == at("2026-03-20T14:00:00")
    assert accepted.legal_deadline_at == at("2026-04-20T17:00:00")  # Qingming: Sat 4 - Mon 6 Apr 2026


def test_supplement_notice_after_five_working_days_is_refused(sessions, case, clock):
    iid = case("2026-03-02T09:00:00", legalLimitDays=20)
    clock.set(at("2026-03-10T09:00:00"))
    with sessions.begin() as session:
        with pytest.raises(BadUserRequest, match="5 working days for a supplement notice have passed"):
            caseclock.request_supplement(session, iid, ["身份证明"], actor="clerk")


def test_yellow_then_red_with_audit_and_supervision_notices(sessions, case, clock):
    iid = case("2026-03-02T09:00:00", legalLimitDays=20, promisedLimitDays=5, acceptedOnReceipt=True)
    found = clock_of(sessions, iid)
    assert found.promised_deadline_at == at("2026-03-09T17:00:00")
    assert found.next_check_at == at("2026-03-06T17:00:00"), "yellow from the close of the day before"
    clock.set(at("2026-03-06T17:00:01"))
    check(sessions)
    assert clock_of(sessions, iid).warning_state == "yellow"
    clock.set(at("2026-03-09T17:00:01"))
    check(sessions)
    assert clock_of(sessions, iid).warning_state == "red"
    with sessions.begin() as session:
        notices = list(session.scalars(sa.select(SupervisionNotice).order_by(SupervisionNotice.id)))
    assert [(n.kind, n.business_key) for n in notices] == [("yellow", "QP-2025-0001"), ("red", "QP-2025-0001")]
    assert ["clock-yellow", "clock-red"] == [a for a in actions(sessions, iid) if a in ("clock-yellow", "clock-red")]
    assert clock_of(sessions, iid).next_check_at is None


def test_a_suspended_case_does_not_turn_red(sessions, case, clock):
    iid = case("2026-03-02T09:00:00", promisedLimitDays=5, acceptedOnReceipt=True)
    with sessions.begin() as session:
        caseclock.suspend(session, iid, procedure="testing", legal_basis="第四十五条", expected_days=10,
                          applicant_notice="检测约10个工作日", actor="s")
    clock.set(at("2026-03-20T09:00:00"))
    check(sessions)
    assert clock_of(sessions, iid).warning_state == "normal"


def test_one_extension_by_a_section_head_before_the_deadline(sessions, case, clock):
    iid = case("2026-03-02T09:00:00", legalLimitDays=20, acceptedOnReceipt=True)
    extension = dict(reason="需征求相关部门意见", applicant_notice="延长十个工作日", actor="head1")
    with sessions.begin() as session:
        with pytest.raises(Forbidden, match="section head"):
            caseclock.extend(session, iid, **extension, actor_roles=["approval-clerk"])
    with sessions.begin() as session:
        caseclock.extend(session, iid, **extension, actor_roles=["section-head"])
    assert clock_of(sessions, iid).legal_deadline_at == at("2026-04-14T17:00:00")  # +10, over Qingming (4-6 Apr)
    with sessions.begin() as session:
        with pytest.raises(BadUserRequest, match="already been extended once"):
            caseclock.extend(session, iid, **extension, actor_roles=["section-head"])


def test_joint_handling_extends_by_fifteen_and_overdue_cannot_extend(sessions, case, clock):
    joint = case("2026-03-02T09:00:00", legalLimitDays=45, acceptedOnReceipt=True)
    with sessions.begin() as session:
        caseclock.extend(session, joint, reason="联合审查", applicant_notice="延长十五个工作日", actor="h",
                         actor_roles=["section-head"])
    assert clock_of(sessions, joint).extension_days == 15
    late = case("2026-03-02T09:00:00", legalLimitDays=1, acceptedOnReceipt=True)
    clock.set(at("2026-03-04T09:00:00"))
    with sessions.begin() as session:
        with pytest.raises(BadUserRequest, match="before the deadline"):
            caseclock.extend(session, late, reason="r", applicant_notice="n", actor="h", actor_roles=["section-head"])


def test_deadline_in_an_unpublished_year_is_estimated_until_loaded(sessions, case):
    iid = case("2026-12-21T09:00:00", legalLimitDays=20, acceptedOnReceipt=True)
    estimated = clock_of(sessions, iid)
    assert estimated.estimated
    # estimate: weekends plus 元旦 (Fri 1 Jan 2027) → 20th working day after Mon 21 Dec is Tue 19 Jan
    assert estimated.legal_deadline_at == at("2027-01-19T17:00:00")
    with sessions.begin() as session:
        workdays.load_year(session, SAMPLE_2027.read_text(encoding="utf-8"), actor="admin")
    loaded = clock_of(sessions, iid)
    assert not loaded.estimated
    arrangement = parse_arrangement(SAMPLE_2027.read_text(encoding="utf-8"))
    official = WorkingCalendar(arrangements={2027: arrangement}).add_working_days(at("2026-12-21T09:00:00"), 20)
    assert (official.estimated, loaded.legal_deadline_at) == (False, official.at)
    assert actions(sessions, iid)[-1] == "clock-recomputed"


def test_local_closure_moves_open_deadlines(sessions, case):
    from datetime import date

    iid = case("2026-03-02T09:00:00", legalLimitDays=5, acceptedOnReceipt=True)
    assert clock_of(sessions, iid).legal_deadline_at == at("2026-03-09T17:00:00")
    with sessions.begin() as session:
        workdays.set_rule(session, date(2026, 3, 4), False, "中心停电闭厅", actor="admin")
    assert clock_of(sessions, iid).legal_deadline_at == at("2026-03-10T17:00:00")
    assert "clock-recomputed" in actions(sessions, iid)


def test_clock_closes_when_the_case_ends(sessions, case):
    iid = case("2026-03-02T09:00:00", legalLimitDays=20, acceptedOnReceipt=True)
    complete_only(sessions, iid, "a")
    complete_only(sessions, iid, "b")
    closed = clock_of(sessions, iid)
    assert closed.closed_at is not None and closed.next_check_at is None
    assert actions(sessions, iid)[-1] == "clock-closed"


@pytest.mark.parametrize("variables,message", [
    ({"legalLimitDays": 5, "promisedLimitDays": 8}, "may not exceed the legal limit"),
    ({"legalLimitDays": "twenty"}, "legalLimitDays must be a whole number"),
    ({"legalLimitDays": 5, "receivedAt": "yesterday"}, "receivedAt"),
])
def test_bad_limits_refuse_the_start_and_write_nothing(sessions, case, variables, message):
    with pytest.raises(InvalidInput, match=message):
        case("2026-03-02T09:00:00", **variables)
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 0


def test_cancelling_a_case_closes_its_clock(sessions, case):
    iid = case("2026-03-02T09:00:00", legalLimitDays=20, acceptedOnReceipt=True)
    with sessions.begin() as session:
        runtime.cancel_instance(session, iid, actor="admin", reason="申请人撤回")
    assert clock_of(sessions, iid).closed_at is not None


def test_a_rolled_back_calendar_change_never_reaches_the_cache(sessions):
    from datetime import date

    from engine.models import CalendarRevision

    with sessions.begin() as session:
        assert workdays.current_calendar(session).is_workday(date(2026, 3, 4))
    with pytest.raises(RuntimeError):
        with sessions.begin() as session:
            workdays.set_rule(session, date(2026, 3, 4), False, "闭厅（后撤销）", actor="admin")
            assert not workdays.current_calendar(session).is_workday(date(2026, 3, 4))
            raise RuntimeError("the administrator's command failed later on")
    with sessions.begin() as session:
        workdays.set_rule(session, date(2026, 3, 6), False, "停电闭厅", actor="admin")
    with sessions.begin() as session:
        calendar = workdays.current_calendar(session)
        assert calendar.is_workday(date(2026, 3, 4)), "the rolled-back closure is gone"
        assert not calendar.is_workday(date(2026, 3, 6))
        assert session.get(CalendarRevision, 1).revision == 1


def test_rules_file_is_all_or_nothing_and_counts_once(sessions, case):
    import json
    from datetime import date

    from engine.models import CalendarRevision, CalendarRule

    iid = case("2026-03-02T09:00:00", legalLimitDays=5, acceptedOnReceipt=True)
    rules = [{"day": "2026-03-04", "workday": False, "note": "闭厅"},
             {"day": "2026-03-05", "workday": False, "note": "闭厅"}]
    with sessions.begin() as session:
        with pytest.raises(InvalidInput, match=r"rule \[1\].day"):
            workdays.load_rules_file(session, json.dumps([rules[0], {**rules[1], "day": "5 March"}]), actor="a")
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CalendarRule)) == 0
    with sessions.begin() as session:
        assert workdays.load_rules_file(session, json.dumps(rules), actor="admin") == 2
    with sessions.begin() as session:
        assert session.get(CalendarRevision, 1).revision == 1
        assert not workdays.current_calendar(session).is_workday(date(2026, 3, 5))
    assert clock_of(sessions, iid).legal_deadline_at == at("2026-03-11T17:00:00")
    assert actions(sessions, iid).count("clock-recomputed") == 1
