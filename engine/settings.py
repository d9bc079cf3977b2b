"""All configuration in one place: environment variables with documented defaults.

Every process (web server, worker, scheduler, CLI) reads its settings through
``Settings.from_env()`` once at start-up and passes the frozen object on, so no
module reads ``os.environ`` by itself.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: 好差评 levels (State Council office 2019 No. 51); the last two are bad ratings
RATING_LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'instance' / 'onewindow.db'}"


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Field docs double as the README's settings table."""

    #: ONEWINDOW_DATABASE_URL or DATABASE_URL — SQLAlchemy URL; SQLite file for the demo.
    database_url: str = field(default_factory=_default_database_url)
    #: ONEWINDOW_SECRET_KEY — signs the pages' session cookies and CSRF tokens and the applicants' rating links.
    #: No default: without it the pages refuse to serve (503, logged); `onewindow demo` keeps a random key of its
    #: own in the data folder (``secret_key_file``).
    secret_key: str | None = None
    #: ONEWINDOW_PROCESSES_DIR — BPMN files deployed by `onewindow deploy` / `make demo`.
    processes_dir: Path = PROJECT_ROOT / "processes"
    #: ONEWINDOW_FORMS_DIR — JSON Schema files, one per user-task form key.
    forms_dir: Path = PROJECT_ROOT / "forms"
    #: ONEWINDOW_MAX_BPMN_BYTES — largest BPMN document accepted for deployment.
    max_bpmn_bytes: int = 5 * 1024 * 1024
    #: ONEWINDOW_MAX_REQUEST_BYTES — largest HTTP request body (room for several material files at once).
    max_request_bytes: int = 100 * 1024 * 1024
    #: ONEWINDOW_SCRIPT_TIME_LIMIT — seconds a script task may run before it is stopped.
    script_time_limit: float = 2.0
    #: ONEWINDOW_LONG_POLL_MAX_MS — upper bound for fetchAndLock asyncResponseTimeout.
    long_poll_max_ms: int = 60_000
    #: ONEWINDOW_LONG_POLL_INTERVAL_MS — how often a long poll re-checks for work.
    long_poll_interval_ms: int = 200
    #: ONEWINDOW_SPEC_CACHE_SIZE — parsed process specs kept in memory per process.
    spec_cache_size: int = 256

    #: ONEWINDOW_TIMEZONE — the center's time zone: local dates, office hours, timer dates without offset.
    timezone: str = "Asia/Shanghai"
    #: ONEWINDOW_OFFICE_CLOSES_AT — HH:MM; a deadline day ends then (end of a working day).
    office_closes_at: str = "17:00"
    #: ONEWINDOW_WARNING_WORKING_DAYS — a case turns yellow with less than this many working days left.
    warning_working_days: int = 1
    #: ONEWINDOW_SCHEDULER_INTERVAL — seconds between two rounds of a scheduler looking for due timers.
    scheduler_interval: float = 1.0
    #: ONEWINDOW_SCHEDULER_BATCH — due timers one scheduler claims per transaction.
    scheduler_batch: int = 50
    #: ONEWINDOW_TIMER_RETRIES — attempts for a timer whose firing fails before an incident is raised.
    timer_retries: int = 3
    #: ONEWINDOW_TIMER_RETRY_DELAY — seconds before a failed timer firing is tried again.
    timer_retry_delay: float = 60.0

    #: ONEWINDOW_UPLOADS_DIR — where received materials (files) are kept, outside the database.
    uploads_dir: Path = PROJECT_ROOT / "instance" / "uploads"
    #: ONEWINDOW_DOCUMENTS_DIR — signed documents the workers write; the pages serve files from here only.
    documents_dir: Path = PROJECT_ROOT / "instance" / "documents"
    #: ONEWINDOW_MAX_UPLOAD_BYTES — largest material file accepted.
    max_upload_bytes: int = 20 * 1024 * 1024
    #: ONEWINDOW_RATING_WAIT_DAYS — working days an applicant has to rate a service (好差评) before the default counts.
    rating_wait_days: int = 5
    #: ONEWINDOW_RATING_DEFAULT — the rating recorded when none arrives in time (one of the five levels).
    rating_default: str = "满意"
    #: ONEWINDOW_BAD_RATING_FIX_DAYS — working days to rectify after a bad rating's return visit.
    bad_rating_fix_days: int = 15
    #: ONEWINDOW_SESSION_IDLE_MINUTES — a signed-in clerk who does nothing this long is signed out.
    session_idle_minutes: int = 120
    #: ONEWINDOW_SESSION_MAX_HOURS — no sign-in lasts longer than this (a working day and a bit).
    session_max_hours: int = 12
    #: ONEWINDOW_SECURE_COOKIES — send the session cookie over HTTPS only (set it behind TLS).
    secure_cookies: bool = False
    #: ONEWINDOW_CASE_NUMBER_PREFIX — first part of every case number (办件编号), e.g. QP-SCJ-20261125-0001.
    case_number_prefix: str = "QP"

    # --- sign-in and HTTP hardening (api/http_security.py, engine/password_checks.py) ---
    #: ONEWINDOW_PROXY_COUNT — reverse proxies in front of the app that append to X-Forwarded-For (and set
    #: X-Forwarded-Proto); 0 trusts no such header. The address throttling and the audit log see is the client's
    #: only when this is right: too low and every clerk has the proxy's address, too high and callers pick theirs.
    proxy_count: int = 0
    #: ONEWINDOW_API_BASIC_AUTH — accept HTTP Basic passwords on /engine-rest (throttled and audited like the
    #: sign-in page); false leaves Bearer tokens only, the credential machines should use anyway.
    api_basic_auth: bool = True

    # --- bounds on what callers may ask for: a number means something, and is refused beyond it ---
    #: ONEWINDOW_MAX_LOCK_MS — longest external-task lock a worker may take or extend to (lockDuration, newDuration).
    max_lock_ms: int = 24 * 60 * 60 * 1000
    #: ONEWINDOW_MAX_RETRY_TIMEOUT_MS — longest a worker may ask a failed task to wait before it is fetched again.
    max_retry_timeout_ms: int = 30 * 24 * 60 * 60 * 1000

    _ENV_NAMES = {
        "database_url": ("ONEWINDOW_DATABASE_URL", "DATABASE_URL"),
    }

    def __post_init__(self) -> None:
        for name in ("max_lock_ms", "max_retry_timeout_ms"):
            if not 0 < getattr(self, name) <= 366 * 24 * 60 * 60 * 1000:
                raise ValueError(f"ONEWINDOW_{name.upper()} must be from 1 ms to a year, got {getattr(self, name)}")
        if self.rating_default not in RATING_LEVELS:
            raise ValueError(f"ONEWINDOW_RATING_DEFAULT must be one of {'、'.join(RATING_LEVELS)}, "
                             f"got {self.rating_default!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read settings from the environment; explicit overrides win (tests, CLI flags)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name.startswith("_"):
                continue
            for name in cls._ENV_NAMES.get(f.name, (f"ONEWINDOW_{f.name.upper()}",)):
                if name in env and env[name] != "":
                    values[f.name] = _coerce(f.type, env[name])
                    break
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    @property
    def secret_key_file(self) -> Path:
        """Where a demo keeps its own random key: the data folder, beside the uploads and documents."""
        return self.uploads_dir.parent / "secret_key"

    def with_kept_secret(self) -> "Settings":
        """These settings with a secret key: the configured one, or else a random key made once and kept in
        ``secret_key_file`` (mode 0600), so a restarted demo keeps its sign-ins and rating links. Settled
        before the app is built: the cookies, the CSRF tokens and the rating links are signed with one key."""
        if self.secret_key:
            return self
        path = self.secret_key_file
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
                file.write(secrets.token_urlsafe(32))
        except FileExistsError:
            pass  # made by an earlier run (or a second process starting at the same moment)
        return replace(self, secret_key=path.read_text().strip())


def _coerce(type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "Path":
        return Path(raw)
    if kind == "bool":
        if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
            raise ValueError(f"expected true or false, got {raw!r}")
        return raw.lower() in ("1", "true", "yes")
    return raw
