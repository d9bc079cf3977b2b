"""Clerks' sign-ins: guessing slowed by growing waits that never shut a clerk out, sessions that end at sign-out,
when idle and after a working day."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine import identity, password_checks, signins
from engine.errors import InvalidInput
from engine.models import AuditEntry, SignInFailure, SignInSession, User
from engine.signins import TooManyAttempts

from .hashing import cheap_hashing, count_hashing


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    cheap_hashing(monkeypatch)


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


def _fail(sessions, clock, times, name="clerk", remote="10.0.0.66"):
    """``times`` wrong passwords for ``name`` from ``remote``, each as soon as the throttle lets it through."""
    for _ in range(times):
        while True:
            try:
                assert _sign_in(sessions, name=name, password="wrong", remote=remote) is None
                break
            except TooManyAttempts as refused:
                clock.advance(timedelta(seconds=refused.retry_after))


def _refused(sessions, **attempt) -> TooManyAttempts:
    with pytest.raises(TooManyAttempts) as refused:
        _sign_in(sessions, **attempt)
    return refused.value


def test_each_failure_past_five_doubles_the_wait_up_to_a_quarter_of_an_hour(sessions, clock, clerk):
    for _ in range(password_checks.FREE_PER_PAIR):
        assert _sign_in(sessions, password="wrong") is None
    waits = []
    for _ in range(12):
        refused = _refused(sessions)  # even the right password waits: it is not checked at all
        waits.append(refused.retry_after)
        clock.advance(timedelta(seconds=refused.retry_after - 1))
        assert _refused(sessions).retry_after == 1  # a second early is still too early
        clock.advance(timedelta(seconds=1))
        assert _sign_in(sessions, password="wrong") is None
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    assert "try again in 15 minute(s)" in str(_refused(sessions))
    clock.advance(password_checks.MAX_DELAY)
    assert _sign_in(sessions)[0].username == "clerk"
    for _ in range(password_checks.FREE_PER_PAIR):  # the right password forgot the pair's failures
        assert _sign_in(sessions, password="wrong") is None


def test_a_guesser_at_one_address_never_slows_the_clerk_at_another(sessions, clock, clerk):
    _fail(sessions, clock, 30, remote="10.0.0.66")
    assert _refused(sessions, remote="10.0.0.66").retry_after == 900
    # a desk the clerk never signed in from before, far past the name's wide limit: one guesser is one address
    user, secret = _sign_in(sessions, remote="10.0.0.10")
    assert user.username == "clerk" and _current(sessions, secret) == "clerk"
    assert _refused(sessions, remote="10.0.0.66")  # the guesser still waits


def test_a_guess_from_many_addresses_slows_new_addresses_but_not_the_clerks_own_desk(sessions, clock, clerk):
    assert _sign_in(sessions, remote="10.0.0.9")  # the clerk's desk: known from now on
    for bot in range(4):
        _fail(sessions, clock, 6, remote=f"198.51.100.{bot}")
    refused = _refused(sessions, remote="203.0.113.5")  # the right password from an address the name is new at
    assert "for 'clerk';" in str(refused)
    assert _sign_in(sessions, remote="10.0.0.9")[0].username == "clerk"
    clock.advance(timedelta(seconds=refused.retry_after))
    assert _sign_in(sessions, remote="203.0.113.5")[0].username == "clerk"  # a wait, not a lock


def test_random_names_from_one_address_are_refused_without_hashing_but_its_clerk_gets_in(
        sessions, clock, clerk, monkeypatch):
    assert _sign_in(sessions, remote="10.0.0.66")  # the clerk works behind this address (an office's NAT)
    hashed = count_hashing(monkeypatch)
    refusals = 0
    for n in range(100):
        try:
            assert _sign_in(sessions, name=f"random{n}", password="x", remote="10.0.0.66") is None
        except TooManyAttempts:
            refusals += 1
    assert len(hashed) == password_checks.FREE_NAMES_PER_ADDRESS and refusals == 100 - len(hashed)
    with sessions.begin() as session:  # refusals write nothing
        assert session.scalar(sa.select(sa.func.count()).select_from(SignInFailure)) == len(hashed)
    assert _sign_in(sessions, remote="10.0.0.66")[0].username == "clerk"  # known here: the flood is not theirs
    assert "from 10.0.0.66" in str(_refused(sessions, name="newcomer", remote="10.0.0.66"))
    assert _sign_in(sessions, remote="10.0.0.10")[0].username == "clerk"


def test_an_administrator_unlocks_a_name_or_an_address_and_it_is_audited(sessions, clock, clerk):
    _fail(sessions, clock, 8)
    with sessions.begin() as session:
        [name] = [t for t in password_checks.throttled(session) if t.kind == "name"]
        assert (name.key, name.failures, name.spread) == ("clerk", 8, 1) and name.waits_until > clock.now()
    assert _refused(sessions, remote="10.0.0.66")
    with sessions.begin() as session:
        assert password_checks.unlock(session, username="clerk", actor="admin") == 8
    assert _sign_in(sessions, remote="10.0.0.66")[0].username == "clerk"
    for n in range(password_checks.FREE_NAMES_PER_ADDRESS):
        _sign_in(sessions, name=f"random{n}", password="x", remote="10.0.0.77")
    assert _refused(sessions, remote="10.0.0.77")
    with sessions.begin() as session:
        assert password_checks.unlock(session, remote="10.0.0.77", actor="admin") == 30
        with pytest.raises(InvalidInput):
            password_checks.unlock(session, actor="admin")
    assert _sign_in(sessions, remote="10.0.0.77")[0].username == "clerk"
    with sessions.begin() as session:
        unlocks = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "sign-in-unlocked")
                                  .order_by(AuditEntry.id)).all()
        assert [(e.actor, e.entity_id, e.details) for e in unlocks] == [
            ("admin", "clerk", {"kind": "name", "cleared": 8}),
            ("admin", "10.0.0.77", {"kind": "address", "cleared": 30})]


def test_failures_are_recorded_and_audited_and_forgotten_after_a_day(sessions, clock, clerk):
    _fail(sessions, clock, 6)
    with sessions.begin() as session:
        failed = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "sign-in-failed")
                                 .order_by(AuditEntry.id)).all()
        assert [e.details["failures"] for e in failed] == [1, 2, 3, 4, 5, 6]
        assert failed[-1].details == {"channel": "page", "failures": 6, "remote": "10.0.0.66", "waitSeconds": 2}
        assert {e.entity_id for e in failed} == {"clerk"} and {e.actor for e in failed} == {None}
    clock.advance(password_checks.FAILURE_MEMORY)
    assert _sign_in(sessions, name="someone", password="x", remote="10.0.0.1") is None  # and the old rows go
    with sessions.begin() as session:
        assert session.scalars(sa.select(SignInFailure.username)).all() == ["someone"]
    assert _sign_in(sessions, remote="10.0.0.66")[0].username == "clerk"


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
