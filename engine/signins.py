"""Clerks' sign-ins: the password checked, a server-side session opened, kept alive, ended.

The session cookie only carries a random secret; the row it names (by the
secret's SHA-256) says whose sign-in it is and whether it still holds. Signing
out ends the row, so a copied cookie opens nothing afterwards; a clerk idle
for ``session_idle_minutes``, or signed in for ``session_max_hours``, is signed
out too. Failed sign-ins are counted per name and per address (a guesser
trying many names from one address is slowed down as well).
"""
from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit
from .context import services
from .errors import EngineError
from .identity import authenticate_password
from .models import SignInFailure, SignInSession, User

MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = timedelta(minutes=15)
#: last_seen_at is written at most this often (not on every page)
TOUCH_EVERY = timedelta(minutes=1)


class TooManyAttempts(EngineError):
    """Sign-in refused for a while after repeated failures (the password is not even checked)."""

    status = 429
    camunda_type = "AuthenticationException"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign_in(session: so.Session, username: str, password: str, *, remote: str | None = None
            ) -> tuple[User, str] | None:
    """The user and the new session's secret, or None for a wrong name or password (recorded, so the
    caller's transaction must commit). Too many recent failures for the name or from the address refuse
    the attempt before the password is checked."""
    now = services(session).clock.now()
    _refuse_if_throttled(session, username, remote, now)
    user = authenticate_password(session, username, password)
    if user is None:
        session.add(SignInFailure(username=username[:100], remote=remote, at=now))
        audit.record(session, "sign-in-failed", entity_id=username, details={"remote": remote} if remote else {})
        return None
    secret = secrets.token_urlsafe(32)
    session.add(SignInSession(id=_hash(secret), username=user.username, started_at=now, last_seen_at=now,
                              remote=remote))
    audit.record(session, "sign-in", actor=user.username, entity_id=username,
                 details={"remote": remote} if remote else {})
    return user, secret


def _refuse_if_throttled(session: so.Session, username: str, remote: str | None, now: datetime) -> None:
    limits = [(SignInFailure.username == username, MAX_FAILURES_PER_NAME, f"for '{username}'")]
    if remote:
        limits.append((SignInFailure.remote == remote, MAX_FAILURES_PER_ADDRESS, f"from {remote}"))
    for where, most, what in limits:
        recent = list(session.scalars(sa.select(SignInFailure.at).where(where, SignInFailure.at > now - FAILURE_WINDOW)
                                      .order_by(SignInFailure.at.desc()).limit(most)))
        if len(recent) >= most:
            wait = recent[-1] + FAILURE_WINDOW - now
            raise TooManyAttempts(f"Too many failed sign-ins {what}; try again in "
                                  f"{max(math.ceil(wait.total_seconds() / 60), 1)} minute(s)", code="sign-in.throttled")


def current(session: so.Session, secret: str | None) -> User | None:
    """The user whose sign-in the secret names, if it still holds; an expired one is ended here."""
    if not secret:
        return None
    row = session.get(SignInSession, _hash(secret))
    if row is None or row.ended_at is not None:
        return None
    svc = services(session)
    now = svc.clock.now()
    user = session.get(User, row.username)
    reason = ("disabled" if user is None or not user.active
              else "expired" if now - row.started_at > timedelta(hours=svc.settings.session_max_hours)
              else "idle" if now - row.last_seen_at > timedelta(minutes=svc.settings.session_idle_minutes)
              else None)
    if reason:
        _end(session, row, now, reason)
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return user


def sign_out(session: so.Session, secret: str | None) -> None:
    row = session.get(SignInSession, _hash(secret)) if secret else None
    if row is not None and row.ended_at is None:
        _end(session, row, services(session).clock.now(), "sign-out")


def _end(session: so.Session, row: SignInSession, now: datetime, reason: str) -> None:
    row.ended_at, row.end_reason = now, reason
    audit.record(session, "sign-out", actor=row.username, entity_id=row.username, details={"reason": reason})
