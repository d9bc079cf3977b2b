"""Typed SQLAlchemy 2 models of everything the engine persists.

The serialized SpiffWorkflow state of an instance is the source of truth;
the user-task, external-task and subscription tables are projections of it,
rewritten in the same transaction as the state, so queries never have to
deserialize workflows. Every index here matches a query in the engine or API.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from .db import Base

class UTCDateTime(sa.TypeDecorator):
    """Timezone-aware UTC on every backend: SQLite keeps naive UTC text, PostgreSQL timestamptz."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; the engine stores aware UTC times")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Deployment(Base):
    __tablename__ = "deployment"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    source: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    deployed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    deployed_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))


class ProcessDefinition(Base):
    """One executable BPMN process, one row per version of its key."""

    __tablename__ = "process_definition"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)

    id: so.Mapped[str] = so.mapped_column(sa.String(200), primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(150), index=True)
    version: so.Mapped[int]
    name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    deployment_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("deployment.id"), index=True)
    resource_name: so.Mapped[str] = so.mapped_column(sa.String(255))
    checksum: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    dialect: so.Mapped[str] = so.mapped_column(sa.String(16))
    #: deferred: loaded only when a spec is parsed (cache miss) or the XML is asked for
    xml: so.Mapped[str] = so.mapped_column(sa.Text, deferred=True)
    #: keys of processes this one calls through call activities (resolved at start)
    called_keys: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    deployed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    deployed_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (sa.Index("ix_process_instance_status_started", "status", "started_at"),
                      sa.Index("ix_process_instance_definition_status", "definition_id", "status"),
                      sa.Index("ix_process_instance_started", "started_at", "id"),
                      sa.Index("ix_process_instance_department_started", "department", "started_at", "id"),
                      sa.Index("ix_process_instance_item_started", "item_code", "started_at", "id"),
                      sa.Index("ix_process_instance_applicant", "applicant_name",
                               postgresql_ops={"applicant_name": "varchar_pattern_ops"}))

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    definition_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("process_definition.id"), index=True)
    definition_key: so.Mapped[str] = so.mapped_column(sa.String(150), index=True)
    business_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255), index=True)
    #: running | suspended | completed | cancelled
    status: so.Mapped[str] = so.mapped_column(sa.String(16))
    state: so.Mapped[str] = so.mapped_column(sa.Text)
    #: definitions of called processes, pinned when the instance started
    called_definition_ids: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    lock_version: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    started_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    ended_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    end_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    #: what supervisors filter cases by, copied from the case when it is received (null for other processes)
    item_code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    item_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    department: so.Mapped[Optional[str]] = so.mapped_column(sa.String(50))
    applicant_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))

    __mapper_args__ = {"version_id_col": lock_version}


class WaitingActivity:
    """Columns every projection of a waiting task shares; ``id`` is SpiffWorkflow's task id."""

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    instance_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    definition_id: so.Mapped[str] = so.mapped_column(sa.String(200))
    definition_key: so.Mapped[str] = so.mapped_column(sa.String(150))
    business_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    activity_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    #: the definition whose file holds the element (a called process's, for its tasks): heat maps count by it
    element_definition_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))


class UserTask(WaitingActivity, Base):
    """Projection of a READY user task, for inbox queries."""

    __tablename__ = "user_task"
    # prefix searches (LIKE 'x%') use these on PostgreSQL only with the pattern operator class
    __table_args__ = (sa.Index("ix_user_task_business_key", "business_key",
                               postgresql_ops={"business_key": "varchar_pattern_ops"}),
                      sa.Index("ix_user_task_applicant", "applicant_name",
                               postgresql_ops={"applicant_name": "varchar_pattern_ops"}),
                      sa.Index("ix_user_task_urgency", "due_at", "created_at", "id"),
                      sa.Index("ix_user_task_element", "element_definition_id", "activity_id"))

    name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    #: what an inbox shows of the case without loading it: the item and the applicant (办件 context)
    item_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    applicant_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    form_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    assignee: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100), index=True)
    priority: so.Mapped[int] = so.mapped_column(default=50)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)
    due_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime(), index=True)
    follow_up_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    suspended: so.Mapped[bool] = so.mapped_column(default=False)

    candidates: so.Mapped[list["TaskCandidate"]] = so.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )

    @property
    def candidate_groups(self) -> list[str]:
        return sorted(c.group_id for c in self.candidates if c.group_id)

    @property
    def candidate_users(self) -> list[str]:
        return sorted(c.user_id for c in self.candidates if c.user_id)


