"""Fixtures: every engine and API test runs on SQLite and on PostgreSQL.

SQLite: a migrated template file is copied for each test. PostgreSQL: one
database per test session (``onewindow_test_<pid>``) migrated once, with all
tables truncated before each test (as a replica session, so the audit log's
trigger against TRUNCATE does not fire for the fixture alone). With CI=true a missing PostgreSQL fails
the run instead of skipping.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import requests
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.context import Services
from engine.db import Base, make_engine, make_session_factory
from engine.migrate import upgrade
from engine.settings import Settings

#: the browser tests' fixtures (site, browser) live in tests/browser.py
pytest_plugins = ["tests.browser"]
BPMN_DIR = Path(__file__).parent / "bpmn"
PG_ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = _pg_url(PG_ADMIN_URL)
    name = f"onewindow_test_{os.getpid()}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {admin_url}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {admin_url}")
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "onewindow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # the audit log refuses TRUNCATE (migration 0014) in every normal session; a test's fresh start is
        # no normal session: as a replica, this transaction alone fires no triggers
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Test settings; ``@pytest.mark.settings(name=value)`` changes some for one test."""
    marker = request.node.get_closest_marker("settings")
    return Settings.from_env({}, database_url=database_url, secret_key="test-secret",
                             long_poll_interval_ms=20, uploads_dir=tmp_path / "uploads",
                             **(marker.kwargs if marker else {}))


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Services:
    return Services.create(settings, clock)


@pytest.fixture
def db_engine(settings: Settings) -> Iterator[sa.Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(db_engine: sa.Engine, services: Services):
    return make_session_factory(db_engine, services)


def bpmn(path: str) -> tuple[str, bytes]:
    """A corpus file as a deployment resource: ('name.bpmn', bytes)."""
    file = BPMN_DIR / path
    return file.name, file.read_bytes()


@pytest.fixture
def deploy(sessions):
    """Deploy corpus files (paths relative to tests/bpmn) in one deployment."""
    from engine import deploy as deploy_module

    def _deploy(*paths: str):
        with sessions.begin() as session:
            return deploy_module.deploy(session, [bpmn(p) for p in paths], actor="test")
    return _deploy


USERS = {
    "admin": ["admin"],
    "designer": ["designer"],
    "worker": ["worker"],
    "clerk": ["window-clerk"],
    "approver": ["approval-clerk"],
    "head": ["section-head"],
    "supervisor": ["supervisor"],
    "outsider": [],
}
PASSWORD = "secret-pass-1"


class Api:
    """A test client that signs every request with a user's bearer token."""

    def __init__(self, client, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def _headers(self, user: str | None, headers: dict | None) -> dict:
        out = dict(headers or {})
        if user is not None:
            out["Authorization"] = f"Bearer {self.tokens[user]}"
        return out

    def get(self, url: str, user: str | None = "admin", **kw):
        return self.client.get("/engine-rest" + url, headers=self._headers(user, kw.pop("headers", None)), **kw)

    def post(self, url: str, json=None, user: str | None = "admin", **kw):
        return self.client.post("/engine-rest" + url, json=json,
                                headers=self._headers(user, kw.pop("headers", None)), **kw)

    def put(self, url: str, json=None, user: str | None = "admin", **kw):
        return self.client.put("/engine-rest" + url, json=json,
                               headers=self._headers(user, kw.pop("headers", None)), **kw)

    def delete(self, url: str, user: str | None = "admin", **kw):
        return self.client.delete("/engine-rest" + url, headers=self._headers(user, kw.pop("headers", None)), **kw)

    def deploy(self, *paths: str, user: str = "admin", name: str = "test"):
        data = {"deployment-name": name}
        for index, path in enumerate(paths):
            file = BPMN_DIR / path
            data[f"file{index}"] = (file.open("rb"), file.name)
        return self.client.post("/engine-rest/deployment/create", data=data,
                                headers=self._headers(user, None), content_type="multipart/form-data")


@pytest.fixture
def app(settings: Settings, clock: FixedClock):
    from api import create_app, state
    from engine import identity

    app = create_app(settings, clock=clock, test_config={"TESTING": True})
    tokens = {}
    with state(app).sessions.begin() as session:
        identity.ensure_department(session, identity.CENTER, "区政务服务中心")
        session.flush()
        for username, groups in USERS.items():
            # argon2 hashing is deliberately slow: only the Basic-auth test user gets a password; the supervisor
            # is the center's (a supervisor of no department oversees nothing)
            identity.create_user(session, username, PASSWORD if username == "designer" else None, groups=groups,
                                 department=identity.CENTER if username == "supervisor" else None)
        session.flush()
        for username in USERS:
            tokens[username] = identity.create_token(session, username, "test")
    app.config["TEST_TOKENS"] = tokens
    yield app
    state(app).engine.dispose()


@pytest.fixture
def api(app) -> Api:
    return Api(app.test_client(), app.config["TEST_TOKENS"])


# --- the real server, for tests that drive it over HTTP ----------------------------

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _onewindow(env: dict, *args: str, input_text: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "api.cli_main", *args], cwd=ROOT, env=env, input=input_text,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def server(database_url: str, tmp_path: Path):
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": database_url, "ONEWINDOW_SECRET_KEY": "integration"}
    _onewindow(env, "db", "upgrade")
    _onewindow(env, "user", "create", "robot", "--password", "robot-pass-1", "--group", "worker",
               "--group", "designer", "--group", "window-clerk", "--group", "approval-clerk")
    token = _onewindow(env, "token", "create", "robot", "--name", "integration").splitlines()[-1]
    with serving(["serve"], env, tmp_path / "server.log") as (base, _):
        yield f"{base}/engine-rest", token


@contextmanager
def serving(command: list[str], env: dict, log_path: Path, timeout: float = 60.0):
    """Run `onewindow <command> --port P` as its own process until the API answers; yields the base URL
    and the process, and stops it afterwards. A process that dies or never answers fails with its log."""
    port = _free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "api.cli_main", *command, "--port", str(port)], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while not _answers(f"{base}/engine-rest/engine"):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"`onewindow {' '.join(command)}` did not start: {log_path.read_text()}")
            time.sleep(0.1)
        try:
            yield base, process
        finally:
            process.terminate()
            process.wait(timeout=20)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


