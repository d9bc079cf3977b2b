"""Clerks' sign-ins: the password checked, a server-side session opened, kept alive, ended.

The session cookie only carries a random secret; the row it names (by the
secret's SHA-256) says whose sign-in it is and whether it still holds. Signing
out ends the row, so a copied cookie opens nothing afterwards; a clerk idle
for ``session_idle_minutes``, or signed in for ``session_max_hours``, is signed
out too. The password itself is checked by ``engine.password_checks`` — the
same throttled, audited door HTTP Basic goes through.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy.orm as so

from . import audit
from .context import services
from .models import SignInSession, User
from .password_checks import TooManyAttempts, check_password

__all__ = ["TooManyAttempts", "current", "sign_in", "sign_out"]
#: last_seen_at is written at most this often (not on every page)
TOUCH_EVERY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign_in(session: so.Session, username: str, password: str, *, remote: str | None = None
            ) -> tuple[User, str] | None:
    """The user and the new session's secret, or None for a wrong name or password (recorded, so the
    caller's transaction must commit). Raises ``TooManyAttempts`` when recent failures make the attempt
    wait (``engine.password_checks``: the password is not even checked then)."""
    remote = remote[:64] if remote else None
    user = check_password(session, username, password, remote=remote, channel="page")
    if user is None:
        return None
    now = services(session).clock.now()
    secret = secrets.token_urlsafe(32)
    session.add(SignInSession(id=_hash(secret), username=user.username, started_at=now, last_seen_at=now,
                              remote=remote))
    audit.record(session, "sign-in", actor=user.username, entity_id=username,
                 details={"remote": remote} if remote else {})
    return user, secret


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