class TaskCandidate(Base):
    __tablename__ = "task_candidate"
    __table_args__ = (
        sa.Index("ix_task_candidate_group", "group_id"),
        sa.Index("ix_task_candidate_user", "user_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=True)
    task_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("user_task.id", ondelete="CASCADE"), index=True)
    group_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    user_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))


class CaseFile(Base):
    """A material file a case received (``engine.materials.attach``): downloads are served for these only."""

    __tablename__ = "case_file"

    instance_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
                                                   primary_key=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)


class Involvement(Base):
    """A user or group that takes or took part in an instance (``engine.involvement``): kept after its tasks."""

    __tablename__ = "involvement"
    __table_args__ = (sa.Index("ix_involvement_party", "kind", "party", "instance_id"),)

    instance_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
                                                   primary_key=True)
    #: "user", "group" or "department" (of a department-scoped group)
    kind: so.Mapped[str] = so.mapped_column(sa.String(12), primary_key=True)
    party: so.Mapped[str] = so.mapped_column(sa.String(100), primary_key=True)


class ExternalTask(WaitingActivity, Base):
    """A service task waiting for a worker: the fetch-and-lock queue."""

    __tablename__ = "external_task"
    __table_args__ = (sa.Index("ix_external_task_fetch", "topic", "priority", "created_at"),
                      sa.Index("ix_external_task_element", "element_definition_id", "activity_id"))

    topic: so.Mapped[str] = so.mapped_column(sa.String(255))
    priority: so.Mapped[int] = so.mapped_column(default=0)
    worker_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    lock_expires_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    retries: so.Mapped[Optional[int]]
    error_message: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    error_details: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    suspended: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (sa.Index("ix_incident_element", "element_definition_id", "activity_id", "resolved_at"),)

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    instance_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    definition_id: so.Mapped[str] = so.mapped_column(sa.String(200))
    activity_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    element_definition_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    incident_type: so.Mapped[str] = so.mapped_column(sa.String(50))
    #: the external task id for failedExternalTask incidents
    configuration: so.Mapped[Optional[str]] = so.mapped_column(sa.String(36), index=True)
    message: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    resolved_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime(), index=True)


class MessageSubscription(Base):
    """A waiting message catch event (instance set) or a message start event (instance null)."""

    __tablename__ = "message_subscription"
    __table_args__ = (sa.Index("ix_message_subscription_element", "element_definition_id", "activity_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=True)
    message_name: so.Mapped[str] = so.mapped_column(sa.String(255), index=True)
    instance_id: so.Mapped[Optional[str]] = so.mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    definition_id: so.Mapped[str] = so.mapped_column(sa.String(200))
    activity_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    element_definition_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    task_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(36))
    business_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the migration)."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_instance_at", "instance_id", "id"),
                      sa.Index("ix_audit_log_entity_action", "entity_id", "action", "at"))

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    actor: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    instance_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(36))
    entity_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)


class Department(Base):
    __tablename__ = "department"

    code: so.Mapped[str] = so.mapped_column(sa.String(50), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(255))


