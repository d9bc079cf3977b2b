"""好差评 from the applicant's own link: the rating page needs no account, only the case's rating token.

The token is an HMAC of the case number under the server's secret key (the
same key that signs the pages' cookies). It is never a process variable, so no
variable view, export or form shows it: the worker sending the rating
invitation asks for it while it holds that task (``link_token``), and the page
recomputes it, so nothing secret is stored and a guessed case number alone
rates nothing. The rating itself is the ``rating-received`` message, checked
against the ``rating`` form and the catch event's senders like any other.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import messages
from .context import services
from .errors import BadUserRequest, EngineError, Forbidden
from .external import get_external_task, require_live_lock
from .models import ProcessInstance

MESSAGE = "rating-received"
#: the role a rating through the applicant's own link is sent under (the rating event's ``senders``)
APPLICANT = "applicant"


class NoSecretKey(EngineError):
    """The server has no secret key, so no rating link can be made or checked (a configuration fault)."""

    status = 503


def token_for(secret: str, business_key: str) -> str:
    return hmac.new(secret.encode(), f"rating:{business_key}".encode(), hashlib.sha256).hexdigest()[:32]


def _token(session: so.Session, business_key: str) -> str:
    secret = services(session).settings.secret_key
    if not secret:
        raise NoSecretKey("ONEWINDOW_SECRET_KEY is not set: rating links cannot be made or checked",
                          code="rating.no-key")
    return token_for(secret, business_key)


def link_token(session: so.Session, task_id: str, worker_id: str | None) -> str:
    """The rating link's token for the case of external task ``task_id``, for the worker holding its lock
    (the one mailing the invitation); anyone else is refused as in ``engine.external``."""
    row = get_external_task(session, task_id)
    require_live_lock(row, worker_id, "given a rating link", services(session).clock.now())
    business_key = session.scalar(sa.select(ProcessInstance.business_key)
                                  .where(ProcessInstance.id == row.instance_id))
    if not business_key:
        raise BadUserRequest(f"External task '{task_id}' belongs to no case: it has no rating link")
    return _token(session, business_key)


def _check(session: so.Session, business_key: str, token: str) -> None:
    expected = _token(session, business_key)
    if not hmac.compare_digest(expected, token or ""):
        raise Forbidden("This rating link is not valid for the case", code="rating.bad-link")


def awaiting(session: so.Session, business_key: str, token: str) -> bool:
    """Does the case wait for its applicant's rating? (A wrong token is refused, a rated case says no.)"""
    _check(session, business_key, token)
    return messages.waits_for(session, business_key, MESSAGE)


def rate(session: so.Session, business_key: str, token: str, rating: dict[str, Any]) -> None:
    """Record the applicant's one rating for the case (the form is checked by the catch event)."""
    _check(session, business_key, token)
    messages.correlate(session, MESSAGE, business_key=business_key, variables=rating,
                       actor=f"{APPLICANT}:{business_key}", actor_groups=[APPLICANT])
