"""Synthetic cases for load measurements: many instances, their clocks and their indicators, written
set-wise, so the supervisors' list and dashboard can be measured at a million cases.

The instances carry the columns the lists read (item, department, applicant,
status, times) and a case clock, but no workflow state: they are for a bench
database, never for one where clerks work (opening one's diagram would fail).
Receipts are spread over the chosen number of days before now; nine in ten
cases are closed, most of them on time; the rest run, some yellow or red.
"""
from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

import sqlalchemy.orm as so

from . import indicators
from .catalogue import items
from .context import services
from .deploy import latest_definition
from .errors import InvalidInput
from .models import CaseClock, ProcessInstance
from .settings import RATING_LEVELS

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
STATE = '{"format":"synthetic"}'


@dataclass(frozen=True)
class Batch:
    written: int
    total: int


def seed_cases(session_factory: so.sessionmaker, count: int, *, days: int = 365, batch: int = 5000,
               seed: int = 7, start_number: int = 0) -> Iterator[Batch]:
    """Write ``count`` cases, a transaction per batch; yields after each (for a progress bar)."""
    if count < 1 or days < 1:
        raise InvalidInput("count and days must be positive")
    rng = random.Random(seed + start_number)
    with session_factory.begin() as session:
        definition = latest_definition(session, "window_intake")
        if definition is None:
            raise InvalidInput("Deploy processes/ first: the synthetic cases run under window_intake")
        catalogue = [(i.code, i.name, i.department, i.case_type, i.promised_limit_days, i.legal_limit_days)
                     for i in items(session) if i.process_key == "window_intake"]
        now = services(session).clock.now()
    written = 0
    while written < count:
        size = min(batch, count - written)
        with session_factory.begin() as session:
            _write(session, rng, definition.id, catalogue, now, days, start_number + written, size)
        written += size
        yield Batch(written, count)


def _write(session: so.Session, rng: random.Random, definition_id: str, catalogue: list, now: datetime, days: int,
           first: int, size: int) -> None:
    instances, clocks = [], []
    counts: dict[tuple, Counter] = defaultdict(Counter)
    for n in range(first, first + size):
        code, name, department, case_type, promised, legal = rng.choice(catalogue)
        received = now - timedelta(seconds=rng.uniform(0, days * 86400))
        instance_id = str(uuid.UUID(int=rng.getrandbits(128)))
        limit_days = promised if promised is not None else legal
        deadline = received + timedelta(days=max(limit_days * 1.4, 0.4))  # an instant item: the same day
        ended = received + timedelta(days=rng.uniform(0, limit_days * 1.6 + 0.3))
        status = "completed" if ended < now and rng.random() < 0.98 else ("cancelled" if ended < now else "running")
        channel = "online" if rng.random() < 0.45 else "window"
        instances.append({"id": instance_id, "definition_id": definition_id, "definition_key": "window_intake",
                          "business_key": f"QP-SYN-{n:08d}", "status": status, "state": STATE,
                          "called_definition_ids": [], "lock_version": 1, "started_at": received,
                          "started_by": "synthetic", "ended_at": ended if status != "running" else None,
                          "item_code": code, "item_name": name, "department": department,
                          "applicant_name": rng.choice(SURNAMES) + rng.choice(SURNAMES) + rng.choice("明华强军芳静")})
        closed = ended if status != "running" else None
        warning = "normal" if closed or now < deadline - timedelta(days=1) else ("yellow" if now < deadline else "red")
        clocks.append({"instance_id": instance_id, "business_key": f"QP-SYN-{n:08d}", "item_code": code,
                       "department": department,
                       "received_at": received, "acceptance": "accepted", "accepted_at": received,
                       "legal_limit_days": legal, "promised_limit_days": promised, "site_survey_suspends": False,
                       "joint_handling": False, "extension_days": 0, "suspended_days": 0,
                       "legal_deadline_at": received + timedelta(days=legal * 1.4), "promised_deadline_at": deadline,
                       "estimated": False, "warning_state": warning, "closed_at": closed,
                       "outcome": "decided" if status == "completed" else ("ended" if closed else None),
                       "working_days_used": int((ended - received).days / 1.4) if status == "completed" else None,
                       "on_time": (ended <= deadline) if closed else None, "lock_version": 1})
        tz = services(session).tz
        counts[(received.astimezone(tz).date(), department, code)].update(
            received=1, online=int(channel == "online"), instant=int(case_type == indicators.INSTANT))
        if status == "completed":
            done = counts[(ended.astimezone(tz).date(), department, code)]
            done.update(completed=1, on_time=int(ended <= deadline), decided=1, promised_days=limit_days,
                        working_days_used=int((ended - received).days / 1.4))
            if rng.random() < 0.7:  # most applicants rate, most of them well
                done[f"rated_{rng.choices(range(1, len(RATING_LEVELS) + 1), weights=(60, 25, 10, 3, 2))[0]}"] += 1
    connection = session.connection()  # Core executemany: the ORM's bookkeeping is not needed here
    connection.execute(ProcessInstance.__table__.insert(), instances)
    connection.execute(CaseClock.__table__.insert(), clocks)
    indicators.add_many(session, [{"day": day, "department": department, "item_code": code, **added}
                                  for (day, department, code), added in counts.items()])

