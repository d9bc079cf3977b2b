"""Users, groups and API tokens.

Passwords are stored as argon2 hashes; API tokens as the SHA-256 of a random
secret (the secret is shown once, at creation). Roles are group ids; the same
ids serve as BPMN candidate groups.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import audit
from .context import services
from .errors import InvalidInput, NotFound
from .models import ApiToken, Department, User

_HASHER = PasswordHasher()
#: Verifying a hash of an unknown user still costs the same time (no user enumeration by timing).
_DUMMY_HASH = _HASHER.hash("onewindow-dummy-password")

#: the district government service center's department code: its supervisors see every department,
#: its window staff receive every department's applications
CENTER = "center"

#: ``office`` is the district government office for services (区政务办) that reviews changes to the item
#: catalogue (rule 14); its reviewers belong to the center, so adjustment reviews go to ``center:office``
ROLES = ("admin", "designer", "worker", "supervisor", "window-clerk", "approval-clerk",
         "specialist", "chief-representative", "section-head", "department-leader", "portal", "office")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (signed in or by token)."""

    username: str
    groups: frozenset[str]
    department: str | None = None

    def has_any(self, roles: Iterable[str]) -> bool:
        return "admin" in self.groups or bool(self.groups.intersection(roles))


def principal_of(user: User) -> Principal:
    return Principal(user.username, groups_of(user.groups or [], user.department), user.department)


def groups_of(roles: Iterable[str], department: str | None) -> frozenset[str]:
    """A user's candidate groups: each role, and each role within the user's department
    (``market:approval-clerk``), so a process can route a task to one department's clerks."""
    roles = set(roles)
    scoped = {f"{department}:{role}" for role in roles} if department else set()
    return frozenset(roles | scoped)


def create_user(session: so.Session, username: str, password: str | None, *, display_name: str | None = None,
                groups: Iterable[str] = (), department: str | None = None) -> User:
    if not username or len(username) > 100:
        raise InvalidInput("username must be 1 to 100 characters")
    if session.get(User, username) is not None:
        raise InvalidInput(f"user '{username}' already exists")
    if department and session.get(Department, department) is None:
        raise InvalidInput(f"department '{department}' does not exist")
    user = User(username=username, password_hash=_HASHER.hash(password) if password else None,
                display_name=display_name or username, department=department, groups=sorted(set(groups)),
                created_at=services(session).clock.now())
    session.add(user)
    audit.record(session, "create-user", entity_id=username, details={"groups": user.groups})
    return user


def authenticate_password(session: so.Session, username: str, password: str) -> User | None:
    user = session.get(User, username)
    if user is None or not user.active or not user.password_hash:
        _verify(_DUMMY_HASH, password)
        return None
    return user if _verify(user.password_hash, password) else None


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def create_token(session: so.Session, username: str, name: str) -> str:
    """Create a bearer token for a user; returns the secret, which is never stored."""
    if session.get(User, username) is None:
        raise NotFound(f"user '{username}' does not exist")
    secret = "ow_" + secrets.token_urlsafe(32)
    session.add(ApiToken(id=str(uuid.uuid4()), name=name, token_hash=_token_hash(secret), username=username,
                         created_at=services(session).clock.now()))
    audit.record(session, "create-token", entity_id=username, details={"name": name})
    return secret


def authenticate_token(session: so.Session, secret: str) -> User | None:
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.username)
    return user if user is not None and user.active else None


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def ensure_department(session: so.Session, code: str, name: str) -> Department:
    department = session.get(Department, code)
    if department is None:
        department = Department(code=code, name=name)
        session.add(department)
    return department


_DEPARTMENT_CODE = re.compile(r"^[a-z][a-z0-9-]{1,49}$")


def departments(session: so.Session) -> list[Department]:
    return list(session.scalars(sa.select(Department).order_by(Department.code)))


def save_department(session: so.Session, code: str, name: str, *, actor: str | None) -> Department:
    """Add a department or rename it. The code is what cases, items, groups (``<code>:<role>``) and letters
    refer to, so it never changes; the name is what documents and pages print."""
    if not _DEPARTMENT_CODE.match(code):
        raise InvalidInput(f"department code '{code}' must be 2-50 lower-case letters, digits or '-', starting "
                           "with a letter", code="department.bad-code", value=code)
    if not name or len(name) > 255:
        raise InvalidInput("a department needs a name of at most 255 characters", code="department.bad-name")
    department = session.get(Department, code)
    if department is not None and department.name == name:
        return department
    before = department.name if department is not None else None
    if department is None:
        department = Department(code=code, name=name)
        session.add(department)
    else:
        department.name = name
    session.flush()
    audit.record(session, "department-saved", actor=actor, entity_id=code, details={"name": name, "before": before})
    return department