class User(Base):
    __tablename__ = "app_user"

    username: so.Mapped[str] = so.mapped_column(sa.String(100), primary_key=True)
    password_hash: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    display_name: so.Mapped[str] = so.mapped_column(sa.String(255))
    department: so.Mapped[Optional[str]] = so.mapped_column(sa.ForeignKey("department.code"))
    #: roles (admin, designer, worker, supervisor, window-clerk, ...) double as candidate groups
    groups: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class ApiToken(Base):
    """Bearer tokens for workers and integrations; only the SHA-256 of the secret is kept."""

    __tablename__ = "api_token"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(255))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    username: so.Mapped[str] = so.mapped_column(sa.ForeignKey("app_user.username"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())


class Timer(Base):
    """A due timer: a waiting timer event of an instance, or a timer start event of a definition.

    Instance timers use SpiffWorkflow's task id as ``id`` and are a projection
    of the workflow state like user tasks; start timers (``instance_id`` null)
    carry their own schedule (``remaining``, ``period_seconds``, ``cron``).
    Schedulers claim due rows with row locks, so each fires exactly once.
    """

    __tablename__ = "timer"
    __table_args__ = (sa.Index("ix_timer_due", "due_at"),
                      sa.Index("ix_timer_element", "element_definition_id", "activity_id"))

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    instance_id: so.Mapped[Optional[str]] = so.mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    definition_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("process_definition.id", ondelete="CASCADE"), index=True
    )
    activity_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    element_definition_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    #: boundary | intermediate | start
    event_kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    #: the expression's value, for people reading the timer list (e.g. "R3/PT10M")
    description: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    #: start timers only: firings left after this one (-1 = unbounded) and how the next is computed
    remaining: so.Mapped[int] = so.mapped_column(default=0)
    period_seconds: so.Mapped[Optional[float]]
    cron: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    #: a firing that fails is retried later; at 0 an incident is raised and the timer waits
    retries: so.Mapped[int] = so.mapped_column(default=3)
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    suspended: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class CalendarYear(Base):
    """An official year arrangement (国务院办公厅放假安排) loaded by an administrator."""

    __tablename__ = "calendar_year"

    year: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    #: the arrangement document as loaded (JSON, see engine.calendar.parse_arrangement)
    arrangement: so.Mapped[str] = so.mapped_column(sa.Text)
    loaded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    loaded_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))


class CalendarRule(Base):
    """A local override of one day: a center closure, or a special working day."""

    __tablename__ = "calendar_rule"

    day: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    workday: so.Mapped[bool]
    note: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    created_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))


class CalendarRevision(Base):
    """One row whose counter moves with every calendar change, so every node can tell
    whether its cached calendar is current with a single-row read."""

    __tablename__ = "calendar_revision"

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    revision: so.Mapped[int] = so.mapped_column(default=0)


