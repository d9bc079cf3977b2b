"""Signing in and out of the clerk pages: argon2-checked passwords, a session cookie, throttled failures."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine import identity
from engine.identity import Principal, TooManyAttempts
from engine.models import User

from .. import db
from . import bp


@bp.before_app_request
def _load_principal() -> None:
    """The signed-in user of this request, if any (an account disabled meanwhile signs out)."""
    g.principal = None
    username = session.get("username")
    if not username or request.blueprint == "engine_rest":
        return
    with db().begin():
        user = db().get(User, username)
        if user is None or not user.active:
            session.clear()
            return
        g.principal = identity.principal_of(user)
        g.display_name = user.display_name


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("principal") is None:
            return redirect(url_for("web.sign_in", next=request.full_path))
        return view(*args, **kwargs)
    return wrapper


def me() -> Principal:
    return g.principal


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if request.method == "GET":
        return render_template("sign_in.html")
    username = request.form.get("username", "").strip()
    try:
        with db().begin():
            user = identity.sign_in(db(), username, request.form.get("password", ""), remote=request.remote_addr)
    except TooManyAttempts:
        flash(_("Too many failed sign-ins for this name. Please wait a quarter of an hour and try again."), "error")
        return render_template("sign_in.html", username=username), 429
    if user is None:
        flash(_("Wrong user name or password."), "error")
        return render_template("sign_in.html", username=username), 401
    session.clear()
    session["username"] = user.username
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("web.inbox"))


@bp.post("/sign-out")
def sign_out():
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.sign_in"))
