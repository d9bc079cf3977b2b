"""The deployed versions of each process: who deployed which when, and how many cases run on each.

A new deployment of a changed file adds a version and leaves every running instance on the version
it started on (``engine.instance_migration`` moves them on purpose); new instances start on the
latest. These reads are what the designers' pages, the CLI and the REST API show of that history.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from .errors import NotFound
from .models import Deployment, ProcessDefinition, ProcessInstance

#: what counts as running here: not ended (suspended instances still hold their version)
ACTIVE = ("running", "suspended")


@dataclass(frozen=True)
class VersionInfo:
    definition_id: str
    key: str
    version: int
    name: str | None
    deployed_at: datetime
    deployed_by: str | None
    deployment_id: str
    deployment_name: str | None
    deployment_source: str | None
    resource_name: str
    checksum: str
    dialect: str
    #: instances of this version that have not ended
    running: int
    #: instances of other processes that run this version inside a call activity (pinned when they started)
    running_as_called: int
    latest: bool


@dataclass(frozen=True)
class KeySummary:
    key: str
    #: the latest version's name
    name: str | None
    latest_version: int
    latest_id: str
    versions: int
    #: not-ended instances over all versions
    running: int
    last_deployed_at: datetime
    last_deployed_by: str | None


def list_versions(session: so.Session, key: str) -> list[VersionInfo]:
    """Every version of ``key``, newest first; ``NotFound`` when nothing with that key is deployed."""
    rows = session.execute(
        sa.select(ProcessDefinition, Deployment).join(Deployment, Deployment.id == ProcessDefinition.deployment_id)
        .where(ProcessDefinition.key == key).order_by(ProcessDefinition.version.desc())).all()
    if not rows:
        raise NotFound(f"No process definition with key '{key}' is deployed", code="definition.unknown-key", key=key)
    ids = [d.id for d, _ in rows]
    running = dict(session.execute(
        sa.select(ProcessInstance.definition_id, sa.func.count()).where(
            ProcessInstance.definition_id.in_(ids), ProcessInstance.status.in_(ACTIVE))
        .group_by(ProcessInstance.definition_id)).all())
    called = _running_as_called(session, key)
    latest = rows[0][0].version
    return [VersionInfo(d.id, d.key, d.version, d.name, d.deployed_at, d.deployed_by, d.deployment_id, dep.name,
                        dep.source, d.resource_name, d.checksum, d.dialect, running.get(d.id, 0), called.get(d.id, 0),
                        d.version == latest) for d, dep in rows]


def deployed_keys(session: so.Session) -> frozenset[str]:
    """Every process key deployed at least once (what a call activity can start)."""
    return frozenset(session.scalars(sa.select(ProcessDefinition.key).distinct()))


def list_keys(session: so.Session) -> list[KeySummary]:
    """One line per deployed process, by key."""
    latest = (sa.select(ProcessDefinition.key, sa.func.max(ProcessDefinition.version).label("version"),
                        sa.func.count().label("versions"))
              .group_by(ProcessDefinition.key).subquery())
    rows = session.execute(
        sa.select(ProcessDefinition, latest.c.versions).join(latest, sa.and_(
            latest.c.key == ProcessDefinition.key, latest.c.version == ProcessDefinition.version))
        .order_by(ProcessDefinition.key)).all()
    running = dict(session.execute(
        sa.select(ProcessInstance.definition_key, sa.func.count()).where(ProcessInstance.status.in_(ACTIVE))
        .group_by(ProcessInstance.definition_key)).all())
    return [KeySummary(d.key, d.name, d.version, d.id, versions, running.get(d.key, 0), d.deployed_at, d.deployed_by)
            for d, versions in rows]


def get_version(session: so.Session, key: str, version: int) -> ProcessDefinition:
    """One version of a key (the CLI names versions by number); ``NotFound`` otherwise."""
    found = session.scalar(sa.select(ProcessDefinition).where(ProcessDefinition.key == key,
                                                              ProcessDefinition.version == version))
    if found is None:
        raise NotFound(f"Process '{key}' has no version {version}", code="definition.unknown-version", key=key,
                       version=version)
    return found


def _running_as_called(session: so.Session, key: str) -> Counter:
    """Counted only for processes some deployed process calls: the called definitions are a JSON list,
    matched as text and then exactly."""
    callers = [keys for keys in session.scalars(sa.select(ProcessDefinition.called_keys)) if keys and key in keys]
    if not callers:
        return Counter()
    pattern = f'%"{key}:%'
    lists = session.scalars(sa.select(ProcessInstance.called_definition_ids).where(
        ProcessInstance.status.in_(ACTIVE), sa.cast(ProcessInstance.called_definition_ids, sa.Text).like(pattern)))
    return Counter(i for ids in lists for i in ids or [] if i.split(":", 1)[0] == key)