class CaseClock(Base):
    """The statutory clock of one case (办件): receipt, acceptance, limits, deadlines, warnings.

    Deadlines are stored (not computed on read) so supervisors can query
    overdue cases with an index; ``next_check_at`` is when the stored state
    may next change by the passing of time, which the scheduler watches.
    """

    __tablename__ = "case_clock"
    __table_args__ = (sa.Index("ix_case_clock_warning", "warning_state", "closed_at"),
                      # the clocks that still run (a few in a hundred): warning counts and the deadline order
                      sa.Index("ix_case_clock_open_warning", "department", "warning_state",
                               postgresql_where=sa.text("closed_at IS NULL"), sqlite_where=sa.text("closed_at IS NULL")),
                      sa.Index("ix_case_clock_open_deadline", "promised_deadline_at", "instance_id",
                               postgresql_where=sa.text("closed_at IS NULL"), sqlite_where=sa.text("closed_at IS NULL")))

    instance_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True
    )
    business_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    item_code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    #: the implementing department, copied from the case: warning counts per department read one index
    department: so.Mapped[Optional[str]] = so.mapped_column(sa.String(50))
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    #: pending | supplement-requested | accepted
    acceptance: so.Mapped[str] = so.mapped_column(sa.String(24))
    accepted_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    #: art. 32: without a supplement notice by then, the case counts as accepted on receipt
    acceptance_due_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    supplement_requested_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    #: every item the supplement notices listed (一次性告知: a later notice may add items only with a reason)
    supplement_items: so.Mapped[Optional[list[str]]] = so.mapped_column(sa.JSON)
    legal_limit_days: so.Mapped[Optional[int]]
    promised_limit_days: so.Mapped[Optional[int]]
    #: the item (or a local rule) lets a site survey stop the clock
    site_survey_suspends: so.Mapped[bool] = so.mapped_column(default=False)
    #: joint or centralized handling (45 working days, one extension of 15)
    joint_handling: so.Mapped[bool] = so.mapped_column(default=False)
    extension_days: so.Mapped[int] = so.mapped_column(default=0)
    extended_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    extended_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    extension_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    #: working days of finished suspensions (挂起), added to every deadline
    suspended_days: so.Mapped[int] = so.mapped_column(default=0)
    suspended_since: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    legal_deadline_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime(), index=True)
    promised_deadline_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime(), index=True)
    #: a deadline reaches into a year with no official arrangement loaded
    estimated: so.Mapped[bool] = so.mapped_column(default=False)
    #: normal | yellow | red
    warning_state: so.Mapped[str] = so.mapped_column(sa.String(8), default="normal")
    next_check_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime(), index=True)
    closed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    #: how the clock stopped: decided | not-accepted | ended (withdrawn, cancelled, completed without a decision)
    outcome: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    #: working days from acceptance to the decision, pauses excluded (art. 45), and whether within the deadline
    working_days_used: so.Mapped[Optional[int]]
    on_time: so.Mapped[Optional[bool]]
    lock_version: so.Mapped[int] = so.mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class ClockSuspension(Base):
    """One special procedure that stops the case clock (Administrative Licensing Law art. 45)."""

    __tablename__ = "clock_suspension"

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=True)
    instance_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("case_clock.instance_id", ondelete="CASCADE"), index=True
    )
    #: hearing | tendering | auction | inspection | testing | quarantine | appraisal | expert-review | site-survey
    procedure: so.Mapped[str] = so.mapped_column(sa.String(32))
    legal_basis: so.Mapped[str] = so.mapped_column(sa.Text)
    requested_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    expected_days: so.Mapped[int]
    #: the written notice to the applicant of the expected duration (告知书)
    applicant_notice: so.Mapped[str] = so.mapped_column(sa.Text)
    ended_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    ended_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    result: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    working_days: so.Mapped[Optional[int]]


class SupervisionNotice(Base):
    """Outbox of supervision notices (督办提醒): the console lists them, workers deliver them."""

    __tablename__ = "supervision_notice"
    __table_args__ = (sa.Index("ix_supervision_notice_pending", "delivered_at", "id"),)

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    instance_id: so.Mapped[str] = so.mapped_column(
        sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    business_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    #: yellow | red | auto-accepted | ...
    kind: so.Mapped[str] = so.mapped_column(sa.String(24))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    delivered_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())


