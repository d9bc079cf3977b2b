"""Written authorizations (授权书) and the check the engine makes before a decision.

Rule 9: only a person holding a valid authorization for the item decides.
The check runs inside the engine when a user task that needs a power is
completed (the task's ``authorization`` property names the power), so a
client that hides buttons is not the only line of defence. A refusal is an
``AuthorizationRefused`` error carrying the audit entry that records it; the
caller writes that entry after its own transaction rolled back. The same check stands before a
worker applies a department's approval seal (``engine.seals.check_seal``).

A letter that names items is granted only for items of its department that the department has
confirmed as handled in the center (``engine.entry_confirmations``): authority delegated for an item
the center does not handle would be authority to decide it elsewhere.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit, catalogue, entry_confirmations
from .context import services
from .errors import Forbidden, InvalidInput, NotFound
from .models import Authorization, User

CHIEF, LEADER, WINDOW = "chief-representative", "department-leader", "window"
#: what each kind of letter can grant: the representative's (首席事务代表授权书), a department leader's
#: decision authority for items outside the representative's list, the window staff's
POWERS = {CHIEF: ("decide", "pre-review", "seal"), LEADER: ("decide", "seal"), WINDOW: ("receive", "issue", "consult")}
POWER_NAMES = {"decide": "审批决定", "pre-review": "联办件/报批件预审", "seal": "使用审批专用章",
               "receive": "收件受理", "issue": "出件", "consult": "咨询"}


class AuthorizationRefused(Forbidden):
    """The actor holds no valid authorization for this action; ``refusal`` is the audit entry to record."""

    def __init__(self, message: str, refusal: dict[str, Any], *, code: str, **params: object) -> None:
        super().__init__(message, code=code, **params)
        self.refusal = refusal


def grant(session: so.Session, *, username: str, department: str, kind: str, powers: Iterable[str],
          valid_from: date, valid_to: date, signed_by: str, item_codes: list[str] | None = None,
          document_number: str | None = None, actor: str | None = None) -> Authorization:
    """Record a signed letter: ``item_codes`` None covers every item of the department, a list only those
    (each checked against the catalogue and the department's entry confirmation)."""
    powers = sorted(set(powers))
    if kind not in POWERS:
        raise InvalidInput(f"Authorization kind must be one of {', '.join(POWERS)}, got {kind!r}")
    unknown = [p for p in powers if p not in POWERS[kind]]
    if unknown or not powers:
        raise InvalidInput(f"A {kind} authorization grants some of {', '.join(POWERS[kind])}; got {powers}")
    if valid_to < valid_from:
        raise InvalidInput(f"valid_to ({valid_to}) is before valid_from ({valid_from})")
    if session.get(User, username) is None:
        raise InvalidInput(f"user '{username}' does not exist")
    if not signed_by.strip():
        raise InvalidInput("an authorization letter names who signed it")
    if item_codes is not None:
        _require_items(session, kind, department, sorted(set(item_codes)), valid_from)
    row = Authorization(username=username, department=department, kind=kind, powers=powers,
                        item_codes=sorted(set(item_codes)) if item_codes is not None else None,
                        valid_from=valid_from, valid_to=valid_to, signed_by=signed_by.strip(),
                        document_number=document_number, created_at=services(session).clock.now())
    session.add(row)
    session.flush()
    audit.record(session, "authorization-granted", actor=actor, entity_id=str(row.id), details={
        "username": username, "department": department, "powers": powers, "items": row.item_codes,
        "validFrom": valid_from.isoformat(), "validTo": valid_to.isoformat()})
    return row


def _require_items(session: so.Session, kind: str, department: str, codes: list[str], valid_from: date) -> None:
    """The items a letter names exist, are its department's (the window's letters are the center's and name
    any department's items) and are entered in the center on the letter's first day in force from today."""
    if not codes:
        raise InvalidInput("an authorization letter names at least one item, or none for every item of the "
                           "department")
    found = catalogue.current_versions(session, codes)
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise InvalidInput(f"the letter names items not in the catalogue: {', '.join(unknown)}")
    elsewhere = [f"{c} ({found[c].department})" for c in codes if kind != WINDOW and found[c].department != department]
    if elsewhere:
        raise InvalidInput(f"a letter of department '{department}' names items of other departments: "
                           f"{', '.join(elsewhere)}")
    day = max(valid_from, services(session).today())
    for code in codes:
        entry_confirmations.require_entered(session, code, day)


def revoke(session: so.Session, authorization_id: int, actor: str) -> Authorization:
    row = session.get(Authorization, authorization_id)
    if row is None:
        raise NotFound(f"No authorization with id {authorization_id}")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = services(session).clock.now(), actor
        audit.record(session, "authorization-revoked", actor=actor, entity_id=str(row.id))
    return row


def covers(row: Authorization, department: str, item_code: str, power: str, today: date) -> bool:
    return (row.department == department and power in row.powers and row.revoked_at is None
            and row.valid_from <= today <= row.valid_to
            and (row.item_codes is None or item_code in row.item_codes))


def require(session: so.Session, username: str | None, *, department: str, item_code: str, power: str,
            instance_id: str | None = None) -> Authorization:
    """The authorization that allows ``username`` to use ``power`` on the item now, or a refusal."""
    svc = services(session)
    today = svc.today()
    held = list(session.scalars(sa.select(Authorization).where(Authorization.username == (username or ""),
                                                                Authorization.department == department)))
    for row in held:
        if covers(row, department, item_code, power, today):
            return row
    message, code, since = _refusal(username, department, item_code, power, held, today, svc.tz)
    raise AuthorizationRefused(message, {
        "action": "authorization-refused", "actor": username, "instance_id": instance_id,
        "details": {"department": department, "itemCode": item_code, "power": power}},
        code=code, user=username, power=POWER_NAMES.get(power, power), item=item_code, date=since)


def _refusal(username: str | None, department: str, item_code: str, power: str,
             held: list[Authorization], today: date, tz: ZoneInfo) -> tuple[str, str, str]:
    """What is wrong: (English message, code, the date that matters)."""
    what = f"'{power}' ({POWER_NAMES.get(power, power)}) on item '{item_code}' of department '{department}'"
    relevant = [r for r in held if power in r.powers and (r.item_codes is None or item_code in r.item_codes)]
    if not relevant:
        return f"User '{username}' holds no authorization for {what}", "authorization.none", ""
    row = max(relevant, key=lambda r: r.valid_to)
    if row.revoked_at is not None:
        day = row.revoked_at.astimezone(tz).date().isoformat()  # the center's date, not UTC's
        return (f"User '{username}''s authorization {row.id} for {what} was revoked on {day}",
                "authorization.revoked", day)
    if row.valid_to < today:
        return (f"User '{username}''s authorization {row.id} for {what} expired on {row.valid_to}",
                "authorization.expired", row.valid_to.isoformat())
    return (f"User '{username}''s authorization {row.id} for {what} is valid only from {row.valid_from}",
            "authorization.not-yet", row.valid_from.isoformat())


def record_refusal(session: so.Session, refused: AuthorizationRefused) -> None:
    """Write the refusal's audit entry (in a transaction of its own, after the command rolled back)."""
    entry = refused.refusal
    audit.record(session, entry["action"], actor=entry["actor"], instance_id=entry["instance_id"],
                 details=entry["details"])


def holders(session: so.Session, department: str, power: str, *, item_code: str, kind: str) -> list[str]:
    """Users whose ``kind`` of letter lets them use ``power`` on the item now: routing asks whether
    the item is in a representative's delegated list (授权清单)."""
    svc = services(session)
    today = svc.today()
    rows = session.scalars(sa.select(Authorization).where(Authorization.department == department,
                                                          Authorization.kind == kind))
    return sorted({r.username for r in rows if covers(r, department, item_code, power, today)})


def letters(session: so.Session, department: str | None = None) -> list[Authorization]:
    """Every letter on record (revoked and expired ones too: the record is kept), newest first."""
    stmt = sa.select(Authorization).order_by(Authorization.created_at.desc(), Authorization.id.desc())
    if department:
        stmt = stmt.where(Authorization.department == department)
    return list(session.scalars(stmt))


def state_of(row: Authorization, today: date) -> str:
    """in-force | not-yet | expired | revoked, for the administrators' list."""
    if row.revoked_at is not None:
        return "revoked"
    if today < row.valid_from:
        return "not-yet"
    return "expired" if row.valid_to < today else "in-force"
