"""Worker configuration: environment variables with documented defaults (README lists them).

Workers are separate processes that may run on other machines; they know the
engine only by its URL and a bearer token, and keep their own small store of
side effects done (``workers.ledger``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class WorkerSettings:
    #: ONEWINDOW_ENGINE_URL — the engine's Camunda REST base URL.
    engine_url: str = "http://127.0.0.1:5000/engine-rest"
    #: ONEWINDOW_WORKER_TOKEN — bearer token of a user with the worker role (`onewindow token worker`).
    worker_token: str = ""
    #: ONEWINDOW_WORKER_THREADS — tasks worked on at once per worker process.
    worker_threads: int = 4
    #: ONEWINDOW_WORKER_LOCK_MS — how long a fetched task stays locked to this worker.
    worker_lock_ms: int = 60_000
    #: ONEWINDOW_WORKER_STORE_URL — SQLAlchemy URL of the workers' ledger of side effects (idempotency).
    worker_store_url: str = field(default_factory=lambda: f"sqlite:///{PROJECT_ROOT / 'instance' / 'worker-store.db'}")
    #: ONEWINDOW_DOCUMENTS_DIR — where receipts, notices and certificates (PDF) are written.
    documents_dir: Path = PROJECT_ROOT / "instance" / "documents"
    #: ONEWINDOW_SEAL_DIR — the electronic seal's key and certificate (a demo key is made here if missing).
    seal_dir: Path = PROJECT_ROOT / "instance" / "seal"
    #: ONEWINDOW_SMTP_HOST — mail relay for notices to applicants and departments.
    smtp_host: str = "127.0.0.1"
    #: ONEWINDOW_SMTP_PORT — its port (`make demo` runs a local debugging SMTP server on 8025).
    smtp_port: int = 8025
    #: ONEWINDOW_MAIL_FROM — sender of notices.
    mail_from: str = "noreply@zwfw.qingpu.gov.cn"
    #: ONEWINDOW_DEPARTMENT_MAIL_DOMAIN — departments get mail at <department code>@<domain>.
    department_mail_domain: str = "qingpu.gov.cn"
    #: ONEWINDOW_SHARED_DATA_URL — the e-licence / shared data service (`make demo` runs a local stand-in).
    shared_data_url: str = "http://127.0.0.1:5001"
    #: ONEWINDOW_RATING_URL — where applicants rate a service (好差评); the case number is appended.
    rating_url: str = "http://127.0.0.1:5000/rate/"
    #: ONEWINDOW_CENTER_NAME — the issuing center's name on documents.
    center_name: str = "上海市青浦区政务服务中心"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "WorkerSettings":
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"ONEWINDOW_{f.name.upper()}")
            if raw:
                values[f.name] = int(raw) if f.type == "int" else Path(raw) if f.type == "Path" else raw
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes: Any) -> "WorkerSettings":
        return replace(self, **changes)