class CatalogueItem(Base):
    """One version of an item of the catalogue (事项清单); a change adds a version, nothing is overwritten.

    Cases copy the version they were accepted under into their variables
    (rule 13), so a later change never moves a running case. The columns are
    what the engine routes and counts by; ``details`` keeps the rest of the
    national catalogue's fields (legal basis, fees, place, online depth, ...),
    checked by ``engine.catalogue_fields``.
    """

    __tablename__ = "catalogue_item"
    __table_args__ = (sa.UniqueConstraint("code", "version"), sa.Index("ix_catalogue_item_current", "code", "current"))

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    #: implementation code (实施编码), unique per item
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    version: so.Mapped[int]
    current: so.Mapped[bool] = so.mapped_column(default=True)
    #: basic code (基本编码) of the national basic catalogue: the item one implementation carries out
    basic_code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(255))
    department: so.Mapped[str] = so.mapped_column(sa.ForeignKey("department.code"), index=True)
    #: 行政许可 / 行政确认 / 其他行政权力 / 一件事
    item_type: so.Mapped[str] = so.mapped_column(sa.String(32))
    #: GB/T 39046-2020 case type: 1 即办件, 2 承诺件, 9 其他
    case_type: so.Mapped[str] = so.mapped_column(sa.String(2))
    legal_limit_days: so.Mapped[int]
    promised_limit_days: so.Mapped[int]
    accepted_on_receipt: so.Mapped[bool] = so.mapped_column(default=False)
    written_review_only: so.Mapped[bool] = so.mapped_column(default=False)
    site_survey: so.Mapped[bool] = so.mapped_column(default=False)
    site_survey_suspends_clock: so.Mapped[bool] = so.mapped_column(default=False)
    #: 联办件 / 报批件 are pre-reviewed by the representative and decided by the department
    handling: so.Mapped[str] = so.mapped_column(sa.String(16), default="standard")
    process_key: so.Mapped[str] = so.mapped_column(sa.String(255))
    form_key: so.Mapped[str] = so.mapped_column(sa.String(255))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="active")
    #: first and last day (inclusive, local) the item takes new applications; open-ended when null
    effective_from: so.Mapped[Optional[date]]
    effective_to: so.Mapped[Optional[date]]
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    created_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))


class Authorization(Base):
    """A written authorization (授权书): who may decide, pre-review, seal, receive or issue which items, when."""

    __tablename__ = "authorization"
    __table_args__ = (sa.Index("ix_authorization_holder", "username", "department"),)

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.ForeignKey("app_user.username"))
    department: so.Mapped[str] = so.mapped_column(sa.ForeignKey("department.code"))
    #: chief-representative | window
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    #: item codes covered; null means every item of the department
    item_codes: so.Mapped[Optional[list[str]]] = so.mapped_column(sa.JSON)
    #: decide, pre-review, seal (representative); receive, issue, consult (window)
    powers: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    valid_from: so.Mapped[date]
    valid_to: so.Mapped[date]
    signed_by: so.Mapped[str] = so.mapped_column(sa.String(255))
    document_number: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    revoked_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class EntryConfirmation(Base):
    """An entry confirmation (入驻事项确认书): the items a department handles in the center (进驻到位, rule 1).

    Signed by the department's head and confirmed by the center office (区政务办). The newest confirmation
    in force is the department's whole list: a new one replaces the list rather than adding to it, so an
    item dropped from it stops being received. A case of an item on no list in force is not received, and
    no authorization letter is granted for such an item (``engine.entry_confirmations``)."""

    __tablename__ = "entry_confirmation"
    __table_args__ = (sa.Index("ix_entry_confirmation_department_from", "department", "valid_from"),)

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    department: so.Mapped[str] = so.mapped_column(sa.ForeignKey("department.code"))
    #: the document's number (文号), unique: it is how the department and the center office cite it
    document_number: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    #: the department's head who signed it
    signed_by: so.Mapped[str] = so.mapped_column(sa.String(255))
    #: who confirmed it for the center office (区政务办)
    confirmed_by: so.Mapped[str] = so.mapped_column(sa.String(255))
    valid_from: so.Mapped[date]
    #: last day in force (inclusive, local); open-ended when null (until revoked or replaced)
    valid_to: so.Mapped[Optional[date]]
    #: implementation codes of the items handled in the center
    item_codes: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    revoked_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    created_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))


class CaseSequence(Base):
    """Next case number (办件编号) per department and day; rows are locked while a number is taken."""

    __tablename__ = "case_sequence"

    department: so.Mapped[str] = so.mapped_column(sa.String(50), primary_key=True)
    day: so.Mapped[date] = so.mapped_column(primary_key=True)
    last: so.Mapped[int] = so.mapped_column(default=0)


class TaskDraft(Base):
    """What a clerk typed into a task's form and saved without completing (one draft per task)."""

    __tablename__ = "task_draft"

    task_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("user_task.id", ondelete="CASCADE"), primary_key=True)
    saved_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    saved_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    data: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)


