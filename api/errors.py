"""One error shape per surface: Camunda's ``{"type", "message"}`` under /engine-rest.

Engine errors carry their status and Camunda type; anything unexpected becomes
a 500 whose body says so without leaking internals, and the request's session
is rolled back by its ``with session.begin()`` block before we get here.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy.orm.exc import StaleDataError
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.authorizations import AuthorizationRefused, record_refusal
from engine.errors import DeploymentError, EngineError
from engine.forms import FormInvalid
from engine.password_checks import TooManyAttempts

log = logging.getLogger(__name__)

_HTTP_TYPES = {400: "InvalidRequestException", 401: "AuthenticationException", 403: "AuthorizationException",
               404: "InvalidRequestException", 405: "InvalidRequestException", 413: "InvalidRequestException",
               415: "InvalidRequestException"}


def error_response(status: int, message: str, type_name: str | None = None, **extra: Any):
    body = {"type": type_name or _HTTP_TYPES.get(status, "RestException"), "message": message, **extra}
    return jsonify(body), status


def _record_refusal(app: Flask, refused: AuthorizationRefused) -> None:
    """The command rolled back; the refusal itself is audited in a transaction of its own."""
    from . import state

    with state(app).sessions.begin() as session:
        record_refusal(session, refused)


def _page(status: int, message: str | None = None):
    """Clerks get an HTML page in their language, not the API's JSON."""
    from flask import render_template

    return render_template("error.html", status=status, message=message), status


def _for_pages() -> bool:
    """Everything outside the REST API is a page for people."""
    return not request.path.startswith("/engine-rest")


def init_app(app: Flask) -> None:
    @app.errorhandler(EngineError)
    def _engine_error(exc: EngineError):
        extra: dict[str, Any] = {}
        if isinstance(exc, DeploymentError):
            extra["problems"] = exc.problems
        if isinstance(exc, FormInvalid):
            extra["fieldErrors"] = exc.fields
        if isinstance(exc, AuthorizationRefused):
            _record_refusal(app, exc)
        if _for_pages():
            from .web.messages import describe

            response, status = _page(exc.status, describe(exc))
        else:
            response, status = error_response(exc.status, exc.message, exc.camunda_type, **extra)
        if isinstance(exc, TooManyAttempts):
            return response, status, {"Retry-After": str(exc.retry_after)}
        return response, status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if (exc.code or 500) >= 500:  # the page tells the clerk the error is logged: it is
            log.error("%s %s answered %s: %s", request.method, request.path, exc.code, exc.description)
        if _for_pages() and (exc.code or 500) >= 400:
            if isinstance(exc, CSRFError):
                from flask_babel import gettext

                return _page(400, gettext("The form had expired or was sent from elsewhere. "
                                          "Go back, reload the page and send it again."))
            if exc.code == 413:
                from flask_babel import gettext

                return _page(413, gettext("The files sent together exceed %(mb)s MB. Go back and attach them in "
                                          "smaller parts.", mb=app.config["MAX_CONTENT_LENGTH"] // 1024 // 1024))
            said = exc.description if exc.description != type(exc).description else None
            return _page(exc.code or 500, said)  # a page's own word for it (``abort(404, message)``)
        message = exc.description or exc.name
        if exc.code == 413:
            message = f"Request body too large: the limit is {app.config['MAX_CONTENT_LENGTH']} bytes"
        response, status = error_response(exc.code or 500, message)
        if exc.code == 401:
            basic = app.config["ONEWINDOW_SETTINGS"].api_basic_auth
            response.headers["WWW-Authenticate"] = 'Basic realm="onewindow", Bearer' if basic else "Bearer"
        return response, status

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError):
        if _for_pages():
            return _page(409)
        return error_response(409, "The record was changed by another request at the same time; "
                              "nothing was written, reload and try again", "OptimisticLockingException")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        if _for_pages():
            return _page(500)
        return error_response(500, f"Internal error ({exc.__class__.__name__}); nothing was written. "
                              "The error is logged on the server.", "ProcessEngineException")
