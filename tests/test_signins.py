"""Clerks' sign-ins: throttled guessing, sessions that end at sign-out, when idle and after a working day."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine import identity, signins
from engine.models import SignInSession, User
from engine.signins import TooManyAttempts


@pytest.fixture
def clerk(sessions):
    with sessions.begin() as session:
        identity.create_user(session, "clerk", "right-password")


def _sign_in(sessions, name="clerk", password="right-password", remote="10.0.0.9"):
    with sessions.begin() as session:
        return signins.sign_in(session, name, password, remote=remote)


def _current(sessions, secret):
    with sessions.begin() as session:
        user = signins.current(session, secret)
        return user.username if user else None


def test_repeated_failed_sign_ins_lock_the_name_for_a_while(sessions, clock, clerk):
    for _ in range(signins.MAX_FAILURES_PER_NAME):
        assert _sign_in(sessions, password="wrong") is None
    with pytest.raises(TooManyAttempts, match="for 'clerk'; try again in 15 minute"):
        _sign_in(sessions, remote="10.0.0.10")  # another address does not help
    clock.advance(signins.FAILURE_WINDOW)
    user, secret = _sign_in(sessions)
    assert user.username == "clerk" and _current(sessions, secret) == "clerk"


def test_one_address_trying_many_names_is_slowed_down_too(sessions, clock, clerk):
    for n in range(signins.MAX_FAILURES_PER_ADDRESS):
        assert _sign_in(sessions, name=f"guess{n}", password="x", remote="10.0.0.66") is None
    with pytest.raises(TooManyAttempts, match="from 10.0.0.66"):
        _sign_in(sessions, remote="10.0.0.66")
    assert _sign_in(sessions, remote="10.0.0.9")[0].username == "clerk"  # the clerk at their own desk


def test_signing_out_ends_the_session_so_a_copied_cookie_opens_nothing(sessions, clerk):
    _, secret = _sign_in(sessions)
    with sessions.begin() as session:
        signins.sign_out(session, secret)
    assert _current(sessions, secret) is None
    with sessions.begin() as session:
        row = session.query(SignInSession).one()
        assert row.end_reason == "sign-out" and row.remote == "10.0.0.9"


@pytest.mark.settings(session_idle_minutes=30, session_max_hours=8)
def test_idle_and_over_long_sessions_end_and_a_disabled_account_ends_at_once(sessions, clock, clerk):
    _, idle = _sign_in(sessions)
    clock.advance(timedelta(minutes=29))
    assert _current(sessions, idle) == "clerk"  # working: the idle time starts again
    clock.advance(timedelta(minutes=29))
    assert _current(sessions, idle) == "clerk"
    clock.advance(timedelta(minutes=31))
    assert _current(sessions, idle) is None
    _, busy = _sign_in(sessions)
    for _ in range(16):  # active all day, every 29 minutes (7 h 44 min)
        clock.advance(timedelta(minutes=29))
        assert _current(sessions, busy) == "clerk"
    clock.advance(timedelta(minutes=29))  # past eight hours
    assert _current(sessions, busy) is None
    _, fresh = _sign_in(sessions)
    with sessions.begin() as session:
        session.get(User, "clerk").active = False
    assert _current(sessions, fresh) is None
    with sessions.begin() as session:
        reasons = sorted(r.end_reason for r in session.query(SignInSession))
    assert reasons == ["disabled", "expired", "idle"]
    assert _current(sessions, "not-a-secret") is None and _current(sessions, None) is None
