"""The case clock over HTTP (a onewindow extension): read a case's clock, accept, supplement,
suspend and resume for special procedures, extend once; list warnings and supervision notices."""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import jsonify, request

from engine import access, caseclock
from engine.access import Action
from engine.errors import InvalidInput
from engine.models import CaseClock, ClockSuspension, SupervisionNotice

from .. import db
from ..auth import allowed, current
from . import bp, dto
from .common import count_response, json_body, page, param


def _clock_response(session, instance_id: str):
    clock = caseclock.get_clock(session, instance_id)
    suspensions = list(session.scalars(sa.select(ClockSuspension).where(ClockSuspension.instance_id == instance_id)
                                       .order_by(ClockSuspension.id)))
    return jsonify(dto.case_clock(clock, suspensions))


def _command(instance_id: str, action: Action, command: Callable[[so.Session], object]):
    """One clock command in one transaction, by someone who sees the case and may take ``action`` on it; the
    answer is the clock as it now stands."""
    session = db()
    with session.begin():
        instance = access.require(session, current(), instance_id, action)
        if action is Action.CLOCK_RECEIPT:
            caseclock.refuse_acceptance_by_hand(instance)
        command(session)
        return _clock_response(session, instance_id)


def _clocks_query(source) -> sa.Select:
    stmt = sa.select(CaseClock)
    state = param(source, "warningState")
    if state is not None:
        if state not in (caseclock.NORMAL, caseclock.YELLOW, caseclock.RED):
            raise InvalidInput(f"'warningState' must be normal, yellow or red, got {state!r}")
        stmt = stmt.where(CaseClock.warning_state == state)
    if param(source, "businessKey"):
        stmt = stmt.where(CaseClock.business_key == param(source, "businessKey"))
    if not param(source, "includeClosed", bool, False):
        stmt = stmt.where(CaseClock.closed_at.is_(None))
    if param(source, "estimated", bool) is not None:
        stmt = stmt.where(CaseClock.estimated.is_(param(source, "estimated", bool)))
    return stmt.where(access.by_visible_case(current(), CaseClock.instance_id))


@bp.get("/case-clock")
@allowed("read")
def list_case_clocks():
    session = db()
    with session.begin():
        stmt = page(_clocks_query(request.args).order_by(CaseClock.legal_deadline_at, CaseClock.instance_id))
        return jsonify([dto.case_clock(c, []) for c in session.scalars(stmt)])


@bp.get("/case-clock/count")
@allowed("read")
def count_case_clocks():
    return count_response(lambda: _clocks_query(request.args))


@bp.get("/process-instance/<instance_id>/case-clock")
@allowed("read")
def get_case_clock(instance_id: str):
    session = db()
    with session.begin():
        access.visible_instance(session, current(), instance_id)
        return _clock_response(session, instance_id)


@bp.post("/process-instance/<instance_id>/case-clock/accept")
@allowed("clock")
def accept_case(instance_id: str):
    return _command(instance_id, Action.CLOCK_RECEIPT, lambda s: caseclock.accept(s, instance_id,
                                                                                  actor=current().username))


@bp.post("/process-instance/<instance_id>/case-clock/supplement-request")
@allowed("clock")
def request_supplement(instance_id: str):
    missing = param(json_body(), "missing", list) or []
    return _command(instance_id, Action.CLOCK_RECEIPT, lambda s: caseclock.request_supplement(
        s, instance_id, missing, actor=current().username))


@bp.post("/process-instance/<instance_id>/case-clock/supplement-complete")
@allowed("clock")
def complete_supplement(instance_id: str):
    return _command(instance_id, Action.CLOCK_RECEIPT, lambda s: caseclock.supplement_complete(
        s, instance_id, actor=current().username))


@bp.post("/process-instance/<instance_id>/case-clock/suspension")
@allowed("clock")
def suspend_clock(instance_id: str):
    body = json_body()
    return _command(instance_id, Action.CLOCK_PAUSE, lambda s: caseclock.suspend(
        s, instance_id, procedure=param(body, "procedure") or "", legal_basis=param(body, "legalBasis") or "",
        expected_days=param(body, "expectedDays", int), applicant_notice=param(body, "applicantNotice") or "",
        actor=current().username))


@bp.post("/process-instance/<instance_id>/case-clock/resume")
@allowed("clock")
def resume_clock(instance_id: str):
    result = param(json_body(), "result") or ""
    return _command(instance_id, Action.CLOCK_PAUSE, lambda s: caseclock.resume(s, instance_id, result=result,
                                                                                actor=current().username))


@bp.post("/process-instance/<instance_id>/case-clock/extension")
@allowed("clock")
def extend_clock(instance_id: str):
    body = json_body()
    return _command(instance_id, Action.EXTEND, lambda s: caseclock.extend(
        s, instance_id, reason=param(body, "reason") or "", applicant_notice=param(body, "applicantNotice") or "",
        actor=current().username, actor_roles=current().groups))


@bp.get("/supervision-notice")
@allowed("read")
def list_notices():
    stmt = sa.select(SupervisionNotice).where(access.by_visible_case(current(), SupervisionNotice.instance_id))
    if not param(request.args, "includeDelivered", bool, False):
        stmt = stmt.where(SupervisionNotice.delivered_at.is_(None))
    session = db()
    with session.begin():
        return jsonify([dto.notice(n) for n in session.scalars(page(stmt.order_by(SupervisionNotice.id)))])


@bp.post("/supervision-notice/<int:notice_id>/delivered")
@allowed("work")
def mark_notice_delivered(notice_id: int):
    session = db()
    with session.begin():
        caseclock.mark_delivered(session, notice_id, actor=current().username)
    return "", 204
