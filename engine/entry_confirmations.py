"""Entry confirmations (入驻事项确认书): which of a department's items are handled in the center.

The reform's 进驻到位 and rule 1: every approval item is handled at the center, and each department
confirms in writing — signed by its head, confirmed by the center office (区政务办) — the list of its
items there. The engine holds the departments to that list where it matters: a case of an item no
confirmation in force lists is not received (``require_entered`` in ``engine.cases.start_case``, before a
case number is taken), and no authorization letter is granted for such an item
(``engine.authorizations.grant``), so "accepted at the center but decided elsewhere" cannot begin.

The newest confirmation in force is the department's whole list: a new one replaces the list instead of
adding to it, so dropping an item from the center is writing a new confirmation without it. Cases
already received keep running when an item leaves the list: the applicant was received under it.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit, catalogue
from .context import services
from .errors import Forbidden, InvalidInput, NotFound
from .models import Department, EntryConfirmation

NOT_ENTERED = "item.not-entered"


def confirm(session: so.Session, *, department: str, document_number: str, signed_by: str, confirmed_by: str,
            valid_from: date, item_codes: Iterable[str], valid_to: date | None = None,
            actor: str | None = None) -> EntryConfirmation:
    """Record a department's signed list of items handled in the center.

    Everything wrong with it is said at once (``InvalidInput`` with code ``entry.invalid`` and each problem
    in ``params["problems"]``: field, code, params, message), as the catalogue does for an item: the
    center office corrects a document in one pass, not one complaint at a time."""
    codes = sorted({str(c).strip() for c in item_codes if str(c).strip()})
    problems = _problems(session, department=department, document_number=document_number, signed_by=signed_by,
                         confirmed_by=confirmed_by, valid_from=valid_from, valid_to=valid_to, codes=codes)
    if problems:
        raise InvalidInput(f"Entry confirmation '{document_number}' of department '{department}' is not valid: "
                           + "; ".join(p["message"] for p in problems),
                           code="entry.invalid", department=department, problems=problems)
    row = EntryConfirmation(department=department, document_number=document_number.strip(),
                            signed_by=signed_by.strip(), confirmed_by=confirmed_by.strip(), valid_from=valid_from,
                            valid_to=valid_to, item_codes=codes, created_at=services(session).clock.now(),
                            created_by=actor)
    session.add(row)
    session.flush()
    audit.record(session, "entry-confirmed", actor=actor, entity_id=str(row.id), details={
        "department": department, "documentNumber": row.document_number, "items": codes,
        "validFrom": valid_from.isoformat(), "validTo": valid_to.isoformat() if valid_to else None,
        "signedBy": row.signed_by, "confirmedBy": row.confirmed_by})
    return row


def _problem(field: str, code: str, message: str, **params: Any) -> dict[str, Any]:
    return {"field": field, "code": code, "params": params, "message": message}


def _problems(session: so.Session, *, department: str, document_number: str, signed_by: str, confirmed_by: str,
              valid_from: date, valid_to: date | None, codes: list[str]) -> list[dict[str, Any]]:
    problems = []
    if session.get(Department, department) is None:
        problems.append(_problem("department", "entry.unknown-department",
                                 f"department '{department}' does not exist", department=department))
    if not (document_number or "").strip():
        problems.append(_problem("documentNumber", "entry.no-number", "an entry confirmation has a document number"))
    elif session.scalar(sa.select(EntryConfirmation.id)
                        .where(EntryConfirmation.document_number == document_number.strip())) is not None:
        problems.append(_problem("documentNumber", "entry.duplicate-number",
                                 f"document number '{document_number}' is already recorded", number=document_number))
    if not (signed_by or "").strip():
        problems.append(_problem("signedBy", "entry.no-signer", "an entry confirmation names the department head "
                                 "who signed it"))
    if not (confirmed_by or "").strip():
        problems.append(_problem("confirmedBy", "entry.no-confirmer", "an entry confirmation names who confirmed it "
                                 "for the center office (区政务办)"))
    if valid_to is not None and valid_to < valid_from:
        problems.append(_problem("validTo", "entry.dates-reversed",
                                 f"valid_to ({valid_to}) is before valid_from ({valid_from})",
                                 validFrom=valid_from.isoformat(), validTo=valid_to.isoformat()))
    if not codes:
        problems.append(_problem("itemCodes", "entry.no-items", "an entry confirmation lists at least one item"))
    found = catalogue.current_versions(session, codes)
    for code in codes:
        item = found.get(code)
        if item is None:
            problems.append(_problem("itemCodes", "entry.unknown-item", f"item '{code}' is not in the catalogue",
                                     item=code))
        elif item.department != department:
            problems.append(_problem("itemCodes", "entry.other-department",
                                     f"item '{code}' ({item.name}) belongs to department '{item.department}', "
                                     f"not '{department}'", item=code, department=item.department))
    return problems


def revoke(session: so.Session, confirmation_id: int, actor: str) -> EntryConfirmation:
    """Withdraw a confirmation (signed in error, or superseded early); revoking twice changes nothing."""
    row = session.get(EntryConfirmation, confirmation_id)
    if row is None:
        raise NotFound(f"No entry confirmation with id {confirmation_id}")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = services(session).clock.now(), actor
        audit.record(session, "entry-confirmation-revoked", actor=actor, entity_id=str(row.id),
                     details={"department": row.department, "documentNumber": row.document_number})
    return row


def current(session: so.Session, department: str, day: date) -> EntryConfirmation | None:
    """The department's list on ``day``: the newest unrevoked confirmation in force then, if any."""
    return session.scalar(
        sa.select(EntryConfirmation)
        .where(EntryConfirmation.department == department, EntryConfirmation.revoked_at.is_(None),
               EntryConfirmation.valid_from <= day,
               sa.or_(EntryConfirmation.valid_to.is_(None), EntryConfirmation.valid_to >= day))
        .order_by(EntryConfirmation.valid_from.desc(), EntryConfirmation.id.desc()).limit(1))



def require_entered(session: so.Session, item_code: str, day: date | None = None) -> EntryConfirmation:
    """The confirmation that lists the item on ``day`` (the engine's today by default), or a ``Forbidden``
    with code ``item.not-entered``: its department has not confirmed it as handled in the center."""
    day = day or services(session).today()
    item = catalogue.current_version(session, item_code)
    if item is None:
        raise NotFound(f"No catalogue item with code '{item_code}'", code="item.unknown", item=item_code)
    confirmation = current(session, item.department, day)
    if confirmation is not None and item.code in confirmation.item_codes:
        return confirmation
    department = session.get(Department, item.department)
    why = (f"confirmation '{confirmation.document_number}' in force does not list it" if confirmation is not None
           else "it has no entry confirmation in force")
    raise Forbidden(f"Item '{item.code}' ({item.name}) is not confirmed by department '{item.department}' as handled "
                    f"in the center on {day.isoformat()}: {why} (入驻事项确认书, rule 1)",
                    code=NOT_ENTERED, item=item.name, itemCode=item.code,
                    department=department.name if department is not None else item.department,
                    date=day.isoformat())


def confirmations(session: so.Session, department: str | None = None) -> list[EntryConfirmation]:
    """Every confirmation on record, newest first (a later one replaces an earlier one's list)."""
    stmt = sa.select(EntryConfirmation).order_by(EntryConfirmation.created_at.desc(), EntryConfirmation.id.desc())
    if department:
        stmt = stmt.where(EntryConfirmation.department == department)
    return list(session.scalars(stmt))