class ProcessDraft(Base):
    """A BPMN file a designer is working on (uploaded or edited in the web modeler), not yet a version:
    clerks never see it; deploying it makes versions of the processes it holds."""

    __tablename__ = "process_draft"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    resource_name: so.Mapped[str] = so.mapped_column(sa.String(255))
    xml: so.Mapped[str] = so.mapped_column(sa.Text)
    #: counts saves; a save names the revision it edited, so two designers cannot overwrite each other
    revision: so.Mapped[int] = so.mapped_column(default=1)
    #: the version the draft started from, if any (for the diff against what runs)
    based_on: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    created_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    updated_by: so.Mapped[str] = so.mapped_column(sa.String(100))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)
    #: validate + lint findings (``Finding.as_dict``) of revision ``report_revision``, computed when it was saved
    report: so.Mapped[Optional[list[dict[str, Any]]]] = so.mapped_column(sa.JSON)
    report_revision: so.Mapped[Optional[int]] = so.mapped_column()
    deployment_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(36))
    deployed_revision: so.Mapped[Optional[int]]


class SignInSession(Base):
    """A clerk's sign-in, from the password to sign-out or timeout: the cookie holds a secret whose
    SHA-256 is this row's id, so signing out (or an administrator) really ends it."""

    __tablename__ = "sign_in_session"
    #: "has this name signed in from this address lately?" (engine.password_checks: known addresses)
    __table_args__ = (sa.Index("ix_sign_in_session_username_remote_started", "username", "remote", "started_at"),)

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.ForeignKey("app_user.username"), index=True)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    ended_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime())
    #: sign-out | idle | expired | disabled
    end_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    remote: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))


class SignInFailure(Base):
    """A failed password check (page or HTTP Basic), counted per name, per address and per pair to make the
    next attempts wait (engine.password_checks); rows older than a day are deleted."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (sa.Index("ix_sign_in_failure_username_at", "username", "at"),
                      sa.Index("ix_sign_in_failure_remote_at", "remote", "at"),
                      sa.Index("ix_sign_in_failure_at", "at"))

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(100))
    remote: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class CaseDayStat(Base):
    """The center's indicators per day, department and item, counted when things happen (a receipt, a
    close, a rating), so the dashboard reads a few thousand rows however many cases there are."""

    __tablename__ = "case_day_stat"
    __table_args__ = (sa.Index("ix_case_day_stat_department_day", "department", "day"),)

    day: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    department: so.Mapped[str] = so.mapped_column(sa.String(50), primary_key=True)
    item_code: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    received: so.Mapped[int] = so.mapped_column(default=0)
    #: received through the 一网通办 portal (网办)
    online: so.Mapped[int] = so.mapped_column(default=0)
    #: instant items (即办件, GB/T 39046 case type 1)
    instant: so.Mapped[int] = so.mapped_column(default=0)
    #: cases whose handling ended this day: decided, or not accepted (办结)
    completed: so.Mapped[int] = so.mapped_column(default=0)
    #: of those, ended within the promised (or else the legal) deadline
    on_time: so.Mapped[int] = so.mapped_column(default=0)
    #: decided cases, with the working days they used (pauses excluded) and the days they were promised
    decided: so.Mapped[int] = so.mapped_column(default=0)
    working_days_used: so.Mapped[int] = so.mapped_column(default=0)
    promised_days: so.Mapped[int] = so.mapped_column(default=0)
    #: ratings recorded this day, by level: 非常满意, 满意, 基本满意, 不满意, 非常不满意
    rated_1: so.Mapped[int] = so.mapped_column(default=0)
    rated_2: so.Mapped[int] = so.mapped_column(default=0)
    rated_3: so.Mapped[int] = so.mapped_column(default=0)
    rated_4: so.Mapped[int] = so.mapped_column(default=0)
    rated_5: so.Mapped[int] = so.mapped_column(default=0)
