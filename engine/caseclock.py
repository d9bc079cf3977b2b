"""The case clock (办件时限): statutory time limits of one case, counted in working days.

A case is received (收件), accepted (受理) and decided within its legal limit
(法定时限) or the shorter promised limit (承诺时限). The rules follow the
Administrative Licensing Law:

* art. 32 — a supplement request (补正) must go out within 5 working days of
  receipt, else the case counts as accepted on the day of receipt (the
  scheduler does this by itself); after a supplement the acceptance date is
  the day the last correction arrives;
* art. 42 — one extension, 10 working days (15 on the 45-day joint-handling
  track), asked before the deadline, approved by a section head, with a
  written reason to the applicant;
* art. 45 — hearings, tendering, auctions, inspection, testing, quarantine,
  appraisal and expert review stop the clock (挂起); a site survey does so only
  where the item says so.

Deadline = acceptance + (limit + extension + finished suspensions) working
days, ending at office close on that day (``engine.calendar``). Warning
states are stored, with ``next_check_at`` telling the scheduler when the
passing of time could change them; a suspended clock has none, so it never
drifts towards red. A timer may warn or escalate — nothing here decides a case.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit, indicators
from .calendar import Deadline, WorkingCalendar
from .context import services
from .db import is_postgres
from .errors import BadUserRequest, Conflict, Forbidden, InvalidInput, NotFound
from .models import CaseClock, ClockSuspension, ProcessInstance, SupervisionNotice
from .workdays import as_moment, current_calendar

PENDING, SUPPLEMENT, ACCEPTED = "pending", "supplement-requested", "accepted"
NORMAL, YELLOW, RED = "normal", "yellow", "red"
#: art. 45 procedures (always stop the clock) and the site survey (only where the item says so)
STATUTORY_PROCEDURES = {"hearing": "听证", "tendering": "招标", "auction": "拍卖", "inspection": "检验",
                        "testing": "检测", "quarantine": "检疫", "appraisal": "鉴定", "expert-review": "专家评审"}
SITE_SURVEY = "site-survey"
SUPPLEMENT_WINDOW_DAYS = 5
EXTENSION_DAYS, JOINT_EXTENSION_DAYS, JOINT_LIMIT_DAYS = 10, 15, 45
EXTENSION_ROLES = ("section-head", "admin")
#: process variables that open a clock, as Camunda models (camelCase) and SpiffWorkflow models write them
VARIABLES = {
    "legal": ("legalLimitDays", "legal_limit_days"),
    "promised": ("promisedLimitDays", "promised_limit_days"),
    "item": ("itemCode", "item_code"),
    "department": ("department",),
    "received": ("receivedAt", "received_at"),
    "on_receipt": ("acceptedOnReceipt", "accepted_on_receipt"),
    "site_survey": ("siteSurveySuspendsClock", "site_survey_suspends_clock"),
    "joint": ("jointHandling", "joint_handling"),
}


def _variable(variables: dict[str, Any], what: str) -> Any:
    for name in VARIABLES[what]:
        if variables.get(name) is not None:
            return variables[name]
    return None


def _limit(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value \
            or not 0 <= int(value) <= 3650:
        raise InvalidInput(f"{name} must be a whole number of working days between 0 and 3650, got {value!r}")
    return int(value)


# --- opening and closing ----------------------------------------------------------

def open_clock(session: so.Session, instance: ProcessInstance, variables: dict[str, Any],
               actor: str | None) -> CaseClock | None:
    """A case whose start variables carry a time limit gets a clock; others (internal processes) do not."""
    legal = _limit(_variable(variables, "legal"), "legalLimitDays")
    promised = _limit(_variable(variables, "promised"), "promisedLimitDays")
    if legal is None and promised is None:
        return None
    if legal is not None and promised is not None and promised > legal:
        raise InvalidInput(f"The promised limit ({promised} working days) may not exceed the legal limit ({legal})")
    svc = services(session)
    received = _variable(variables, "received")
    try:
        received_at = as_moment(received, svc.tz) if received is not None else instance.started_at
    except ValueError as exc:
        raise InvalidInput(f"receivedAt: {exc}") from None
    if not isinstance(received_at, datetime):
        raise InvalidInput(f"receivedAt must be a date-time, got {received!r}")
    calendar = current_calendar(session)
    on_receipt = bool(_variable(variables, "on_receipt"))
    clock = CaseClock(
        instance_id=instance.id, business_key=instance.business_key, item_code=_variable(variables, "item"),
        department=_variable(variables, "department"),
        received_at=received_at, acceptance=ACCEPTED if on_receipt else PENDING,
        accepted_at=received_at if on_receipt else None,
        acceptance_due_at=None if on_receipt else calendar.add_working_days(received_at, SUPPLEMENT_WINDOW_DAYS).at,
        legal_limit_days=legal, promised_limit_days=promised,
        site_survey_suspends=bool(_variable(variables, "site_survey")),
        joint_handling=bool(_variable(variables, "joint")) or legal == JOINT_LIMIT_DAYS,
        extension_days=0, suspended_days=0, warning_state=NORMAL, estimated=False,
    )
    session.add(clock)
    refresh(session, clock, calendar, actor)
    audit.record(session, "clock-opened", actor=actor, instance_id=instance.id, details={
        "legalLimitDays": legal, "promisedLimitDays": promised, "receivedAt": received_at.isoformat(),
        "acceptance": clock.acceptance})
    return clock


#: how a clock stops; the first two end the case's handling (办结) and count in the indicators
DECIDED, NOT_ACCEPTED, ENDED = "decided", "not-accepted", "ended"


def close_clock(session: so.Session, instance_id: str, actor: str | None, outcome: str = ENDED) -> None:
    """The case ended (decided, not accepted, withdrawn or cancelled): the clock stops where it stands.
    A decision records the working days it took from acceptance, pauses excluded (art. 45)."""
    clock = session.get(CaseClock, instance_id)
    if clock is None or clock.closed_at is not None:
        return
    now = services(session).clock.now()
    clock.closed_at, clock.next_check_at = now, None
    deadline = effective_deadline(clock)
    clock.outcome, clock.on_time = outcome, deadline is None or now <= deadline
    if outcome == DECIDED:
        started = clock.accepted_at or clock.received_at
        used = current_calendar(session).working_days_between(started, now) - clock.suspended_days
        clock.working_days_used = max(used, 0)
    audit.record(session, "clock-closed", actor=actor, instance_id=instance_id, details={
        "onTime": clock.on_time, "warningState": clock.warning_state, "outcome": outcome})
    if outcome in (DECIDED, NOT_ACCEPTED):
        indicators.count_close(session, clock)


def get_clock(session: so.Session, instance_id: str) -> CaseClock:
    clock = session.get(CaseClock, instance_id)
    if clock is None:
        raise NotFound(f"Process instance '{instance_id}' has no case clock (it was started without a time limit)")
    return clock


def _open_clock_for_command(session: so.Session, instance_id: str) -> CaseClock:
    clock = get_clock(session, instance_id)
    if clock.closed_at is not None:
        raise BadUserRequest(f"The case clock of '{instance_id}' is closed: the case has ended")
    return clock


# --- deadlines and warnings -------------------------------------------------------------

def effective_deadline(clock: CaseClock) -> datetime | None:
    """Warnings follow the promised limit when there is one: it is what the center promised."""
    return clock.promised_deadline_at or clock.legal_deadline_at


def _deadline(calendar: WorkingCalendar, start: datetime, limit: int | None, extra: int) -> Deadline | None:
    return None if limit is None else calendar.add_working_days(start, limit + extra)


def refresh(session: so.Session, clock: CaseClock, calendar: WorkingCalendar, actor: str | None) -> None:
    """Recompute deadlines, warning state and the next moment to look again."""
    now = services(session).clock.now()
    start = clock.accepted_at or (clock.received_at if clock.acceptance == PENDING else None)
    extra = clock.extension_days + clock.suspended_days
    legal = _deadline(calendar, start, clock.legal_limit_days, extra) if start else None
    promised = _deadline(calendar, start, clock.promised_limit_days, extra) if start else None
    clock.legal_deadline_at = legal.at if legal else None
    clock.promised_deadline_at = promised.at if promised else None
    clock.estimated = any(d is not None and d.estimated for d in (legal, promised))
    if clock.closed_at is not None:
        clock.next_check_at = None
        return
    _update_warning(session, clock, calendar, now, actor)


def _update_warning(session: so.Session, clock: CaseClock, calendar: WorkingCalendar, now: datetime,
                    actor: str | None) -> None:
    deadline = effective_deadline(clock)
    checks = [clock.acceptance_due_at] if clock.acceptance == PENDING else []
    if deadline is None or clock.suspended_since is not None:
        clock.next_check_at = min(checks) if checks else None
        return
    yellow_at = yellow_from(calendar, deadline, services(session).settings.warning_working_days)
    state = RED if now > deadline else YELLOW if now > yellow_at else NORMAL
    if state != clock.warning_state:
        _enter_state(session, clock, state, deadline, actor)
    checks += [m for m in (yellow_at, deadline) if m >= now]
    clock.next_check_at = min(checks) if checks else None


def yellow_from(calendar: WorkingCalendar, deadline: datetime, days: int) -> datetime:
    """Less than ``days`` working days left: from the close of the ``days``-th working day
    before the deadline day."""
    day = deadline.astimezone(calendar.tz).date()
    for _ in range(days):
        day = calendar.previous_working_day(day)
    return calendar.end_of_working_day(day)


def warning_state(calendar: WorkingCalendar, deadline: datetime | None, now: datetime, days: int) -> str:
    """normal / yellow / red for any deadline (a task's due date as well as a case's), by working days."""
    if deadline is None:
        return NORMAL
    if now > deadline:
        return RED
    return YELLOW if now >= yellow_from(calendar, deadline, days) else NORMAL


def _enter_state(session: so.Session, clock: CaseClock, state: str, deadline: datetime, actor: str | None) -> None:
    previous, clock.warning_state = clock.warning_state, state
    if state == NORMAL:  # an extension or a correction moved the deadline away
        audit.record(session, "clock-warning-cleared", actor=actor, instance_id=clock.instance_id,
                     details={"from": previous, "deadline": deadline.isoformat()})
        return
    details = {"from": previous, "to": state, "deadline": deadline.isoformat(), "estimated": clock.estimated,
               "promised": clock.promised_deadline_at is not None}
    audit.record(session, f"clock-{state}", actor=actor, instance_id=clock.instance_id, details=details)
    session.add(SupervisionNotice(instance_id=clock.instance_id, business_key=clock.business_key, kind=state,
                                  created_at=services(session).clock.now(), payload=details))


# --- commands ---------------------------------------------------------------------------

def request_supplement(session: so.Session, instance_id: str, missing: list[str], actor: str | None,
                       override_reason: str | None = None) -> CaseClock:
    """补正: one notice listing every missing item; the clock waits for the corrections.

    A later notice answers corrections that are still insufficient. Asking then for an item the
    first notices did not list breaks 一次性告知: it needs a written reason and is audited.
    """
    clock = _open_clock_for_command(session, instance_id)
    now = services(session).clock.now()
    if not missing or not all(isinstance(m, str) and m.strip() for m in missing):
        raise InvalidInput("A supplement notice must list every missing item at once (一次性告知), as text")
    if clock.acceptance == ACCEPTED:
        raise BadUserRequest("A supplement can be requested only before acceptance; this case is accepted")
    if clock.acceptance_due_at is not None and now > clock.acceptance_due_at:
        raise BadUserRequest("The 5 working days for a supplement notice have passed (art. 32): the case counts "
                             "as accepted from the day of receipt", code="supplement.too-late")
    repeat = clock.acceptance == SUPPLEMENT
    listed = list(clock.supplement_items or [])
    added = [m for m in missing if m not in listed] if repeat else []
    if added and not (override_reason or "").strip():
        raise BadUserRequest("The earlier supplement notice did not list " + "、".join(added) + "; asking for more "
                             "items later breaks 一次性告知 and needs a written reason (supplementOverrideReason)",
                             code="supplement.override-needed", items="、".join(added))
    clock.acceptance, clock.supplement_requested_at, clock.acceptance_due_at = SUPPLEMENT, now, None
    clock.supplement_items = listed + [m for m in missing if m not in listed]
    refresh(session, clock, current_calendar(session), actor)
    audit.record(session, "clock-supplement-requested", actor=actor, instance_id=instance_id,
                 details={"missing": missing, "repeat": repeat})
    if added:
        audit.record(session, "clock-supplement-override", actor=actor, instance_id=instance_id,
                     details={"added": added, "reason": override_reason.strip()})
    return clock


def supplement_complete(session: so.Session, instance_id: str, actor: str | None,
                        at: datetime | str | None = None) -> CaseClock:
    """The corrections are sufficient: the day the last one arrived (``at``, default now) is the acceptance date."""
    clock = _open_clock_for_command(session, instance_id)
    if clock.acceptance != SUPPLEMENT:
        raise BadUserRequest(f"No supplement is outstanding for this case (it is {clock.acceptance})")
    svc = services(session)
    arrived = as_moment(at, svc.tz) if at is not None else svc.clock.now()
    if not isinstance(arrived, datetime) or arrived > svc.clock.now():
        raise InvalidInput(f"The last correction's arrival must be a past date-time, got {at!r}")
    return _accept(session, clock, arrived, actor, "clock-supplement-complete")


def refuse_acceptance_by_hand(instance: ProcessInstance) -> None:
    """A case received for a catalogue item is accepted, sent a supplement notice or refused by its acceptance
    review (受理审查), a written decision the process records and whose markers move the clock (rule 3); the
    clock's acceptance steps by hand are for processes that do not model them, so a hand step can never say
    "accepted" of a case its reviewer refuses."""
    if instance.item_code is not None:
        raise Conflict(f"Case '{instance.business_key}' is accepted or refused by its acceptance review (受理审查), "
                       "whose written decision moves the clock; the clock's acceptance steps are not taken by hand",
                       code="clock.acceptance-by-review", key=instance.business_key)


def accept(session: so.Session, instance_id: str, actor: str | None) -> CaseClock:
    """受理 at the window: complete materials, accepted now (the receipt day, when on the spot)."""
    clock = _open_clock_for_command(session, instance_id)
    if clock.acceptance != PENDING:
        raise BadUserRequest(f"The case cannot be accepted now: it is {clock.acceptance}")
    return _accept(session, clock, services(session).clock.now(), actor, "clock-accepted")


def _accept(session: so.Session, clock: CaseClock, at: datetime, actor: str | None, action: str) -> CaseClock:
    clock.acceptance, clock.accepted_at, clock.acceptance_due_at = ACCEPTED, at, None
    refresh(session, clock, current_calendar(session), actor)
    audit.record(session, action, actor=actor, instance_id=clock.instance_id, details={"acceptedAt": at.isoformat()})
    return clock


def suspend(session: so.Session, instance_id: str, *, procedure: str, legal_basis: str, expected_days: int,
            applicant_notice: str, actor: str) -> ClockSuspension:
    """Stop the clock for a special procedure; the applicant is told the expected time in writing."""
    clock = _open_clock_for_command(session, instance_id)
    if procedure == SITE_SURVEY and not clock.site_survey_suspends:
        raise BadUserRequest("A site survey stops the clock only where the item or a local rule says so; "
                             "this case's item does not (siteSurveySuspendsClock)")
    if procedure not in STATUTORY_PROCEDURES and procedure != SITE_SURVEY:
        known = ", ".join([*STATUTORY_PROCEDURES, SITE_SURVEY])
        raise InvalidInput(f"'{procedure}' does not stop the clock; the procedures that do are: {known}")
    for name, value in (("legalBasis", legal_basis), ("applicantNotice", applicant_notice)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{name} is required: each suspension records its legal basis and the written notice "
                               "telling the applicant how long it will take")
    if isinstance(expected_days, bool) or not isinstance(expected_days, int) or not 1 <= expected_days <= 365:
        raise InvalidInput(f"expectedDays must be a whole number of working days from 1 to 365, got {expected_days!r}")
    if clock.suspended_since is not None:
        raise BadUserRequest("The clock is already suspended; end that suspension first")
    if clock.acceptance != ACCEPTED:
        raise BadUserRequest(f"Only an accepted case's clock can be suspended; this case is {clock.acceptance}")
    now = services(session).clock.now()
    suspension = ClockSuspension(instance_id=instance_id, procedure=procedure, legal_basis=legal_basis.strip(),
                                 requested_by=actor, started_at=now, expected_days=expected_days,
                                 applicant_notice=applicant_notice.strip())
    session.add(suspension)
    clock.suspended_since = now
    refresh(session, clock, current_calendar(session), actor)
    session.flush()
    audit.record(session, "clock-suspended", actor=actor, instance_id=instance_id, entity_id=str(suspension.id),
                 details={"procedure": procedure, "legalBasis": legal_basis, "expectedDays": expected_days})
    return suspension


def resume(session: so.Session, instance_id: str, *, result: str, actor: str) -> ClockSuspension:
    """The procedure ended: its working days are added to every deadline."""
    clock = _open_clock_for_command(session, instance_id)
    if clock.suspended_since is None:
        raise BadUserRequest("The clock is not suspended")
    if not isinstance(result, str) or not result.strip():
        raise InvalidInput("result is required: each suspension records what the procedure concluded")
    suspension = session.scalar(sa.select(ClockSuspension).where(
        ClockSuspension.instance_id == instance_id, ClockSuspension.ended_at.is_(None)))
    now = services(session).clock.now()
    calendar = current_calendar(session)
    days = max(calendar.working_days_between(suspension.started_at, now), 0)
    suspension.ended_at, suspension.ended_by, suspension.result, suspension.working_days = now, actor, result.strip(), days
    clock.suspended_since = None
    clock.suspended_days += days
    refresh(session, clock, calendar, actor)
    audit.record(session, "clock-resumed", actor=actor, instance_id=instance_id, entity_id=str(suspension.id),
                 details={"procedure": suspension.procedure, "workingDays": days, "result": result.strip()})
    return suspension


def extend(session: so.Session, instance_id: str, *, reason: str, applicant_notice: str, actor: str,
           actor_roles: Iterable[str]) -> CaseClock:
    """Art. 42: one extension, approved by a section head before the legal deadline."""
    clock = _open_clock_for_command(session, instance_id)
    if not set(actor_roles) & set(EXTENSION_ROLES):
        raise Forbidden("Only a section head (负责人) may approve an extension of the time limit")
    for name, value in (("reason", reason), ("applicantNotice", applicant_notice)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{name} is required: an extension gives the applicant a written reason")
    if clock.extension_days:
        raise BadUserRequest("This case has already been extended once; the law allows one extension")
    now = services(session).clock.now()
    if clock.legal_deadline_at is None:
        raise BadUserRequest("This case has no legal deadline yet (not accepted, or no legal limit)")
    if now > clock.legal_deadline_at:
        raise BadUserRequest("An extension must be asked before the deadline; this case is already overdue")
    clock.extension_days = JOINT_EXTENSION_DAYS if clock.joint_handling else EXTENSION_DAYS
    clock.extended_at, clock.extended_by, clock.extension_reason = now, actor, reason.strip()
    refresh(session, clock, current_calendar(session), actor)
    audit.record(session, "clock-extended", actor=actor, instance_id=instance_id, details={
        "days": clock.extension_days, "reason": reason.strip(), "applicantNotice": applicant_notice.strip()})
    return clock


# --- the scheduler's part -----------------------------------------------------------------

def check_due(factory: so.sessionmaker, limit: int = 200) -> int:
    """Apply the passing of time to clocks whose ``next_check_at`` has come: art. 32's automatic
    acceptance, yellow and red. Returns the number of clocks looked at."""
    with factory.begin() as session:
        now = services(session).clock.now()
        stmt = (sa.select(CaseClock).where(CaseClock.next_check_at <= now, CaseClock.closed_at.is_(None))
                .order_by(CaseClock.next_check_at).limit(limit))
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        clocks = list(session.scalars(stmt))
        calendar = current_calendar(session) if clocks else None
        for clock in clocks:
            _apply_time(session, clock, calendar, now)
        return len(clocks)


def _apply_time(session: so.Session, clock: CaseClock, calendar: WorkingCalendar, now: datetime) -> None:
    if clock.acceptance == PENDING and clock.acceptance_due_at is not None and now >= clock.acceptance_due_at:
        clock.acceptance, clock.accepted_at, clock.acceptance_due_at = ACCEPTED, clock.received_at, None
        audit.record(session, "clock-accepted-by-law", actor="scheduler", instance_id=clock.instance_id, details={
            "acceptedAt": clock.received_at.isoformat(),
            "why": "no supplement notice within 5 working days of receipt (art. 32)"})
    refresh(session, clock, calendar, "scheduler")


def recompute_estimated(session: so.Session, actor: str | None) -> int:
    """After a year's arrangement is loaded: every open clock that was an estimate is recounted."""
    clocks = list(session.scalars(sa.select(CaseClock).where(CaseClock.estimated.is_(True),
                                                             CaseClock.closed_at.is_(None))))
    return _recount(session, clocks, actor)


