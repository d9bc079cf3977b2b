"""Signing in and out of the clerk pages: argon2-checked passwords, a server-side session named by the
cookie (``engine.signins``: sign-out and timeouts really end it), throttled failures
(``engine.password_checks``), and after signing in only a path on this server as the next page."""
from __future__ import annotations

import re
from functools import wraps
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine import identity, signins
from engine.identity import Principal
from engine.signins import TooManyAttempts

from .. import db
from . import bp
from .messages import wait_text


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
    except TooManyAttempts as refused:
        flash(_("Too many failed sign-ins. Please try again in %(wait)s.", wait=wait_text(refused.retry_after)),
              "error")
        return render_template("sign_in.html", username=username), 429, {"Retry-After": str(refused.retry_after)}
    if signed is None:
        flash(_("Wrong user name or password."), "error")
        return render_template("sign_in.html", username=username), 401
    session.clear()
    session["sid"] = signed[1]
    return redirect(local_path(request.args.get("next")) or url_for("web.inbox"))


#: characters no local path may hold in any decoded form: browsers drop tabs and newlines from URLs and
#: read a backslash as a slash, so ``/\t/evil.example`` and ``/\evil.example`` lead to evil.example
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this server, else None. It must start with a single ``/``, hold no control
    character or backslash, and parse with neither scheme nor host — as sent and in every percent-decoded
    form, since a proxy or a later redirect may decode it once more (``/%2F%2Fevil.example``)."""
    if not target or len(target) > 2048:
        return None
    form = target
    for _decoding in range(4):
        if not _is_local(form):
            return None
        decoded = unquote(form)
        if decoded == form:
            return target
        form = decoded
    return None


def _is_local(form: str) -> bool:
    if not form.startswith("/") or form.startswith("//") or _UNSAFE.search(form):
        return False
    parts = urlsplit(form)
    return not parts.scheme and not parts.netloc


@bp.post("/sign-out")
def sign_out():
    with db().begin():
        signins.sign_out(db(), session.get("sid"))
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.sign_in"))
