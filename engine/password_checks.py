"""Every password check, throttled and audited: the sign-in page and HTTP Basic on /engine-rest both come
through ``check_password``, so a guess costs the same wherever it is sent.

Why it looks like this:

- A guesser must not get unlimited tries, so failures are counted and each one past a free allowance makes
  the next attempt wait twice as long (1 s, 2 s, 4 s … up to ``MAX_DELAY``) after the last failure. Delays
  grow instead of locking, so a mistake never shuts anyone out for long.
- Someone else's failures must not shut a clerk out. The strict limit is per (name, address). The two wide
  limits catch what it cannot: many names tried from one address (spraying, or a flood of random names to
  make the server hash) and one name tried from many addresses (a distributed guess). They never apply to a
  name at an address it signed in from on the pages within ``KNOWN_FOR``, so a clerk at their usual desk
  passes whatever a neighbour behind the same NAT or a botnet does; and guessing from one address never
  slows the clerk at another, because the name's limit needs failures from ``NAME_SPREAD`` addresses.
- A refused attempt is decided on a few indexed counts before the password is hashed (argon2 costs tens of
  milliseconds of CPU and 64 MiB per check) and writes nothing, so a flood neither hashes nor grows the
  table; the delays themselves keep the table small.
- A failure is a ``sign_in_failure`` row and a ``sign-in-failed`` audit entry; a success clears its own
  pair's failures (a typo then the right password leaves nothing behind); an administrator's ``unlock``
  clears a name's or an address's (audited).

Bearer tokens are never throttled here: they are random secrets looked up by hash, nothing to guess.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit
from .context import services
from .errors import EngineError, InvalidInput
from .identity import authenticate_password
from .models import SignInFailure, SignInSession, User

#: failures of one name from one address before its next attempt has to wait
FREE_PER_PAIR = 5
#: distinct names failing from one address before attempts there for names not known there wait
FREE_NAMES_PER_ADDRESS = 30
#: failures of one name before attempts from addresses it is not known at wait …
FREE_PER_NAME = 20
#: … once they come from at least this many addresses (one guesser is the pair limit's business)
NAME_SPREAD = 3
#: the first wait; each further failure doubles it
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
#: failures older than this no longer count (and are deleted)
FAILURE_MEMORY = timedelta(hours=24)
#: a page sign-in from an address makes the name known there for this long
KNOWN_FOR = timedelta(days=30)
#: column widths of sign_in_failure
_NAME_WIDTH, _REMOTE_WIDTH = 100, 64


class TooManyAttempts(EngineError):
    """Refused before the password is checked: recent failures make this attempt wait ``retry_after`` seconds."""

    status = 429
    camunda_type = "AuthenticationException"

    def __init__(self, what: str, wait: timedelta) -> None:
        self.retry_after = max(math.ceil(wait.total_seconds()), 1)
        super().__init__(f"Too many failed sign-ins {what}; try again in {_say(self.retry_after)}",
                         code="sign-in.throttled", seconds=self.retry_after)


def _say(seconds: int) -> str:
    return f"{seconds} second(s)" if seconds < 120 else f"{math.ceil(seconds / 60)} minute(s)"


def delay_after(failures: int, free: int) -> timedelta:
    """How long after the last failure the next attempt waits: nothing within the free allowance, then
    ``FIRST_DELAY`` doubling with each failure up to ``MAX_DELAY``."""
    if failures < free:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** min(failures - free, 30), MAX_DELAY)


@dataclass(frozen=True)
class _Recent:
    """Recent failures of a pair, a name or an address: how many, over how many distinct others, the last."""

    failures: int = 0
    spread: int = 0
    last: datetime | None = None

    def wait(self, free: int, now: datetime, *, min_spread: int = 0) -> timedelta:
        if self.last is None or self.spread < min_spread:
            return timedelta(0)
        return max(self.last + delay_after(self.failures, free) - now, timedelta(0))


def check_password(session: so.Session, username: str, password: str, *, remote: str | None,
                   channel: str) -> User | None:
    """The user if the password is right, else None with the failure recorded (the caller's transaction must
    commit). Raises ``TooManyAttempts`` — before hashing, writing nothing — when recent failures make this
    attempt wait. ``channel`` (``page``, ``basic``) goes into the audit entry."""
    now = services(session).clock.now()
    username, remote = username[:_NAME_WIDTH], remote[:_REMOTE_WIDTH] if remote else None
    pair = _refuse_if_waiting(session, username, remote, now)
    user = authenticate_password(session, username, password)
    if user is None:
        _record_failure(session, username, remote, now, channel, pair.failures + 1)
        return None
    if pair.failures:
        session.execute(sa.delete(SignInFailure).where(SignInFailure.username == username, _from(remote)))
    return user


def _refuse_if_waiting(session: so.Session, username: str, remote: str | None, now: datetime) -> _Recent:
    """Refuse with the longest wait that applies: the pair's own, or a wide limit's for a name not known at the
    address. Returns the pair's recent failures."""
    pair, name = _name_counts(session, username, remote, now)
    waits = [(pair.wait(FREE_PER_PAIR, now), f"for '{username}' from this address"),
             (name.wait(FREE_PER_NAME, now, min_spread=NAME_SPREAD), f"for '{username}'")]
    if remote:
        address = _address_counts(session, remote, now)
        waits.append((address.wait(FREE_NAMES_PER_ADDRESS, now, min_spread=FREE_NAMES_PER_ADDRESS),
                      f"from {remote}"))
    if max(wait for wait, _ in waits[1:]) and _known(session, username, remote, now):
        waits = waits[:1]
    wait, what = max(waits, key=lambda w: w[0])
    if wait:
        raise TooManyAttempts(what, wait)
    return pair


