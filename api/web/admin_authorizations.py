"""The administrators' pages for written authorizations (授权书: the chief affairs representatives', the
department leaders' and the window staff's) and the departments' entry confirmations (入驻事项确认书). Both are
records of signed paper: a page grants or confirms one and revokes one, never edits it, so the record of who
could do what on which day stays whole."""
from __future__ import annotations

from datetime import date

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import authorizations, entry_confirmations, identity
from engine.context import services
from engine.errors import InvalidInput

from .. import db
from . import bp
from .admin import admin_only
from .messages import run_and_say
from .session_auth import me, signed_in


@bp.get("/admin/authorizations")
@signed_in
def admin_authorizations():
    admin_only()
    department = request.args.get("department") or None
    with db().begin():
        rows = authorizations.letters(db(), department)
        today = services(db()).today()
        departments = identity.departments(db())
    return render_template("admin_authorizations.html", letters=rows, today=today, department=department,
                           departments=departments, kinds=authorizations.POWERS,
                           power_names=authorizations.POWER_NAMES, state_of=authorizations.state_of)


@bp.post("/admin/authorizations")
@signed_in
def admin_grant():
    """One letter as signed: who, department, kind, powers, items (none: every item of the department), dates."""
    admin_only()
    form = request.form

    def grant() -> None:
        authorizations.grant(db(), username=form.get("username", "").strip(), department=form.get("department", ""),
                             kind=form.get("kind", ""), powers=form.getlist("powers"),
                             valid_from=_day("valid_from"), valid_to=_day("valid_to"),
                             signed_by=form.get("signed_by", ""), item_codes=_codes(form.get("items", "")),
                             document_number=form.get("document_number", "").strip() or None, actor=me().username)

    run_and_say(grant, _("The authorization letter is on record."))
    return redirect(url_for("web.admin_authorizations"))


@bp.post("/admin/authorizations/<int:letter_id>/revoke")
@signed_in
def admin_revoke(letter_id: int):
    admin_only()
    run_and_say(lambda: authorizations.revoke(db(), letter_id, me().username),
                _("The letter is revoked: from now on it allows nothing."))
    return redirect(url_for("web.admin_authorizations"))


@bp.get("/admin/entry-confirmations")
@signed_in
def admin_entries():
    admin_only()
    with db().begin():
        rows = entry_confirmations.confirmations(db())
        today = services(db()).today()
        departments = identity.departments(db())
        in_force = {d.code: entry_confirmations.current(db(), d.code, today) for d in departments}
    return render_template("admin_entries.html", confirmations=rows, in_force=in_force, departments=departments)


@bp.post("/admin/entry-confirmations")
@signed_in
def admin_confirm():
    admin_only()
    form = request.form

    def confirm() -> None:
        entry_confirmations.confirm(db(), department=form.get("department", ""),
                                    document_number=form.get("document_number", "").strip(),
                                    signed_by=form.get("signed_by", ""), confirmed_by=form.get("confirmed_by", ""),
                                    valid_from=_day("valid_from"), valid_to=_day("valid_to", required=False),
                                    item_codes=_codes(form.get("items", "")) or [], actor=me().username)

    run_and_say(confirm, _("The entry confirmation is on record."))
    return redirect(url_for("web.admin_entries"))


@bp.post("/admin/entry-confirmations/<int:confirmation_id>/revoke")
@signed_in
def admin_revoke_entry(confirmation_id: int):
    admin_only()
    run_and_say(lambda: entry_confirmations.revoke(db(), confirmation_id, me().username),
                _("The entry confirmation is revoked."))
    return redirect(url_for("web.admin_entries"))


def _day(field: str, *, required: bool = True) -> date | None:
    text = (request.form.get(field) or "").strip()
    if not text and not required:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a date", code="filter.bad-date", value=text or "—") from None


def _codes(text: str) -> list[str] | None:
    """Item codes separated by commas, spaces or new lines; none given: every item of the department."""
    codes = [c for c in text.replace("，", ",").replace("、", ",").replace("\n", ",").replace(" ", ",").split(",")
             if c.strip()]
    return [c.strip() for c in codes] or None
