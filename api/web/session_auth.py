"""Signing in and out of the clerk pages: argon2-checked passwords, a server-side session named by the
cookie (``engine.signins``: sign-out and timeouts really end it), throttled failures."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine import identity, signins
from engine.identity import Principal
from engine.signins import TooManyAttempts

from .. import db
from . import bp


@bp.before_app_request
def _load_principal() -> None:
    """The signed-in user of this request, if the sign-in still holds (sign-out, idle time, a working
    day's length and a disabled account end it)."""
    g.principal = None
    secret = session.get("sid")
    if not secret or request.blueprint == "engine_rest":
        return
    with db().begin():
        user = signins.current(db(), secret)
        if user is None:
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
            signed = signins.sign_in(db(), username, request.form.get("password", ""), remote=request.remote_addr)
    except TooManyAttempts:
        flash(_("Too many failed sign-ins. Please wait a quarter of an hour and try again."), "error")
        return render_template("sign_in.html", username=username), 429
    if signed is None:
        flash(_("Wrong user name or password."), "error")
        return render_template("sign_in.html", username=username), 401
    session.clear()
    session["sid"] = signed[1]
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("web.inbox"))


@bp.post("/sign-out")
def sign_out():
    with db().begin():
        signins.sign_out(db(), session.get("sid"))
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.sign_in"))