# --- the approval paths: a real SMTP server, the shared-data stand-in, worker settings ----------------

class MailBox:
    """Messages a real SMTP server (aiosmtpd) received during a test."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler protocol
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp() -> Iterator[tuple[MailBox, int]]:
    from aiosmtpd.controller import Controller

    box = MailBox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def shared_data_url() -> Iterator[str]:
    from standins.shared_data import serve_in_thread

    server = serve_in_thread()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def seal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo CA and one seal per department for the whole run (RSA key generation is slow)."""
    from workers.handlers import DEPARTMENT_NAMES, WorkerContext
    from workers.seal import ensure_demo_seal
    from workers.settings import WorkerSettings

    directory = tmp_path_factory.mktemp("seal")
    names = WorkerContext(WorkerSettings(), None, None, None)  # only for the holders' names
    for code in DEPARTMENT_NAMES:
        ensure_demo_seal(directory, code, names.holder(code))
    return directory


@pytest.fixture
def worker_settings(tmp_path: Path, smtp, shared_data_url: str, seal_dir: Path):
    from workers.settings import WorkerSettings

    return WorkerSettings(worker_store_url=f"sqlite:///{tmp_path / 'worker-store.db'}",
                          documents_dir=tmp_path / "documents", seal_dir=seal_dir, smtp_port=smtp[1],
                          shared_data_url=shared_data_url)


@pytest.fixture
def center(sessions, clock, worker_settings):
    from .paths import make_center

    made = make_center(sessions, clock, worker_settings)
    yield made
    made.context.ledger.dispose()
