"""Clerk pages (server-rendered, usable without JavaScript): sign-in, inbox, task forms.

Texts go through Flask-Babel catalogues (``api/translations``; zh_CN is the
default, another language is a catalogue away). Every form carries a CSRF
token (Flask-WTF); the /engine-rest API, which authenticates each call with a
token, is exempt. Pages only call engine commands, one transaction each.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, Flask, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")
#: Accept-Language tag → catalogue folder in api/translations (Babel's identifiers); the first is the default
LOCALES = {"zh-CN": "zh_Hans_CN"}
log = logging.getLogger(__name__)


def _locale() -> str:
    chosen = request.accept_languages.best_match(list(LOCALES))
    return LOCALES[chosen or next(iter(LOCALES))]


def _moment(value: str | None) -> str:
    """An ISO date-time from the case's variables as the center's clerks write it (local time as stored)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def _local(moment: datetime | None) -> str:
    """A stored (UTC) time in the center's zone, as the pages show times (a plain strftime: the inbox
    shows a hundred of them)."""
    from .. import state

    return moment.astimezone(state().services.tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def _refuse_without_secret(app: Flask) -> None:
    """Without ONEWINDOW_SECRET_KEY nothing could sign the session cookies and CSRF tokens: the pages stay
    shut (503, each refusal logged with what to set) while the REST API, which authenticates every call by
    itself, and the public service guides go on serving. `onewindow demo` settles a key of its own before
    the app is built (``Settings.with_kept_secret``), so a demo never meets this."""
    if app.config.get("SECRET_KEY"):
        return
    open_paths = ("/engine-rest", "/public/", "/guide/")

    @app.before_request
    def _no_secret():
        from flask import abort

        if request.path.startswith(open_paths):
            return
        log.error("refused %s %s with 503: ONEWINDOW_SECRET_KEY is not set, so the pages cannot sign their "
                  "cookies; set it (a long random string, the same on every server) and restart",
                  request.method, request.path)
        abort(503, "ONEWINDOW_SECRET_KEY is not set")


def init_app(app: Flask) -> None:
    from pathlib import Path

    from ..engine_rest import bp as engine_rest_bp
    from . import (adjustments, admin, admin_authorizations, case_pages, console, console_instance,  # noqa: F401
                   console_process, dashboard, design, design_versions, inbox, modeler, rating_page, session_auth,
                   task_page)
    from . import admin_sign_ins  # noqa: F401

    app.config.setdefault("BABEL_DEFAULT_LOCALE", next(iter(LOCALES.values())))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["ONEWINDOW_SETTINGS"].timezone)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent.parent / "translations"))
    # a token lives as long as the session: a clerk's long form is not refused after an hour
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    Babel(app, locale_selector=_locale)
    app.add_template_filter(_moment, "moment")
    app.add_template_filter(_local, "local")
    _refuse_without_secret(app)
    csrf = CSRFProtect(app)
    csrf.exempt(engine_rest_bp)
    app.register_blueprint(bp)