def recompute_open(session: so.Session, actor: str | None, since: date) -> int:
    """After a local rule for day ``since`` changed: open clocks still counting on or after that day."""
    from_day = datetime.combine(since, time(0, 0), services(session).tz)
    clocks = list(session.scalars(sa.select(CaseClock).where(CaseClock.closed_at.is_(None), sa.or_(
        CaseClock.suspended_since.is_not(None), CaseClock.legal_deadline_at >= from_day,
        CaseClock.promised_deadline_at >= from_day, CaseClock.acceptance_due_at >= from_day,
        CaseClock.acceptance == SUPPLEMENT))))
    return _recount(session, clocks, actor)


def _recount(session: so.Session, clocks: list[CaseClock], actor: str | None) -> int:
    calendar = current_calendar(session)
    for clock in clocks:
        before = (clock.legal_deadline_at, clock.promised_deadline_at, clock.estimated)
        refresh(session, clock, calendar, actor)
        if before != (clock.legal_deadline_at, clock.promised_deadline_at, clock.estimated):
            audit.record(session, "clock-recomputed", actor=actor, instance_id=clock.instance_id, details={
                "legalDeadline": _iso(clock.legal_deadline_at), "promisedDeadline": _iso(clock.promised_deadline_at),
                "estimated": clock.estimated})
    return len(clocks)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def mark_delivered(session: so.Session, notice_id: int, actor: str | None) -> None:
    """A worker (mail, SMS, the supervisor console) has passed a notice on; idempotent."""
    notice = session.get(SupervisionNotice, notice_id)
    if notice is None:
        raise NotFound(f"Supervision notice {notice_id} does not exist")
    if notice.delivered_at is None:
        notice.delivered_at = services(session).clock.now()
        audit.record(session, "notice-delivered", actor=actor, instance_id=notice.instance_id,
                     entity_id=str(notice.id), details={"kind": notice.kind})
