"""The administrators' page of throttled sign-ins: which names and addresses have failures still counted and
until when their next attempt waits, and an unlock for a clerk who is being slowed down by someone else's
guessing (``engine.password_checks.unlock``, audited; ``onewindow user unlock`` does the same)."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import password_checks

from .. import db
from . import bp
from .admin import admin_only
from .messages import run_and_say
from .session_auth import me, signed_in


@bp.get("/admin/sign-ins")
@signed_in
def admin_sign_ins():
    admin_only()
    with db().begin():
        found = password_checks.throttled(db())
    return render_template("admin_sign_ins.html", names=[t for t in found if t.kind == "name"],
                           addresses=[t for t in found if t.kind == "address"])


@bp.post("/admin/sign-ins/unlock")
@signed_in
def admin_unlock():
    """Unlock one name (``username``) or one address (``address``)."""
    admin_only()
    username = (request.form.get("username") or "").strip() or None
    address = (request.form.get("address") or "").strip() or None
    run_and_say(lambda: password_checks.unlock(db(), username=username, remote=address, actor=me().username),
                _("Unlocked %(what)s: its next sign-in is checked at once.", what=username or address or ""))
    return redirect(url_for("web.admin_sign_ins"))