def _from(remote: str | None) -> sa.ColumnElement[bool]:
    return SignInFailure.remote == remote if remote else SignInFailure.remote.is_(None)


def _name_counts(session: so.Session, username: str, remote: str | None, now: datetime
                 ) -> tuple[_Recent, _Recent]:
    """One read over the name's recent failures (a few dozen rows at most: the delays bound them) gives the
    pair's and the name's."""
    in_pair = _from(remote)
    pair, pair_last, name, addresses, name_last = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(sa.case((in_pair, 1), else_=0)), 0),
                  sa.func.max(sa.case((in_pair, SignInFailure.at))),
                  sa.func.count(), sa.func.count(sa.distinct(SignInFailure.remote)), sa.func.max(SignInFailure.at))
        .where(SignInFailure.username == username, SignInFailure.at > now - FAILURE_MEMORY)).one()
    return _Recent(int(pair), 1, pair_last), _Recent(int(name), int(addresses), name_last)


def _address_counts(session: so.Session, remote: str, now: datetime) -> _Recent:
    """The address's failures over distinct names: a clerk mistyping many times is one name, a spray or a
    flood of random names is many."""
    failures, names, last = session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(SignInFailure.username)), sa.func.max(SignInFailure.at))
        .where(SignInFailure.remote == remote, SignInFailure.at > now - FAILURE_MEMORY)).one()
    return _Recent(int(failures), int(names), last)


def _known(session: so.Session, username: str, remote: str | None, now: datetime) -> bool:
    """Did this name sign in on the pages from this address lately? (read only when a wider limit applies)"""
    if not remote:
        return False
    return session.scalar(sa.select(sa.literal(True)).where(
        SignInSession.username == username, SignInSession.remote == remote,
        SignInSession.started_at > now - KNOWN_FOR).limit(1)) is not None


def _record_failure(session: so.Session, username: str, remote: str | None, now: datetime, channel: str,
                    pair_failures: int) -> None:
    session.execute(sa.delete(SignInFailure).where(SignInFailure.at <= now - FAILURE_MEMORY))
    session.add(SignInFailure(username=username, remote=remote, at=now))
    details: dict[str, object] = {"channel": channel, "failures": pair_failures}
    if remote:
        details["remote"] = remote
    wait = delay_after(pair_failures, FREE_PER_PAIR)
    if wait:
        details["waitSeconds"] = int(wait.total_seconds())
    audit.record(session, "sign-in-failed", entity_id=username, details=details)


# --- what administrators see and do ------------------------------------------------------------------------

@dataclass(frozen=True)
class Throttled:
    """A name or an address with recent failures, and until when its next attempt waits (None: it need not)."""

    kind: str  # "name" | "address"
    key: str
    failures: int
    #: addresses a name failed from, or names that failed from an address
    spread: int
    last_at: datetime
    waits_until: datetime | None


def throttled(session: so.Session, limit: int = 200) -> list[Throttled]:
    """Names and addresses with failures still counted, the most recent first (the administrators' page)."""
    now = services(session).clock.now()
    rows = session.execute(
        sa.select(SignInFailure.username, SignInFailure.remote, sa.func.count(), sa.func.max(SignInFailure.at))
        .where(SignInFailure.at > now - FAILURE_MEMORY)
        .group_by(SignInFailure.username, SignInFailure.remote)
        .order_by(sa.func.max(SignInFailure.at).desc()).limit(limit)).all()
    names: dict[str, list] = {}
    addresses: dict[str, list] = {}
    for username, remote, count, last in rows:
        names.setdefault(username, []).append((remote, count, last))
        if remote:
            addresses.setdefault(remote, []).append((username, count, last))
    found = [_summary("name", key, pairs, now) for key, pairs in names.items()]
    found += [_summary("address", key, pairs, now) for key, pairs in addresses.items()]
    return sorted(found, key=lambda t: t.last_at, reverse=True)


def _summary(kind: str, key: str, pairs: list, now: datetime) -> Throttled:
    """The longest wait any attempt for this name (from this address) now meets: its pairs' own, or the wide
    limit's for callers it is not known by."""
    whole = _Recent(sum(count for _, count, _ in pairs), len([other for other, _, _ in pairs if other]),
                    max(at for _, _, at in pairs))
    wide = (whole.wait(FREE_PER_NAME, now, min_spread=NAME_SPREAD) if kind == "name"
            else whole.wait(FREE_NAMES_PER_ADDRESS, now, min_spread=FREE_NAMES_PER_ADDRESS))
    wait = max([wide] + [_Recent(count, 1, at).wait(FREE_PER_PAIR, now) for _, count, at in pairs])
    return Throttled(kind, key, whole.failures, len(pairs), whole.last or now, now + wait if wait else None)


def unlock(session: so.Session, *, username: str | None = None, remote: str | None = None,
           actor: str | None) -> int:
    """Forget the recent failures of a name (from every address) or of an address (for every name), so its
    next attempt is checked at once; audited. Returns how many failures were cleared."""
    if bool(username) == bool(remote):
        raise InvalidInput("name a user or an address to unlock, not both", code="unlock.what")
    where = SignInFailure.username == username if username else SignInFailure.remote == remote
    cleared = session.execute(sa.delete(SignInFailure).where(where)).rowcount or 0
    audit.record(session, "sign-in-unlocked", actor=actor, entity_id=username or remote,
                 details={"kind": "name" if username else "address", "cleared": cleared})
    return cleared
