"""Authentication (Bearer tokens, HTTP Basic) and role checks for API endpoints.

Bearer tokens are the machines' credential: random secrets looked up by their SHA-256, nothing to guess and
nothing slow. HTTP Basic (on unless ``ONEWINDOW_API_BASIC_AUTH=false``) goes through the same throttled and
audited password check as the sign-in page (``engine.password_checks``), so a wrong Basic password counts
as a failed sign-in and a flood is refused before any password is hashed.
"""
from __future__ import annotations

import base64
import binascii
import functools
from typing import Any, Callable

import sqlalchemy.orm as so
from flask import abort, current_app, g, request

from engine import identity, password_checks
from engine.identity import Principal
from engine.models import User

from . import db

#: who may call what on /engine-rest (admin may call everything)
PERMISSIONS = {
    "deploy": ("designer",),
    "start": ("window-clerk", "approval-clerk", "worker", "designer", "supervisor"),
    "read": ("designer", "supervisor", "worker", "window-clerk", "approval-clerk", "specialist",
             "chief-representative", "section-head"),
    "operate": ("supervisor",),
    #: the supervisors' case list and its export (a department's supervisors see their department)
    "supervise": ("supervisor",),
    "work": ("worker",),
    "message": ("worker", "window-clerk", "approval-clerk", "supervisor", "portal"),
    #: rule 1: applications come in at the comprehensive window or online (the portal)
    "receive": ("window-clerk", "portal"),
    "catalogue": ("designer", "supervisor", "worker", "window-clerk", "approval-clerk", "specialist",
                  "chief-representative", "section-head", "portal", "office"),
    #: rule 14: a department's approval section head applies in writing to add, change or cancel an item
    "adjust": ("section-head",),
    #: the catalogue's checks on a proposed record, nothing saved (the adjustment's worker, the applicant, the office)
    "catalogue-check": ("worker", "section-head", "office"),
    #: writing a version the 区政务办 approved (the adjustment's worker only; the engine checks the approval)
    "catalogue-apply": ("worker",),
    "clock": ("window-clerk", "approval-clerk", "specialist", "chief-representative", "section-head", "worker"),
    "calendar": (),
}


def authenticate() -> Principal | None:
    """The caller named by the Authorization header, or None. A wrong Basic password is recorded as a failed
    sign-in (so this transaction commits); a throttled one raises ``TooManyAttempts`` (429)."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    session = db()
    with session.begin():
        if scheme.lower() == "bearer" and credentials:
            user = identity.authenticate_token(session, credentials.strip())
        elif scheme.lower() == "basic" and credentials:
            user = _basic_user(session, credentials)
        else:
            return None
        return identity.principal_of(user) if user is not None else None


def _basic_user(session: so.Session, credentials: str) -> User | None:
    if not current_app.config["ONEWINDOW_SETTINGS"].api_basic_auth:
        abort(401, "HTTP Basic is turned off on this server: send a Bearer token "
                   "(create one with `onewindow token create`)")
    username, password = _basic(credentials)
    if not username:
        return None
    return password_checks.check_password(session, username, password, remote=request.remote_addr,
                                          channel="basic")


def _basic(credentials: str) -> tuple[str | None, str]:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, ""
    username, _, password = decoded.partition(":")
    return username, password


def require_api_auth() -> None:
    """before_request hook: every API call names a valid user or token."""
    principal = authenticate()
    if principal is None:
        abort(401, "Authentication required: send HTTP Basic credentials or a Bearer token "
                   "(create one with `onewindow token create`)")
    g.principal = principal


def current() -> Principal:
    return g.principal


def allowed(permission: str) -> Callable:
    roles = PERMISSIONS[permission]

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current().has_any(roles):
                abort(403, f"User '{current().username}' lacks a role for this action "
                           f"(needs one of: {', '.join(('admin',) + roles)})")
            return view(*args, **kwargs)
        return wrapped
    return decorator
